/**
 * The flare: a scrubbed diagnostic archive of this host's agent, built by the running agent
 * (`POST /agent/flare`) or by the CLI when the agent is down, and uploaded to the support
 * backend with a case id.
 *
 * @module
 */
export { cleanHostname } from "./_builder.ts";

export { createFlare } from "./_create.ts";
export { flareBaseUrl, sendFlare } from "./_sender.ts";
export { flareApiArea } from "./_api.ts";
export { recordVersion } from "./_version_history.ts";
