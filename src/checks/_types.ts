/**
 * The contract between the parts of the checks subsystem: the conf.d loader produces
 * {@linkcode CheckConfig}s, a {@linkcode Loader} turns one instance of one into a
 * {@linkcode Check}, and the collector schedules and runs checks, handing each a
 * {@linkcode Sender} bound to its ID.
 *
 * @module
 */
import type { Config } from "../config/mod.ts";
import type { Log } from "../log/mod.ts";
import type { HttpClient } from "../http/mod.ts";
import type { Runtime } from "../runtime/types.ts";

/** Default seconds between runs (the Datadog Agent's `DefaultCheckInterval`). */
export const DEFAULT_CHECK_INTERVAL_S = 15;

/** One instance of a config file, with the keys every check shares already read. */
export interface InstanceConfig {
  /** Position in the file's `instances`. */
  index: number;
  /** The hashed ID (`<name>:[<instance name>:]<hex>`), what `configcheck` prints. */
  id: string;
  /** The instance map, `%%env_X%%` resolved. */
  raw: Record<string, unknown>;
  /** The instance re-serialized as yaml.v2 does (part of the ID). */
  bytes: string;
  /** `min_collection_interval` when set above 0 (instance, else init_config); else undefined. */
  minCollectionInterval?: number;
  tags: string[];
  /** `service` of the instance, else of init_config. */
  service?: string;
  emptyDefaultHostname: boolean;
  /** `name` (or `namespace`) of the instance, part of the ID. */
  name?: string;
  /** `loader` of the instance or init_config: only that loader is tried. */
  loader?: string;
}

/** One configuration file of one check (the Datadog Agent's `integration.Config`). */
export interface CheckConfig {
  /** The check name (directory minus `.d`, or file name minus extension). */
  name: string;
  /** `file:<absolute path>`. */
  source: string;
  provider: "file";
  /** `init_config`, `{}` when null or absent. */
  initConfig: Record<string, unknown>;
  /** `init_config` re-serialized as yaml.v2 does; `""` when null or absent. */
  initConfigBytes: string;
  instances: InstanceConfig[];
  /** The `logs:` section, for the logs subsystem; null when absent. */
  logs: unknown[] | null;
  /** Came from a `.yaml.default` file (used only when no other config names the check). */
  isDefault: boolean;
  /** The murmur3 digest of the whole file (spec §2.1), as 16 hex digits. */
  digest: string;
}

/**
 * A default config shipped inside the binary, as the Datadog Agent ships
 * `conf.d/<name>.d/conf.yaml.default` files: used only when no other config names the check.
 */
export interface DefaultConfig {
  /** The check name. */
  name: string;
  /** The YAML text of `<name>.d/conf.yaml.default`. */
  text: string;
}

/** What loading conf.d gave: the configs, and one error per check name that failed. */
export interface ConfdResult {
  configs: CheckConfig[];
  /** Check name → error text ("Config Errors" in status). */
  errors: Record<string, string>;
}

/** Metric types a check submits (the `aggregator` module's constants, by name). */
export type CheckMetricType =
  | "gauge"
  | "rate"
  | "count"
  | "monotonic_count"
  | "counter"
  | "histogram"
  | "historate";

/** Service check statuses: OK, WARNING, CRITICAL, UNKNOWN. */
export type ServiceCheckStatus = 0 | 1 | 2 | 3;

/** An event as a check submits it. */
export interface CheckEvent {
  title: string;
  text: string;
  /** Unix seconds; 0 or absent means now. */
  timestamp?: number;
  priority?: "normal" | "low";
  alertType?: "error" | "warning" | "info" | "success";
  aggregationKey?: string;
  sourceTypeName?: string;
  eventType?: string;
  host?: string;
  tags?: string[];
}

/**
 * Where one check instance submits. The sender adds the instance's `tags` and `service:<v>`,
 * and turns a missing or `""` hostname into the agent's (or `""` with `empty_default_hostname`).
 * Invalid values are counted and dropped, never thrown.
 */
export interface Sender {
  metric(
    type: CheckMetricType,
    name: string,
    value: number,
    tags?: readonly string[],
    hostname?: string,
    flushFirstValue?: boolean,
  ): void;
  /** An OpenMetrics histogram bucket: `value` observations between the bounds. */
  histogramBucket(
    name: string,
    value: number,
    lowerBound: number,
    upperBound: number,
    monotonic: boolean,
    hostname?: string,
    tags?: readonly string[],
    flushFirstValue?: boolean,
  ): void;
  serviceCheck(
    name: string,
    status: ServiceCheckStatus,
    tags?: readonly string[],
    hostname?: string,
    message?: string,
  ): void;
  event(event: CheckEvent): void;
  /** Forwarded as-is to the event platform (`dbm-samples`, …), never buffered. */
  eventPlatformEvent(raw: string, eventType: string): void;
  /** Inventory metadata of this instance (status "metadata:"). */
  setMetadata(key: string, value: string): void;
}

/** What one run returns; a check that throws is a run with an error. */
export interface RunResult {
  /** Set when the run failed; `traceback` is the stack (Python: the traceback text). */
  error?: { message: string; traceback: string };
  warnings: string[];
  /** Python with tracemalloc: the run's allocation delta and peak, in bytes. */
  mem?: { allocDelta: number; peak: number };
}

/** A loaded check instance, ready to run. */
export interface Check {
  readonly name: string;
  /** The ID it runs and reports under (built-ins with one instance: the check name). */
  readonly id: string;
  /** `""` for built-ins; the module's version, else `unversioned`. */
  readonly version: string;
  /** `file:<path>` of its config. */
  readonly source: string;
  /** Seconds between runs; 0 runs it once, as a long-running check. */
  readonly intervalS: number;
  /** Name of the loader that loaded it, e.g. `JS Check Loader`. */
  readonly loader: string;
  /** Runs once; submissions go to the sender it was loaded with. `signal` aborts on cancel or timeout. */
  run(signal: AbortSignal): Promise<RunResult>;
  /** Called when unscheduled; the check lets go of what it holds. */
  cancel(): Promise<void>;
}

/** What the agent gives loaders. */
export interface CheckHost {
  runtime: Runtime;
  config: Config;
  /** The agent's hostname. */
  hostname: string;
  /** The version checks see (`datadog_agent.get_version()`), Datadog-Agent-compatible. */
  agentVersion: string;
  /** Directories of custom check code, in search order (`additional_checksd` first). */
  checksdPaths: string[];
  /** Logger for a check (`check:<name>`). */
  log(checkName: string): Log;
  /** The shared outbound HTTP stack (proxy, TLS, timeouts). */
  http: HttpClient;
  /** The sender of one check ID, created on first use. */
  senderFor(checkId: string): Sender;
}

/** Tries to turn one instance into a check; `null` means "not mine, try the next loader". */
export interface Loader {
  /** As status prints it: `JS Check Loader`, `Python Check Loader`, `Core Check Loader`. */
  readonly name: string;
  /** The value a `loader:` key names: `js`, `python`, `core`. */
  readonly key: string;
  /** Lower is tried first: js 10, python 20, core 30. */
  readonly priority: number;
  /** Throws an Error whose message is the loading error shown in status. */
  load(config: CheckConfig, instance: InstanceConfig, host: CheckHost): Promise<Check | null>;
  /**
   * What identifies the code of check `name` (its file and mtime), null when the loader has
   * none: a reload loads the check again when this changes, even if its config did not.
   */
  codeStamp?(name: string, host: CheckHost): string | null;
  /** Status lines and JSON the loader adds (Python runner pid, RSS, restarts). */
  stats?(): Record<string, unknown>;
  /** Releases what the loader holds (the Python runner process). */
  stop?(): Promise<void>;
}
