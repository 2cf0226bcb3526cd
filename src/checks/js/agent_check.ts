/**
 * The API of a JS/TS custom check, the counterpart of Python's `AgentCheck`. A check is a file
 * `checks.d/<name>.ts` (or `.mts`, `.js`, `.mjs`) whose default export is a class extending
 * {@linkcode AgentCheck}, configured by `conf.d/<name>.d/conf.yaml`:
 *
 * ```ts ignore
 * import { AgentCheck } from "outpost:checks";
 *
 * export const version = "1.0.0";
 *
 * export default class extends AgentCheck {
 *   static NAMESPACE = "shop";
 *   async check(instance: Record<string, unknown>) {
 *     const res = await this.agent.http(String(instance.url), { signal: this.signal });
 *     this.gauge("orders.open", Number(await res.text()), { tags: ["team:web"] });
 *   }
 * }
 * ```
 *
 * `outpost:checks` is provided by the agent at run time (Bun). For type-checking, map it to this
 * file in the check's `tsconfig.json`: `"paths": { "outpost:checks": ["<outpost>/src/checks/js/agent_check.ts"] }`.
 * Plain JS checks may also use the global `AgentCheck` the loader defines (the only way on Deno).
 *
 * This file imports nothing, so that a check author's type-check needs only it.
 *
 * @module
 */

/** Metric types a check submits, by the aggregator's names. */
export type MetricType =
  | "gauge"
  | "rate"
  | "count"
  | "monotonic_count"
  | "counter"
  | "histogram"
  | "historate";

/** Options of the metric methods. */
export interface MetricOptions {
  /** Tags of this point, added to the instance's `tags`; non-strings are skipped. */
  tags?: readonly string[];
  /** The host the point belongs to. @default the agent's hostname */
  hostname?: string;
  /** Count the first value of a monotonic count instead of using it as the baseline. @default false */
  flushFirstValue?: boolean;
  /** Submit the name as given, without the class's `NAMESPACE` (Python's `raw=True`). @default false */
  raw?: boolean;
}

/** Options of {@linkcode AgentCheck.serviceCheck}. */
export interface ServiceCheckOptions {
  tags?: readonly string[];
  /** @default the agent's hostname */
  hostname?: string;
  /** Why the status is not OK (dropped, with a warning, on an OK status). */
  message?: string;
  /** Submit the name without the class's `NAMESPACE`. @default false */
  raw?: boolean;
}

/** An event as a check submits it. */
export interface EventInput {
  title: string;
  text: string;
  /** Unix seconds. @default now */
  timestamp?: number;
  priority?: "normal" | "low";
  alertType?: "error" | "warning" | "info" | "success";
  aggregationKey?: string;
  sourceTypeName?: string;
  eventType?: string;
  host?: string;
  tags?: readonly string[];
}

/** Log levels of {@linkcode AgentApi.log}. */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "warning" | "error" | "critical";

/** What the agent offers a check (Python's `datadog_agent` module). */
export interface AgentApi {
  /** The Datadog-Agent-compatible version, `7.x.y`. */
  readonly version: string;
  /** The agent's hostname. */
  readonly hostname: string;
  /** A copy of the agent setting `key` (`datadog.yaml`); undefined when there is none. */
  getConfig(key: string): unknown;
  /** Writes to the agent's log under `check:<name>`; an unknown level logs as info. */
  log(level: LogLevel, message: string): void;
  /**
   * `fetch` through the agent's outbound stack (proxy, TLS settings, timeout), with
   * `User-Agent: Datadog Agent/<version>` unless the request sets one. The run's
   * {@linkcode AgentCheck.signal} is used when `init` gives none.
   */
  http(url: string | URL, init?: RequestInit): Promise<Response>;
}

/** What the constructor of a check receives. */
export interface CheckContext {
  /** The check name (the file name without extension). */
  name: string;
  /** `init_config` of the config file. */
  initConfig: Readonly<Record<string, unknown>>;
  /** The instance, a deep-frozen copy. */
  instance: Readonly<Record<string, unknown>>;
  /** The check ID (`<name>:[<instance name>:]<hex>`). */
  checkId: string;
  agent: AgentApi;
}

/**
 * What the host attaches to a {@linkcode CheckContext} under {@linkcode HOST_BINDING}: where
 * submissions go. Not part of the author API.
 */
export interface HostBinding {
  metric(
    type: MetricType,
    name: string,
    value: number,
    tags: string[],
    hostname: string | undefined,
    flushFirstValue: boolean,
  ): void;
  serviceCheck(
    name: string,
    status: 0 | 1 | 2 | 3,
    tags: string[],
    hostname: string | undefined,
    message: string | undefined,
  ): void;
  event(event: EventInput & { tags: string[] }): void;
  setMetadata(name: string, value: string): void;
  warning(message: string): void;
  readCache(key: string): string;
  writeCache(key: string, value: string): void;
  /** The signal of the current run. */
  signal(): AbortSignal;
}

/** The key of the host binding in a context (a registered symbol: any copy of this file finds it). */
export const HOST_BINDING: unique symbol = Symbol.for("outpost.checks.host") as never;

/** Service check statuses. */
export const ServiceCheckStatus = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 } as const;

/**
 * The base class of a JS/TS check. Subclasses implement {@linkcode AgentCheck.check}; the agent
 * calls it once per run and adds the instance's `tags`, `service` and hostname rules to
 * everything submitted.
 *
 * @example Submitting from a check without the agent (submissions are discarded)
 * ```ts
 * import { AgentCheck } from "./agent_check.ts";
 * class Demo extends AgentCheck {
 *   check() {
 *     this.gauge("demo.value", 1, { tags: ["a:b"] });
 *   }
 * }
 * const demo = new Demo({
 *   name: "demo",
 *   initConfig: {},
 *   instance: {},
 *   checkId: "demo:1",
 *   agent: {
 *     version: "7.0.0",
 *     hostname: "h",
 *     getConfig: () => undefined,
 *     log() {},
 *     http: (url, init) => fetch(url, init),
 *   },
 * });
 * demo.check();
 * ```
 */
export abstract class AgentCheck {
  /** Prefix of metric and service check names: `<NAMESPACE>.<name>`; none when empty. */
  static NAMESPACE = "";
  /** Service check statuses, as `AgentCheck.OK` in Python. */
  static readonly OK = 0;
  static readonly WARNING = 1;
  static readonly CRITICAL = 2;
  static readonly UNKNOWN = 3;

  /** The check name. */
  readonly name: string;
  /** The check ID. */
  readonly checkId: string;
  /** `init_config`. */
  readonly initConfig: Readonly<Record<string, unknown>>;
  /** The instance (deep-frozen). */
  readonly instance: Readonly<Record<string, unknown>>;
  /** The agent's services. */
  readonly agent: AgentApi;
  #host: HostBinding;

  constructor(ctx: CheckContext) {
    this.name = ctx.name;
    this.checkId = ctx.checkId;
    this.initConfig = ctx.initConfig;
    this.instance = ctx.instance;
    this.agent = ctx.agent;
    this.#host = (ctx as unknown as Record<symbol, HostBinding>)[HOST_BINDING] ?? detachedHost();
  }

  /** One run. Throwing (or rejecting) makes the run an error, with the stack as traceback. */
  abstract check(instance: Readonly<Record<string, unknown>>): void | Promise<void>;

  /** Called when the check is unscheduled (after {@linkcode AgentCheck.signal} aborts). */
  cancel(): void | Promise<void> {}

  /** Aborted when the run times out (`check_run_timeout`) or the check is unscheduled. */
  get signal(): AbortSignal {
    return this.#host.signal();
  }

  gauge(name: string, value: number, opts?: MetricOptions): void {
    this.#metric("gauge", name, value, opts);
  }
  count(name: string, value: number, opts?: MetricOptions): void {
    this.#metric("count", name, value, opts);
  }
  monotonicCount(name: string, value: number, opts?: MetricOptions): void {
    this.#metric("monotonic_count", name, value, opts);
  }
  rate(name: string, value: number, opts?: MetricOptions): void {
    this.#metric("rate", name, value, opts);
  }
  histogram(name: string, value: number, opts?: MetricOptions): void {
    this.#metric("histogram", name, value, opts);
  }
  historate(name: string, value: number, opts?: MetricOptions): void {
    this.#metric("historate", name, value, opts);
  }
  /** Adds `by` to a counter (submitted as a rate per second). */
  increment(name: string, by = 1, opts?: MetricOptions): void {
    this.#metric("counter", name, by, opts);
  }
  /** Subtracts `by` from a counter. */
  decrement(name: string, by = 1, opts?: MetricOptions): void {
    this.#metric("counter", name, -by, opts);
  }

  /** Submits a service check; statuses 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
  serviceCheck(name: string, status: number, opts: ServiceCheckOptions = {}): void {
    if (![0, 1, 2, 3].includes(status)) {
      this.warning(`Service check "${name}" has an invalid status ${status}: expected 0 to 3`);
      return;
    }
    let message = opts.message;
    // Python's stub raises here; a production check should not fail over a message.
    if (status === 0 && message) {
      this.warning(`Service check "${name}" is OK, so its message was dropped: ${message}`);
      message = undefined;
    }
    this.#host.serviceCheck(
      opts.raw ? name : this.#namespaced(name),
      status as 0 | 1 | 2 | 3,
      stringTags(opts.tags),
      opts.hostname,
      message,
    );
  }

  /** Submits an event. */
  event(event: EventInput): void {
    if (typeof event?.title !== "string" || typeof event.text !== "string") {
      this.warning("Event dropped: title and text must be strings");
      return;
    }
    this.#host.event({ ...event, tags: stringTags(event.tags) });
  }

  /** A warning for this run (status "Warning"); also logged. */
  warning(message: string): void {
    this.#host.warning(String(message));
  }

  /** Inventory metadata of this instance (`check_version` and such). */
  setMetadata(name: string, value: unknown): void {
    this.#host.setMetadata(String(name), String(value));
  }

  /** The value written under `key` by this check ID, or `""`. */
  readPersistentCache(key: string): string {
    return this.#host.readCache(`${this.checkId}_${key}`);
  }

  /** Keeps `value` under `key` across runs and restarts (a file under `run_path`, mode 0600). */
  writePersistentCache(key: string, value: string): void {
    this.#host.writeCache(`${this.checkId}_${key}`, String(value));
  }

  #metric(type: MetricType, name: string, value: number, opts: MetricOptions = {}): void {
    if (typeof value !== "number" || !Number.isFinite(value)) {
      this.warning(
        `Metric "${name}" has a non-finite value ${
          String(value)
        }: only finite numbers can be submitted`,
      );
      return;
    }
    this.#host.metric(
      type,
      opts.raw ? name : this.#namespaced(name),
      value,
      stringTags(opts.tags),
      opts.hostname,
      opts.flushFirstValue ?? false,
    );
  }

  #namespaced(name: string): string {
    const ns = (this.constructor as typeof AgentCheck).NAMESPACE;
    return ns ? `${ns}.${name}` : name;
  }
}

function stringTags(tags: readonly unknown[] | undefined): string[] {
  if (!Array.isArray(tags)) return [];
  return tags.filter((t): t is string => typeof t === "string");
}

/** For a check built outside the agent (its own unit tests): submissions go nowhere. */
function detachedHost(): HostBinding {
  const cache = new Map<string, string>();
  const signal = new AbortController().signal;
  return {
    metric() {},
    serviceCheck() {},
    event() {},
    setMetadata() {},
    warning() {},
    readCache: (key) => cache.get(key) ?? "",
    writeCache: (key, value) => void cache.set(key, value),
    signal: () => signal,
  };
}
