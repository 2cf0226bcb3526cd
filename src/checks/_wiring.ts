/**
 * Where the collector gets its loaders and configs. PLACEHOLDER: replaced at merge with the
 * real one (conf.d reader and the js, python and core loaders).
 *
 * @module
 */
import type { ConfdResult, Loader } from "./_types.ts";
import type { ChecksSettings } from "./collector/_collector.ts";

/** The loaders the agent ships (replaced at merge). */
export function defaultLoaders(): Loader[] {
  return [];
}

/** Reads conf.d with the shipped defaults (replaced at merge). */
export function loadConfigs(_settings: ChecksSettings): ConfdResult {
  return { configs: [], errors: {} };
}
