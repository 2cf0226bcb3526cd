/**
 * What the agent and `outpost check` run the collector with: the loaders outpost ships, and
 * conf.d read with the built-in default configs.
 *
 * @module
 */
import type { ConfdResult, Loader } from "./_types.ts";
import type { ChecksSettings } from "./collector/_collector.ts";
import { loadConfd } from "./confd/mod.ts";
import { createJsLoader } from "./js/mod.ts";
import { createSystemLoader, SYSTEM_DEFAULTS } from "./system/mod.ts";

/** The loaders outpost ships, in the order they are tried: JS/TS custom checks, then built-ins. */
export function defaultLoaders(): Loader[] {
  return [createJsLoader(), createSystemLoader()];
}

/** Reads conf.d, with the system checks' `conf.yaml.default` files shipped in the binary. */
export function loadConfigs(settings: ChecksSettings): ConfdResult {
  return loadConfd({
    confdPaths: settings.confdPaths,
    defaults: SYSTEM_DEFAULTS,
    env: process.env,
  });
}
