/**
 * Host identity: hostname resolution with its provider, the v5 host metadata payload with
 * its cache, the sender that ships it to `/intake/`, and its API routes.
 *
 * @module
 */
export {
  type HostnameInfo,
  type HostnameSettings,
  hostnameWarnings,
  resolveHostname,
} from "./_hostname.ts";
export { AGENT_FLAVOR, BUILD_ARCH, HostMetadata, type HostPayload } from "./_payload.ts";
export {
  buildHostMetadata,
  type HostMetadataComponent,
  type HostMetadataDeps,
  type HostMetadataSettings,
  hostMetadataSettings,
} from "./_sender.ts";
export { metadataApiArea } from "./_api.ts";
