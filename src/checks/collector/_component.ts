import type { Built, Component } from "../../component.ts";
import type { ApiArea } from "../../api/mod.ts";
import type { StatusProvider } from "../../status/mod.ts";
import {
  type ChecksSettings,
  Collector,
  type CollectorDeps,
  type ReloadResult,
} from "./_collector.ts";
import { type CheckRunAnswer, checksApiArea } from "./_api.ts";
import { runCheckCommand } from "./_check_command.ts";
import type { Loader } from "../_types.ts";
import { collectorStatusProvider } from "./_status.ts";

/** The checks subsystem as a component. */
export interface ChecksComponent extends Component {
  readonly collector: Collector;
  /** The `collector` status section. */
  readonly statusProvider: StatusProvider;
  /** `GET /agent/config-check`, `POST /agent/checks/reload`, `POST /agent/checks/:name/run`. */
  readonly apiArea: ApiArea;
  /** Reads conf.d again (see {@linkcode Collector.reload}). */
  reload(options?: { all?: boolean }): Promise<ReloadResult>;
}

/**
 * Builds the checks component: `start` loads conf.d and schedules the checks the loaders take
 * (in the background: it resolves at once), `stop` waits for that, cancels the checks and
 * stops the loaders. It also publishes the expvar `runner` and
 * `scheduler` objects in the registry.
 *
 * @example No configs, no loaders: a collector with nothing to run
 * ```ts
 * import { configDefaults } from "../../config/mod.ts";
 * import { createLogger } from "../../log/mod.ts";
 * import { Registry } from "../../telemetry/mod.ts";
 * import { Aggregator, memorySink } from "../../aggregator/mod.ts";
 * import { createHttpClient, httpSettings } from "../../http/mod.ts";
 * import { runtime } from "../../runtime/mod.ts";
 * import { buildChecks, checksSettings } from "../mod.ts";
 * const config = configDefaults();
 * const logger = createLogger({ level: "off" });
 * const registry = new Registry();
 * const aggregator = new Aggregator({ sink: memorySink(), hostname: "h", registry, log: logger.for("aggregator") });
 * const { component } = buildChecks(checksSettings(config, null), {
 *   runtime, config, registry, logger, aggregator, hostname: "h",
 *   http: createHttpClient(runtime, httpSettings(config, {})),
 *   loaders: [], loadConfigs: () => ({ configs: [], errors: {} }),
 * });
 * await component.start();
 * console.log(component.collector.checks.size); // 0
 * await component.stop();
 * ```
 */
export function buildChecks(
  settings: ChecksSettings,
  deps: CollectorDeps & {
    /**
     * Loaders for a run asked through the API, apart from the scheduled instances (a run
     * stops its loaders: the scheduled ones must keep theirs). @default no loaders
     */
    runLoaders?: () => Loader[];
  },
): Built<ChecksComponent> {
  const collector = new Collector(settings, deps);
  // The API's run is `outpost check NAME --json` in the agent's process: its own collector
  // and aggregator, so nothing it submits reaches the agent's pipeline.
  const run = async (name: string): Promise<CheckRunAnswer> => {
    const out: string[] = [];
    const errors: string[] = [];
    const code = await runCheckCommand({
      ...deps,
      name,
      settings,
      loaders: deps.runLoaders?.() ?? [],
      json: true,
      out: (t) => out.push(t),
      err: (t) => errors.push(t),
    });
    const json = out.at(-1);
    return { exit_code: code, results: json ? JSON.parse(json) : [], errors };
  };
  const statusProvider = collectorStatusProvider(() => collector.status());
  let loaded = false;
  let stopping = false;
  let loading: Promise<void> = Promise.resolve();
  const component: ChecksComponent = {
    name: "checks",
    collector,
    statusProvider,
    apiArea: checksApiArea(collector, run),
    start() {
      // Loading goes on in the background, from the next turn of the event loop: reading
      // conf.d (~15 ms) and a slow loader (the Python runner starting) must not hold up the
      // components after this one; the checks are healthy once all are loaded.
      stopping = false;
      loading = new Promise((resolve) => setTimeout(resolve, 0))
        .then(() => (stopping ? undefined : collector.start()))
        .then(
          () => void (loaded = !stopping),
          (e) =>
            deps.logger.for("collector").error(`Cannot load the checks: ${(e as Error).stack}`),
        );
      return Promise.resolve();
    },
    async stop() {
      // Stopping first makes a load still going on schedule nothing more; one not begun yet
      // does not begin.
      stopping = true;
      const stopped = collector.stop();
      await loading;
      await stopped;
      loaded = false;
    },
    reload: (options) => collector.reload(options),
  };
  return { component, healthcheck: () => loaded };
}
