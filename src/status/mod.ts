/**
 * Status: the provider framework behind `/agent/status` and `outpost status`, the built-in
 * providers that read the telemetry registry, the `/debug/vars` expvar server and the
 * process-agent style remote status.
 *
 * @module
 */
export { StatusCollector, type StatusData, type StatusProvider } from "./_collector.ts";
export { COLOR, PLAIN, type Style } from "./_style.ts";
export {
  aggregatorStatusProvider,
  dogstatsdStatusProvider,
  forwarderStatusProvider,
  hostMetadataStatusProvider,
} from "./_providers.ts";
export { statusApiArea } from "./_api.ts";
export {
  buildExpvar,
  type ExpvarComponent,
  type ExpvarDeps,
  type ExpvarSettings,
  expvarSettings,
  expvarSnapshot,
} from "./_expvar.ts";
export { remoteStatus, renderRemoteStatus } from "./_remote.ts";
