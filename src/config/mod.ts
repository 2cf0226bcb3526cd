/**
 * Configuration: the schema with its defaults, loading from YAML and `DD_*` variables,
 * secret resolution, and scrubbing.
 *
 * @module
 */
export { type Config, configDefaults, configSchema, LOG_LEVELS } from "./schema.ts";
export {
  ConfigError,
  DEFAULT_CONFIG_PATHS,
  loadConfig,
  type LoadedConfig,
  type LoadOptions,
} from "./load.ts";
export { scrubObject, scrubText } from "./scrub.ts";
export { ENV_BINDINGS } from "./_env.ts";
