/**
 * The collector: loads conf.d, turns each instance into a check with the loaders, schedules
 * and runs the checks, and keeps what status, configcheck and the API show.
 */
import { DATADOG_AGENT_VERSION } from "../../version.ts";
import { dirname, join } from "node:path";
import type {
  Check,
  CheckConfig,
  CheckHost,
  ConfdResult,
  InstanceConfig,
  Loader,
  RunResult,
} from "../_types.ts";
import type { Config } from "../../config/mod.ts";
import type { Logger } from "../../log/mod.ts";
import type { Runtime } from "../../runtime/types.ts";
import type { HttpClient } from "../../http/mod.ts";
import type { Registry } from "../../telemetry/mod.ts";
import type { Aggregator } from "../../aggregator/mod.ts";
import { checksEvents } from "../../telemetry/mod.ts";
import { Scheduler, type Ticker } from "./_scheduler.ts";
import { Runner } from "./_runner.ts";
import { CheckSender } from "./_sender.ts";
import type { CollectorStatus } from "./_status.ts";

/**
 * The Datadog Agent version checks are told they run in (`datadog_agent.get_version()`): a
 * 7.x release whose check APIs outpost provides.
 */
export const CHECKS_AGENT_VERSION = DATADOG_AGENT_VERSION;

/** What the config sets in the checks subsystem (see {@linkcode checksSettings}). */
export interface ChecksSettings {
  /** conf.d directories, in search order. */
  confdPaths: string[];
  /** checks.d directories (custom check code), in search order. */
  checksdPaths: string[];
  /** `check_runners` (0 = by the number of checks); 1 with `tracemalloc_debug`. */
  runners: number;
  /** `check_run_timeout` in seconds; 0 = none. */
  runTimeoutS: number;
  /** `integration_check_status_enabled`. */
  checkStatusEnabled: boolean;
  /** What `host.agentVersion` says. */
  agentVersion: string;
}

/**
 * Reads the checks keys. `confd_path` and `additional_checksd` left empty are `conf.d` and
 * `checks.d` beside the config file, or under `/etc/outpost` without one.
 *
 * @example
 * ```ts
 * import { configDefaults } from "../../config/mod.ts";
 * import { checksSettings } from "./_collector.ts";
 * checksSettings(configDefaults(), "/opt/outpost/datadog.yaml").confdPaths; // ["/opt/outpost/conf.d"]
 * ```
 */
export function checksSettings(config: Config, configFile: string | null): ChecksSettings {
  const base = configFile ? dirname(configFile) : "/etc/outpost";
  return {
    confdPaths: [config.confd_path || join(base, "conf.d")],
    checksdPaths: [config.additional_checksd || join(base, "checks.d")],
    runners: config.tracemalloc_debug ? 1 : config.check_runners,
    runTimeoutS: config.check_run_timeout,
    checkStatusEnabled: config.integration_check_status_enabled,
    agentVersion: CHECKS_AGENT_VERSION,
  };
}

/** What the collector needs besides its settings. */
export interface CollectorDeps {
  runtime: Runtime;
  config: Config;
  registry: Registry;
  logger: Logger;
  aggregator: Aggregator;
  http: HttpClient;
  /** The agent's hostname. */
  hostname: string;
  loaders: Loader[];
  /** Reads conf.d (called at start and at each reload). */
  loadConfigs: () => ConfdResult;
  /** @default setInterval */
  ticker?: Ticker;
  /** Wall-clock ms. @default Date.now */
  now?: () => number;
  /** Timer for slot release, timeouts and cancel waits. @default setTimeout */
  setTimer?: (fn: () => void, ms: number) => () => void;
  /** A loader's `load()` that takes longer is a loading error. @default 30000 */
  loadTimeoutMs?: number;
}

/** One scheduled check and where it came from. */
interface Entry {
  check: Check;
  config: CheckConfig;
  instance: InstanceConfig;
  /** Identifies the instance's config: it changed when this did. */
  key: string;
}

/** What a reload changed. */
export interface ReloadResult {
  scheduled: string[];
  unscheduled: string[];
}

/** One instance in the `configcheck` answer. */
export interface ConfigCheckInstance {
  id: string;
  /** The instance as yaml.v2 prints it. */
  yaml: string;
  /** The ID the check runs under, when it is scheduled (built-ins: the check name). */
  check_id?: string;
}

/** The `GET /agent/config-check` answer. */
export interface ConfigCheckAnswer {
  configs: Array<{
    name: string;
    provider: string;
    source: string;
    init_config: string;
    instances: ConfigCheckInstance[];
    logs: unknown[] | null;
    is_default: boolean;
    digest: string;
  }>;
  config_errors: Record<string, string>;
  resolve_warnings: Record<string, string[]>;
  unresolved: Record<string, unknown>;
}

/** The status `workerStats`: slot count, mean utilization and the five busiest slots. */
function workerStats(u: Array<[string, number]>): CollectorStatus["workerStats"] {
  const mean = u.length ? u.reduce((a, [, x]) => a + x, 0) / u.length : 0;
  return {
    Count: u.length,
    AverageUtilization: Math.round(mean * 1000) / 1000,
    TopWorkers: [...u]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, 5)
      .map(([Name, Utilization]) => ({ Name, Utilization })),
  };
}

/** Waits at most `ms` for `p`. */
function within(
  p: Promise<unknown>,
  ms: number,
  setTimer: CollectorDeps["setTimer"],
): Promise<void> {
  let stop: () => void = () => {};
  const timer = new Promise<void>((resolve) => {
    stop = setTimer ? setTimer(resolve, ms) : (() => {
      const t = setTimeout(resolve, ms);
      return () => clearTimeout(t);
    })();
  });
  return Promise.race([p.then(() => {}, () => {}), timer]).finally(() => stop());
}

/** A key that changes when the instance's config does. */
function configKey(config: CheckConfig, instance: InstanceConfig): string {
  return `${config.source}\u0000${config.digest}\u0000${instance.id}\u0000${instance.index}`;
}

/**
 * The checks collector.
 *
 * @example Run one in-test check
 * ```ts ignore
 * const collector = new Collector(settings, deps);
 * await collector.start();
 * await collector.stop();
 * ```
 */
export class Collector {
  readonly #s: ChecksSettings;
  readonly #d: CollectorDeps;
  readonly #loaders: Loader[];
  readonly #scheduler: Scheduler;
  readonly #runner: Runner;
  readonly #entries = new Map<string, Entry>();
  readonly #senders = new Map<string, CheckSender>();
  #configs: ConfdResult = { configs: [], errors: {} };
  #loaderErrors: Record<string, Record<string, string>> = {};
  readonly #log;
  readonly #t;
  #reloading: Promise<unknown> = Promise.resolve();
  #stopping = false;

  constructor(settings: ChecksSettings, deps: CollectorDeps) {
    this.#s = settings;
    this.#d = deps;
    this.#log = deps.logger.for("collector");
    this.#loaders = [...deps.loaders].sort((a, b) => a.priority - b.priority);
    this.#runner = new Runner({
      workers: settings.runners,
      timeoutS: settings.runTimeoutS,
      log: this.#log,
      scheduled: () => this.#entries.size,
      now: deps.now,
      setTimer: deps.setTimer,
      hooks: {
        commit: (check) => this.#commit(check),
        afterRun: (check, result) => this.#afterRun(check, result),
        isScheduled: (id) => this.#entries.has(id),
      },
    });
    this.#scheduler = new Scheduler({
      dispatch: (check, at) => this.#runner.submit(check, at),
      log: this.#log,
      ticker: deps.ticker,
      now: deps.now,
    });
    const python = this.#loaders.find((l) => l.key === "python" && l.stats);
    this.#t = checksEvents(deps.registry, {
      runner: () => this.#runner.stats(),
      scheduler: () => this.#scheduler.stats(),
      pyrunner: python && (() => python.stats!()),
    });
  }

  /** The runner (stats, `runNow`). */
  get runner(): Runner {
    return this.#runner;
  }

  /** The scheduler. */
  get scheduler(): Scheduler {
    return this.#scheduler;
  }

  /** Scheduled checks by ID. */
  get checks(): ReadonlyMap<string, Check> {
    return new Map([...this.#entries].map(([id, e]) => [id, e.check]));
  }

  /** `LoaderErrors`: check name → loader name → error. */
  get loaderErrors(): Record<string, Record<string, string>> {
    return structuredClone(this.#loaderErrors);
  }

  /** What conf.d gave at the last (re)load. */
  get configs(): ConfdResult {
    return this.#configs;
  }

  /** The sender of a check ID, if one was made. */
  senderOf(id: string): CheckSender | undefined {
    return this.#senders.get(id);
  }

  #commit(check: Check) {
    const sender = this.#senders.get(check.id);
    const counts = sender?.commit((this.#d.now ?? Date.now)() / 1000) ??
      {
        metricSamples: 0,
        events: 0,
        serviceChecks: 0,
        histogramBuckets: 0,
        eventPlatformEvents: {},
      };
    const t = this.#t;
    t.metricsSamples.inc(counts.metricSamples);
    t.events.inc(counts.events);
    t.servicesChecks.inc(counts.serviceChecks);
    t.histogramBuckets.inc(counts.histogramBuckets);
    t.eventPlatformEvents.inc(Object.values(counts.eventPlatformEvents).reduce((a, b) => a + b, 0));
    return counts;
  }

  #afterRun(check: Check, result: RunResult): void {
    this.#t.runs.with(result.error ? "fail" : "ok").inc();
    this.#t.warnings.inc(result.warnings.length);
    if (!this.#s.checkStatusEnabled || check.intervalS === 0) return;
    const status = result.error ? 2 : result.warnings.length > 0 ? 1 : 0;
    this.#d.aggregator.addServiceCheck({
      name: "datadog.agent.check_status",
      status,
      timestamp: 0,
      host: this.#d.hostname,
      message: result.error ? result.error.message : result.warnings.join("\n"),
      tags: [`check:${check.name}`, "dd_enable_check_intake:true"],
    });
  }

  /** The config and the code of an instance: a reload loads it again when either changed. */
  #instanceKey(config: CheckConfig, instance: InstanceConfig): string {
    const host = this.#host(instance);
    const stamps = this.#loaders.map((l) => l.codeStamp?.(config.name, host) ?? "");
    return [configKey(config, instance), ...stamps].join("\u0000");
  }

  /** The host handed to a loader for one instance: its sender takes the instance's tags. */
  #host(instance: InstanceConfig): CheckHost {
    const d = this.#d;
    return {
      runtime: d.runtime,
      config: d.config,
      hostname: d.hostname,
      agentVersion: this.#s.agentVersion,
      checksdPaths: [...this.#s.checksdPaths],
      log: (name) => d.logger.for(`check:${name}`),
      http: d.http,
      senderFor: (id) => {
        let sender = this.#senders.get(id);
        if (!sender) {
          sender = new CheckSender({
            id,
            aggregator: d.aggregator,
            hostname: d.hostname,
            tags: instance.tags,
            service: instance.service,
            emptyDefaultHostname: instance.emptyDefaultHostname,
            log: this.#log,
          });
          this.#senders.set(id, sender);
        }
        return sender;
      },
    };
  }

  /**
   * Turns one instance into a check: loaders in priority order (only the one its `loader:`
   * names, if any); the first to return a check wins, `null` passes. When none takes it, the
   * loaders' failures (or, when none failed, a "no check named" from each) are recorded as
   * `LoaderErrors[<check name>][<loader name>]` and null returned.
   */
  async loadInstance(config: CheckConfig, instance: InstanceConfig): Promise<Check | null> {
    const name = config.name;
    const errors: Record<string, string> = {};
    const notFound: string[] = [];
    if (instance.raw.is_jmx === true) {
      errors["JMX Check Loader"] = "JMX checks are not supported by outpost";
    } else {
      let candidates = this.#loaders;
      if (instance.loader !== undefined) {
        candidates = this.#loaders.filter((l) => l.key === instance.loader);
        if (candidates.length === 0) {
          errors[instance.loader] =
            `Cannot load check "${name}": unknown loader "${instance.loader}", ` +
            `expected one of ${this.#loaders.map((l) => l.key).join(", ") || "(none)"}`;
        }
      }
      for (const loader of candidates) {
        try {
          const check = await this.#withLoadTimeout(
            loader.load(config, instance, this.#host(instance)),
          );
          if (check === null) {
            notFound.push(loader.name);
            continue;
          }
          delete this.#loaderErrors[name];
          this.#log.debug(`${loader.name}: loaded check ${check.id} (${config.source})`);
          return check;
        } catch (e) {
          errors[loader.name] = e instanceof Error ? e.message : String(e);
        }
      }
    }
    // A loader's real failure says it all; only a config that names no check at all gets a
    // "no check named" line from each loader.
    if (Object.keys(errors).length === 0) {
      for (const loader of notFound) errors[loader] = `no check named "${name}"`;
    }
    if (Object.keys(errors).length === 0) errors["Check Loaders"] = "no loader is configured";
    this.#loaderErrors[name] = { ...this.#loaderErrors[name], ...errors };
    this.#log.error(
      `Cannot load check "${name}" (instance ${instance.index} of ${config.source}): ` +
        Object.entries(errors).map(([l, e]) => `${l}: ${e}`).join("; "),
    );
    return null;
  }

  /**
   * Lists a loaded check as the collector's without scheduling it, so runs through
   * `runner.runNow` keep stats (`outpost check`).
   */
  track(check: Check, config: CheckConfig, instance: InstanceConfig): void {
    this.#entries.set(check.id, {
      check,
      config,
      instance,
      key: this.#instanceKey(config, instance),
    });
  }

  /** A load that never answers must not hold up every check after it. */
  #withLoadTimeout<T>(p: Promise<T>): Promise<T> {
    const ms = this.#d.loadTimeoutMs ?? 30_000;
    const setTimer = this.#d.setTimer ?? ((fn: () => void, ms: number) => {
      const t = setTimeout(fn, ms);
      return () => clearTimeout(t);
    });
    let stop: () => void = () => {};
    const timeout = new Promise<never>((_, reject) => {
      stop = setTimer(
        () => reject(new Error(`loading took longer than ${ms / 1000}s: given up`)),
        ms,
      );
    });
    return Promise.race([p, timeout]).finally(() => stop());
  }

  async #loadAndSchedule(config: CheckConfig, instance: InstanceConfig): Promise<string | null> {
    const check = await this.loadInstance(config, instance);
    if (!check) return null;
    if (this.#stopping) {
      await check.cancel().catch(() => {});
      return null;
    }
    if (this.#entries.has(check.id)) {
      this.#log.warn(
        `Check ${check.id} from ${config.source} is already scheduled: this instance is ignored`,
      );
      return null;
    }
    try {
      this.#entries.set(check.id, {
        check,
        config,
        instance,
        key: this.#instanceKey(config, instance),
      });
      this.#scheduler.schedule(check);
    } catch (e) {
      this.#entries.delete(check.id);
      const message = (e as Error).message;
      this.#loaderErrors[config.name] = {
        ...this.#loaderErrors[config.name],
        [check.loader]: message,
      };
      this.#log.error(`Cannot schedule check ${check.id}: ${message}`);
      return null;
    }
    this.#log.info(`Scheduled check ${check.id} every ${check.intervalS}s`);
    return check.id;
  }

  #readConfigs(): ConfdResult {
    try {
      return this.#d.loadConfigs();
    } catch (e) {
      this.#log.error(`Cannot read the check configs: ${(e as Error).message}`);
      return { configs: [], errors: {} };
    }
  }

  /** Loads the configs and schedules every instance a loader takes. */
  async start(): Promise<void> {
    this.#configs = this.#readConfigs();
    for (const [name, error] of Object.entries(this.#configs.errors)) {
      this.#log.error(`Config error in check "${name}": ${error}`);
    }
    for (const config of this.#configs.configs) {
      for (const instance of config.instances) {
        if (this.#stopping) return;
        await this.#loadAndSchedule(config, instance);
      }
    }
  }

  /** Unschedules one check: cancels it, drops its sampler, sender and stats. */
  async #unschedule(id: string, cancelMs = 500): Promise<void> {
    const entry = this.#entries.get(id);
    if (!entry) return;
    this.#scheduler.unschedule(id);
    await this.#runner.cancel(entry.check, cancelMs);
    this.#entries.delete(id);
    this.#runner.forget(id);
    this.#senders.delete(id);
    this.#d.aggregator.removeCheckSampler(id);
  }

  /**
   * Reads conf.d again: checks whose instance config changed or vanished are unscheduled,
   * new ones loaded and scheduled. Unchanged checks keep running untouched, unless `all`:
   * then every check is loaded again (a loader picks up edited check code, e.g. a JS check).
   */
  reload({ all = false }: { all?: boolean } = {}): Promise<ReloadResult> {
    const run = this.#reloading.then(async () => {
      const next = this.#readConfigs();
      const wanted = new Set<string>();
      if (!all) {
        for (const c of next.configs) {
          for (const i of c.instances) wanted.add(this.#instanceKey(c, i));
        }
      }
      const unscheduled: string[] = [];
      for (const [id, e] of [...this.#entries]) {
        if (!wanted.has(e.key)) {
          await this.#unschedule(id);
          unscheduled.push(id);
        }
      }
      const kept = new Set([...this.#entries.values()].map((e) => e.key));
      this.#configs = next;
      // Loader errors are those of this load: a fixed config clears its old ones.
      this.#loaderErrors = {};
      const scheduled: string[] = [];
      for (const config of next.configs) {
        for (const instance of config.instances) {
          if (kept.has(this.#instanceKey(config, instance))) continue;
          const id = await this.#loadAndSchedule(config, instance);
          if (id) scheduled.push(id);
        }
      }
      this.#log.info(
        `Checks reloaded: ${scheduled.length} scheduled, ${unscheduled.length} unscheduled`,
      );
      return { scheduled, unscheduled };
    });
    this.#reloading = run.catch(() => {});
    return run;
  }

  /**
   * Stops scheduling, cancels every check (500 ms each, 2 s in all) and stops the loaders.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#scheduler.stop();
    this.#runner.stop();
    const ids = [...this.#entries.keys()];
    await within(
      Promise.all(ids.map((id) => this.#unschedule(id, 500))),
      2000,
      this.#d.setTimer,
    );
    await Promise.all(this.#loaders.map(async (l) => {
      try {
        await l.stop?.();
      } catch (e) {
        this.#log.warn(`Cannot stop ${l.name}: ${(e as Error).message}`);
      }
    }));
  }

  /** The `GET /agent/config-check` answer: every config, IDs as computed here. */
  configCheck(): ConfigCheckAnswer {
    const runIds = new Map<string, string>();
    for (const [id, e] of this.#entries) runIds.set(configKey(e.config, e.instance), id);
    return {
      configs: this.#configs.configs.map((c) => ({
        name: c.name,
        provider: c.provider,
        source: c.source,
        init_config: c.initConfigBytes,
        instances: c.instances.map((i) => ({
          id: i.id,
          yaml: i.bytes,
          ...(runIds.has(configKey(c, i)) ? { check_id: runIds.get(configKey(c, i)) } : {}),
        })),
        logs: c.logs,
        is_default: c.isDefault,
        digest: c.digest,
      })),
      config_errors: { ...this.#configs.errors },
      resolve_warnings: {},
      unresolved: {},
    };
  }

  /** The JSON status keys of the Collector section. */
  status(): CollectorStatus {
    const inventories: Record<string, Record<string, string>> = {};
    for (const [id, sender] of this.#senders) {
      const m = sender.metadata();
      if (Object.keys(m).length > 0) inventories[id] = m;
    }
    const loaderStats: Record<string, Record<string, unknown>> = {};
    const py3: Record<string, string[]> = {};
    const configure: Record<string, string[]> = {};
    const initErrors: string[] = [];
    for (const l of this.#loaders) {
      let s: Record<string, unknown> | undefined;
      try {
        s = l.stats?.();
      } catch (e) {
        s = { error: (e as Error).message };
      }
      if (!s) continue;
      loaderStats[l.name] = s;
      if (s.Py3Warnings && typeof s.Py3Warnings === "object") {
        Object.assign(py3, s.Py3Warnings);
      }
      if (s.ConfigureErrors && typeof s.ConfigureErrors === "object") {
        Object.assign(configure, s.ConfigureErrors);
      }
      if (Array.isArray(s.initErrors)) initErrors.push(...s.initErrors.map(String));
    }
    const runner = this.#runner.stats();
    return {
      runnerStats: runner,
      checkSchedulerStats: { LoaderErrors: this.loaderErrors },
      pyLoaderStats: { ConfigureErrors: configure, Py3Warnings: py3 },
      autoConfigStats: { ConfigErrors: { ...this.#configs.errors }, ResolveWarnings: {} },
      inventories,
      workerStats: workerStats(this.#runner.utilization()),
      pythonInit: { Errors: initErrors },
      loaderStats,
    };
  }
}
