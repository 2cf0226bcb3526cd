/**
 * What the agent and `outpost check` run the collector with: the loaders outpost ships, and
 * conf.d read with the built-in default configs.
 *
 * @module
 */
import type { ConfdResult, Loader } from "./_types.ts";
import type { ChecksSettings } from "./collector/_collector.ts";
import { CHECKS_AGENT_VERSION } from "./collector/_collector.ts";
import { loadConfd } from "./confd/mod.ts";
import { createJsLoader } from "./js/mod.ts";
import { createPythonLoader } from "./python/mod.ts";
import { createSystemLoader, SYSTEM_DEFAULTS } from "./system/mod.ts";
import type { Aggregator } from "../aggregator/mod.ts";

/** Where the loaders report to: the agent's aggregator and hostname (absent in tests). */
export interface LoaderSinks {
  aggregator: Aggregator;
  hostname: string;
}

/**
 * The loaders outpost ships, tried in priority order: JS/TS custom checks, Python, built-ins.
 * A custom Python check that passed the load-time validation reports the recurrent gauge
 * `datadog.agent.check_ready` (`status:python3`), as the Datadog Agent does.
 */
export function defaultLoaders(sinks?: LoaderSinks): Loader[] {
  const [major, minor, patch] = CHECKS_AGENT_VERSION.split(".");
  const onPy3Validated = sinks
    ? (name: string) =>
      sinks.aggregator.addRecurrentSeries({
        name: "datadog.agent.check_ready",
        value: 1,
        tags: [
          "status:python3",
          `check_name:${name}`,
          `agent_version_major:${major}`,
          `agent_version_minor:${minor}`,
          `agent_version_patch:${patch}`,
        ],
        host: sinks.hostname,
        type: "gauge",
        interval: 0,
        sourceTypeName: "System",
      })
    : undefined;
  return [createJsLoader(), createPythonLoader({ onPy3Validated }), createSystemLoader()];
}

/** Reads conf.d, with the system checks' `conf.yaml.default` files shipped in the binary. */
export function loadConfigs(settings: ChecksSettings): ConfdResult {
  return loadConfd({
    confdPaths: settings.confdPaths,
    defaults: SYSTEM_DEFAULTS,
    env: process.env,
  });
}
