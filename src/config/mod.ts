/**
 * Configuration: the schema with its defaults, loading from YAML and `DD_*` variables,
 * secret resolution, and scrubbing.
 *
 * @module
 */
export { type Config, configDefaults, configSchema } from "./schema.ts";
export { ConfigError, loadConfig, type LoadedConfig, type LoadOptions } from "./load.ts";
export { scrubbedEnvLines, scrubObject, scrubText } from "./scrub.ts";
