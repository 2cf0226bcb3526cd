/**
 * The Python Check Loader: hands each instance to the pyrunner child, which imports
 * `datadog_checks.<name>` or `checks.d/<name>.py` and builds the check object; runs and
 * submissions then cross the pipe (spec §7).
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import type {
  Check,
  CheckConfig,
  CheckEvent,
  CheckHost,
  CheckMetricType,
  InstanceConfig,
  Loader,
  RunResult,
  ServiceCheckStatus,
} from "../_types.ts";
import { DEFAULT_CHECK_INTERVAL_S } from "../_types.ts";
import type { Log } from "../../log/mod.ts";
import { decodeNumber, type Message } from "./_protocol.ts";
import { PyRunner, PythonNotFoundError, type SpawnSpec } from "./_runner.ts";
import {
  obfuscateMongodbForCheck,
  obfuscateSqlExecPlanForCheck,
  obfuscateSqlForCheck,
} from "../../trace/obfuscate/mod.ts";

/** As status prints it. */
export const PYTHON_LOADER_NAME = "Python Check Loader";

/** Options of {@linkcode createPythonLoader}. */
export interface PythonLoaderOptions {
  /**
   * Directories put at the front of the runner's `sys.path` (wheel or site directories with
   * more `datadog_checks.*` packages). @default []
   */
  sysPath?: string[];
  /**
   * Called with the check name after a custom (non-wheel) check file passed the load-time
   * byte-compile; the agent emits its `datadog.agent.check_ready` gauge from it.
   * @default none
   */
  onPy3Validated?: (name: string) => void;
}

/** The Python loader, with the code stamp a reload compares and the runner's stats. */
export interface PythonLoader extends Loader {
  codeStamp(name: string, host: CheckHost): string | null;
  /** `{pid, python_version, rss_bytes, hwm_bytes, restarts, checks, Py3Warnings}`. */
  stats(): Record<string, unknown>;
  stop(): Promise<void>;
}

/** The `aggregator` module's integer metric types, by position. */
const METRIC_TYPES: readonly CheckMetricType[] = [
  "gauge",
  "rate",
  "count",
  "monotonic_count",
  "counter",
  "histogram",
  "historate",
];

const LOG_LEVELS = new Set(["trace", "debug", "info", "warn", "error", "critical"]);

/** Settings the checks must not see: the runner gets no API or application key. */
const HIDDEN_CONFIG = new Set(["api_key", "app_key"]);
const HIDDEN_ENV = new Set(["DD_API_KEY", "DD_APP_KEY"]);

/** One loaded instance: what its submissions need, and what a restart loads again. */
interface Loaded {
  check: PythonCheck;
  config: CheckConfig;
  instance: InstanceConfig;
  host: CheckHost;
}

/** `checks.d/<name>.py` in the first directory that has it. */
function findPyFile(name: string, dirs: readonly string[]): string | null {
  for (const dir of dirs) {
    const path = join(dir, `${name}.py`);
    if (existsSync(path)) return path;
  }
  return null;
}

/** The YAML the runner parses: the yaml.v2 bytes, else JSON (which is YAML too). */
function yamlOf(bytes: string, value: Record<string, unknown>): string {
  if (bytes) return bytes;
  return Object.keys(value).length > 0 ? JSON.stringify(value) : "";
}

/** The runner's `done` as a run result. */
function toResult(done: Message): RunResult {
  const result: RunResult = {
    warnings: Array.isArray(done.warnings) ? done.warnings.map(String) : [],
  };
  const text = typeof done.result === "string" ? done.result : "";
  if (text) {
    let first: { message?: unknown; traceback?: unknown } | undefined;
    try {
      const parsed = JSON.parse(text);
      first = Array.isArray(parsed) ? parsed[0] : parsed;
    } catch { /* not the JSON error report: the text is the message */ }
    result.error = first && typeof first === "object"
      ? { message: String(first.message ?? ""), traceback: String(first.traceback ?? "") }
      : { message: text, traceback: "" };
  }
  const mem = done.mem as { alloc_delta?: number; peak?: number } | undefined;
  if (mem && typeof mem.alloc_delta === "number") {
    result.mem = { allocDelta: mem.alloc_delta, peak: Number(mem.peak) || 0 };
  }
  return result;
}

/** One Python check instance: runs are requests to the runner. */
class PythonCheck implements Check {
  readonly name: string;
  readonly id: string;
  readonly version: string;
  readonly source: string;
  readonly intervalS: number;
  readonly loader = PYTHON_LOADER_NAME;
  readonly #runner: PyRunner;
  readonly #release: (check: PythonCheck) => void;
  #seq = 0;

  constructor(
    o: { name: string; id: string; version: string; source: string; intervalS: number },
    runner: PyRunner,
    release: (check: PythonCheck) => void,
  ) {
    this.name = o.name;
    this.id = o.id;
    this.version = o.version;
    this.source = o.source;
    this.intervalS = o.intervalS;
    this.#runner = runner;
    this.#release = release;
  }

  async run(signal: AbortSignal): Promise<RunResult> {
    const id = this.id;
    // Python cannot be interrupted: an abort asks the check to cancel(), and the run is
    // still awaited until the runner says it is done.
    const onAbort = () => this.#runner.send({ t: "cancel", check_id: id }, id);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const done = await this.#runner.request({ t: "run", check_id: id, seq: ++this.#seq }, id);
      return toResult(done);
    } catch (e) {
      return { error: { message: (e as Error).message, traceback: "" }, warnings: [] };
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  cancel(): Promise<void> {
    this.#runner.send({ t: "unload", check_id: this.id }, this.id);
    this.#release(this);
    return Promise.resolve();
  }
}

/**
 * The loader of Python checks: key `python`, priority 20. It starts one pyrunner child
 * (`python_binary`, default `python3`) on the first load and keeps it for all Python checks.
 *
 * - A name is a Python check when `checks.d/<name>.py` exists or the runner can import
 *   `datadog_checks.<name>` (which wins over the file); otherwise `load` returns null.
 * - With `python_binary` missing, every Python check (by file) fails to load with
 *   `<binary> not found` (status prints it after the loader name), and other names return null.
 * - Custom check files are byte-compiled at load unless `disable_py3_validation`.
 *
 * @example Load and run a checks.d check
 * ```ts ignore
 * const loader = createPythonLoader({ onPy3Validated: (name) => console.log(name, "python3") });
 * const check = await loader.load(config, config.instances[0], host); // null: not Python
 * const result = await check?.run(new AbortController().signal);
 * await loader.stop();
 * ```
 */
export function createPythonLoader(options: PythonLoaderOptions = {}): PythonLoader {
  const loaded = new Map<string, Loaded>();
  const py3Warnings: Record<string, string[]> = {};
  const startedAt = performance.timeOrigin / 1000;
  let host: CheckHost | undefined;
  let log: Log | undefined;

  const spec = (): SpawnSpec => {
    const h = host!;
    const c = h.config;
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (v !== undefined && !HIDDEN_ENV.has(k)) env[k] = v;
    }
    const config = Object.fromEntries(
      Object.entries(c as Record<string, unknown>).filter(([k]) => !HIDDEN_CONFIG.has(k)),
    );
    const tags = (c as Record<string, unknown>).tags;
    return {
      runtime: h.runtime,
      binary: c.python_binary || "python3",
      runPath: c.run_path,
      env,
      hello: {
        agent_version: h.agentVersion,
        hostname: h.hostname,
        clustername: "",
        host_tags_json: JSON.stringify({ system: Array.isArray(tags) ? tags : [] }),
        config,
        run_path: c.run_path,
        sys_path: [...(options.sysPath ?? []), ...h.checksdPaths],
        process_start_time: startedAt,
        tracemalloc: c.tracemalloc_debug,
        // The collector already bounds concurrency; 0 (by check count) tops out at 25.
        runners: c.tracemalloc_debug ? 1 : c.check_runners || 25,
      },
    };
  };

  const runner = new PyRunner(spec, {
    log: {
      trace: (m) => log?.trace(m),
      debug: (m) => log?.debug(m),
      info: (m) => log?.info(m),
      warn: (m) => log?.warn(m),
      error: (m) => log?.error(m),
      critical: (m) => log?.critical(m),
      enabled: (l) => log?.enabled(l) ?? false,
    },
    onMessage: (msg) => route(msg),
    onCall: (fn, args) => answerCall(fn, args),
    onRestarted: () => void reloadAll(),
  });

  /** A submission or log line from the runner, to the sender or logger of its check. */
  function route(msg: Message): void {
    const id = typeof msg.id === "string" ? msg.id : undefined;
    const entry = id === undefined ? undefined : loaded.get(id);
    if (msg.t === "log") {
      const lvl = LOG_LEVELS.has(String(msg.lvl)) ? String(msg.lvl) as "info" : "info";
      (entry ? entry.host.log(entry.config.name) : log)?.[lvl](String(msg.msg));
      return;
    }
    if (msg.t === "xtags") {
      log?.debug("pyrunner: set_external_tags is not forwarded yet (no host tags metadata)");
      return;
    }
    if (!entry) {
      log?.debug(`pyrunner: ${msg.t} for check ${id} that is not loaded: dropped`);
      return;
    }
    const sender = entry.host.senderFor(id!);
    const tags = Array.isArray(msg.tags) ? msg.tags.map(String) : [];
    const h = typeof msg.h === "string" ? msg.h : "";
    switch (msg.t) {
      case "m": {
        const type = METRIC_TYPES[Number(msg.mt)];
        if (!type) return;
        sender.metric(type, String(msg.n), decodeNumber(msg.v), tags, h, msg.ffv === true);
        return;
      }
      case "sc":
        sender.serviceCheck(
          String(msg.n),
          Number(msg.st) as ServiceCheckStatus,
          tags,
          h,
          typeof msg.msg === "string" ? msg.msg : "",
        );
        return;
      case "ev":
        sender.event(toEvent((msg.e ?? {}) as Record<string, unknown>));
        return;
      case "hb":
        sender.histogramBucket(
          String(msg.n),
          Number(msg.v),
          decodeNumber(msg.lo),
          decodeNumber(msg.hi),
          msg.mono === true,
          h,
          tags,
          msg.ffv === true,
        );
        return;
      case "ep": {
        const raw = msg.b64 === true
          ? new TextDecoder().decode(Uint8Array.from(atob(String(msg.raw)), (c) => c.charCodeAt(0)))
          : String(msg.raw);
        sender.eventPlatformEvent(raw, String(msg.et));
        return;
      }
      case "meta":
        sender.setMetadata(String(msg.k), String(msg.v));
        return;
      case "slog":
        entry.host.log(entry.config.name).debug(
          `send_log: logs from checks are not collected yet: ${String(msg.line).slice(0, 200)}`,
        );
        return;
      default:
        log?.debug(`pyrunner: unknown message type ${msg.t}`);
    }
  }

  /** The agent's side of the runner's synchronous helpers. */
  function answerCall(fn: string, args: unknown[]): unknown {
    switch (fn) {
      // The trace agent's obfuscator; a failure reaches the check as RuntimeError, as in the agent.
      case "obfuscate_sql":
        return obfuscateSqlForCheck(String(args[0] ?? ""), String(args[1] ?? ""));
      case "obfuscate_mongodb_string":
        return obfuscateMongodbForCheck(String(args[0] ?? ""));
      case "obfuscate_sql_exec_plan":
        return obfuscateSqlExecPlanForCheck(String(args[0] ?? ""), args[1] === true);
      // An edge host has no container tagger, filter or kubelet: the agent's answers then.
      case "tagger.tag":
        return [];
      case "containers.is_excluded":
        return false;
      case "kubeutil.get_connection_info":
        return {};
      default:
        throw new Error(`outpost: unknown call ${fn}`);
    }
  }

  function loadMessage(config: CheckConfig, instance: InstanceConfig, h: CheckHost): Message {
    return {
      t: "load",
      check_name: config.name,
      check_id: instance.id,
      init_config_yaml: yamlOf(config.initConfigBytes, config.initConfig),
      instance_yaml: yamlOf(instance.bytes, instance.raw),
      source: config.source,
      checksd: h.checksdPaths,
      validate: !h.config.disable_py3_validation,
    };
  }

  /** After a crash: the same instances, new objects, the same IDs. */
  async function reloadAll(): Promise<void> {
    for (const [id, entry] of [...loaded]) {
      try {
        const answer = await runner.request(
          loadMessage(entry.config, entry.instance, entry.host),
          id,
        );
        if (answer.t !== "loaded") {
          log?.error(`Python Check Loader: cannot load ${id} again: ${String(answer.error)}`);
        }
      } catch (e) {
        log?.error(`Python Check Loader: cannot load ${id} again: ${(e as Error).message}`);
      }
    }
  }

  function release(check: PythonCheck): void {
    if (loaded.get(check.id)?.check === check) {
      loaded.delete(check.id);
      runner.forget(check.id);
    }
  }

  async function load(
    config: CheckConfig,
    instance: InstanceConfig,
    h: CheckHost,
  ): Promise<Check | null> {
    host = h;
    log ??= h.log("pyrunner");
    const file = findPyFile(config.name, h.checksdPaths);
    // The defaults shipped in the binary are the built-in checks' own: asking Python about them
    // would start python3 on every host, even where no Python check is configured.
    if (!file && config.source.startsWith("builtin:")) return null;
    try {
      await runner.ensure();
    } catch (e) {
      // Without a runner only a checks.d file says the name is a Python check.
      if (!file) return null;
      throw e instanceof PythonNotFoundError ? new Error(e.message) : e;
    }
    const answer = await runner.request(loadMessage(config, instance, h), instance.id);
    if (answer.t === "load_error") {
      if (answer.not_found === true) return null;
      const tb = typeof answer.traceback === "string" && answer.traceback
        ? `\n${answer.traceback.trimEnd()}`
        : "";
      throw new Error(`${String(answer.error)}${tb}`);
    }
    const name = config.name;
    if (answer.is_wheel !== true && !h.config.disable_py3_validation) {
      const warnings = Array.isArray(answer.py3_warnings) ? answer.py3_warnings.map(String) : [];
      if (warnings.length > 0) py3Warnings[name] = warnings;
      else delete py3Warnings[name];
      options.onPy3Validated?.(name);
    }
    const check = new PythonCheck(
      {
        name,
        id: instance.id,
        version: typeof answer.version === "string" ? answer.version : "unversioned",
        source: config.source,
        intervalS: instance.minCollectionInterval ?? DEFAULT_CHECK_INTERVAL_S,
      },
      runner,
      release,
    );
    loaded.set(instance.id, { check, config, instance, host: h });
    return check;
  }

  return {
    name: PYTHON_LOADER_NAME,
    key: "python",
    priority: 20,
    load,
    codeStamp(name, h) {
      const path = findPyFile(name, h.checksdPaths);
      if (!path) return null;
      const { mtimeMs, size } = statSync(path);
      return `${path} ${Math.trunc(mtimeMs)}-${size}`;
    },
    stats: () => ({ ...runner.stats(), Py3Warnings: structuredClone(py3Warnings) }),
    stop: () => runner.stop(),
  };
}

/** The `submit_event` dict as the sender's event. */
function toEvent(e: Record<string, unknown>): CheckEvent {
  const str = (k: string) => (typeof e[k] === "string" ? e[k] as string : undefined);
  const event: CheckEvent = { title: str("msg_title") ?? "", text: str("msg_text") ?? "" };
  if (typeof e.timestamp === "number" && e.timestamp > 0) event.timestamp = e.timestamp;
  const priority = str("priority");
  if (priority === "normal" || priority === "low") event.priority = priority;
  const alert = str("alert_type");
  if (alert === "error" || alert === "warning" || alert === "info" || alert === "success") {
    event.alertType = alert;
  }
  if (str("aggregation_key")) event.aggregationKey = str("aggregation_key");
  if (str("source_type_name")) event.sourceTypeName = str("source_type_name");
  if (str("event_type")) event.eventType = str("event_type");
  if (str("host") !== undefined) event.host = str("host");
  if (Array.isArray(e.tags)) event.tags = e.tags.map(String);
  return event;
}
