/**
 * What several commands share: loading the config and reporting its problems the same way.
 */
import { ConfigError, loadConfig, type LoadedConfig, type LoadOptions } from "../src/config/mod.ts";
import { runtime } from "../src/runtime/mod.ts";
import { OutpostError } from "../src/errors.ts";

/** The `-c/--config` flag. */
export const CONFIG_FLAG = { config: { type: "string", short: "c" } } as const;

/**
 * Loads the config; on failure prints one line per problem to stderr and returns null so the
 * command can exit 1.
 */
export async function loadOrReport(options: LoadOptions): Promise<LoadedConfig | null> {
  try {
    return await loadConfig(runtime, options);
  } catch (e) {
    if (e instanceof ConfigError) {
      for (const p of e.problems) console.error(p);
    } else if (e instanceof OutpostError) {
      console.error(e.message);
    } else {
      throw e;
    }
    return null;
  }
}
