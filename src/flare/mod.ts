/**
 * The flare: a scrubbed diagnostic archive of this host's agent, built by the running agent
 * (`POST /agent/flare`) or by the CLI when the agent is down, and uploaded to the support
 * backend with a case id.
 *
 * @module
 */
export {
  cleanHostname,
  FlareBuilder,
  type FlareBuilderOptions,
  type FlareProvider,
  FlareSkip,
  type FlareWriter,
  type RunProvidersOptions,
} from "./_builder.ts";
export { type FlareContext, flareProviders, type FlareSources } from "./_providers.ts";
export { createFlare, type CreateFlareOptions, knownSecrets } from "./_create.ts";
export {
  analyzeResponse,
  flareBaseUrl,
  type FlareSendResult,
  flareUrl,
  sendFlare,
  type SendFlareOptions,
} from "./_sender.ts";
export { flareApiArea, type FlareApiOptions } from "./_api.ts";
export { recordVersion, type VersionEntry } from "./_version_history.ts";
