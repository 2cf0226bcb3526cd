/**
 * The forwarder: turns each payload into one transaction per domain × API key and hands them
 * to the domains; runs the retry loop and API key validation; persists on stop.
 */
import type { Built, Component } from "../component.ts";
import { type HttpClient, withTimeout } from "../http/mod.ts";
import { createLogger, type Logger } from "../log/mod.ts";
import type { Runtime } from "../runtime/types.ts";
import { LossReporter, type Registry } from "../telemetry/mod.ts";
import { CircuitBreaker } from "./_breaker.ts";
import { DiskQueue } from "./_disk_queue.ts";
import { DomainForwarder, type DomainSnapshot, type MemoryHeld } from "./_domain.ts";
import { type DomainKeys, transactionHeaders } from "./_endpoints.ts";
import { domainDir, type ForwarderSettings } from "./_settings.ts";
import { RunRecord, type UncleanStop } from "./_run_record.ts";
import { createSend } from "./_send.ts";
import { ForwarderStats } from "./_stats.ts";
import { type Delivery, DeliveryTracker, makeTransaction, type Payload } from "./_transaction.ts";
import { type ApiKeyState, keyLabel, validateKey } from "./_validate.ts";

/** The pipeline of payloads that name none: metrics, to `ForwarderSettings.domains`. */
export const METRICS_PIPELINE = "metrics";

/** What the forwarder needs besides its settings. */
export interface ForwarderDeps {
  runtime: Runtime;
  /** The outbound client: proxy, CA bundle and TLS settings per URL. */
  http: HttpClient;
  registry: Registry;
  /** @default a logger writing to stderr */
  logger?: Logger;
  /** Where losses are told; the agent shares one among its components. @default a new one */
  losses?: LossReporter;
  /** @default Date.now */
  now?: () => number;
  /** @default Math.random */
  random?: () => number;
  /** Period of the retry loop, ms. @default 5000 */
  retryIntervalMs?: number;
  /** Validate API keys at start and every `forwarder_apikey_validation_interval`. @default true */
  validateApiKeys?: boolean;
  /**
   * The run record file (in `run_path`): read at start to tell a previous run killed during
   * an outage, kept up to date while running. Empty for none. @default ""
   */
  runRecordPath?: string;
}

/** The forwarder as a component, plus the entry point for payloads. */
export interface Forwarder extends Component {
  /**
   * Sends `payload` to every domain with every key. The returned handle settles when each of
   * its transactions has been delivered, stored on disk, or given up (with a reason).
   */
  submit(payload: Payload): Delivery;
  /** The domains metrics payloads go to (other pipelines: `ForwarderSettings.pipelines`). */
  readonly domains: readonly DomainKeys[];
  /** Validation result per domain and key label. */
  apiKeyStatus(): Record<string, Record<string, ApiKeyState>>;
  /** Per-domain queue figures. */
  snapshot(): Record<string, DomainSnapshot>;
  /** Resolves when every domain has nothing in a channel or in flight (tests, benchmarks). */
  idle(): Promise<void>;
  /** Runs one turn of the retry loop now. */
  retryNow(): void;
  /** What the previous run lost when it did not stop cleanly, once `start` read it. */
  previousRun(): UncleanStop | null;
}

/**
 * Builds the forwarder. `start` opens the disk queues, starts the retry loop and validates
 * the API keys; `stop` sends what it can within `forwarder_stop_timeout` and persists the rest.
 *
 * @example
 * ```ts ignore
 * const { component: forwarder } = buildForwarder(forwarderSettings(config), {
 *   runtime, registry, http: createHttpClient(runtime, httpSettings(config, process.env)),
 * });
 * await forwarder.start();
 * const delivery = forwarder.submit({ route: "/api/v2/series", body, headers, storable: true });
 * console.log(await delivery.done); // { status: "delivered", reason: "delivered" }
 * ```
 */
export function buildForwarder(settings: ForwarderSettings, deps: ForwarderDeps): Built<Forwarder> {
  const {
    runtime,
    registry,
    logger = createLogger(),
    now = Date.now,
    random = Math.random,
    retryIntervalMs = 5_000,
    validateApiKeys = true,
    runRecordPath = "",
  } = deps;
  const { domains, version } = settings;
  const log = logger.for("forwarder");
  const losses = deps.losses ?? new LossReporter({ registry, logger });
  const stats = new ForwarderStats(registry, losses, {
    apiKeyStatus,
    domains: snapshot,
    previousRun: () => previous,
  }, { log, now });
  const { clientFor, timeoutMs } = deps.http;
  const send = withTimeout(createSend(runtime, { clientFor }), timeoutMs);
  const breaker = new CircuitBreaker({ policy: settings.backoff, now, random });
  // One domain forwarder (queues, disk files) per URL, shared by every pipeline that sends
  // there: in `--dev` metrics, traces and logs all go to the one local intake.
  const pipelines = new Map<string, readonly DomainKeys[]>([
    [METRICS_PIPELINE, domains],
    ...Object.entries(settings.pipelines ?? {}),
  ]);
  const keysByUrl = new Map<string, Set<string>>();
  for (const d of [...pipelines.values()].flat()) {
    const keys = keysByUrl.get(d.url) ?? new Set<string>();
    for (const k of d.apiKeys) keys.add(k);
    keysByUrl.set(d.url, keys);
  }
  const byUrl = new Map(
    [...keysByUrl].map(([url, keys]) => [url, domainForwarder(url, [...keys])]),
  );
  const forwarders = [...byUrl.values()];

  function domainForwarder(url: string, apiKeys: string[]): DomainForwarder {
    return new DomainForwarder({
      url,
      send,
      breaker,
      stats,
      log,
      disk: new DiskQueue({
        dir: domainDir(settings.storageRoot, url),
        domain: url,
        apiKeys,
        maxBytes: settings.storageMaxBytes,
        maxDiskRatio: settings.storageMaxDiskRatio,
        outdatedDays: settings.outdatedDays,
        now,
        onDrop: (reason, count) => stats.drop(url, reason, count),
        onWriteError: (code, message) => stats.writeError(code, message),
      }),
      retryQueueBytes: settings.retryQueueBytes,
      flushToDiskRatio: settings.flushToDiskRatio,
      highPrioSize: settings.highPrioSize,
      lowPrioSize: settings.lowPrioSize,
      concurrency: settings.concurrency,
      spillAfterMs: settings.spillAfterMs,
      now,
    });
  }
  const keyStates = new Map(
    domains.map((d) => [d.url, new Map(d.apiKeys.map((k) => [k, "unchecked" as ApiKeyState]))]),
  );
  const record = runRecordPath ? new RunRecord({ path: runRecordPath, now }) : undefined;
  let recordFailed = false;
  let previous: UncleanStop | null = null;
  let lastSubmitMs: number | null = null;
  let retryTimer: ReturnType<typeof setInterval> | undefined;
  let validateTimer: ReturnType<typeof setInterval> | undefined;

  async function validateAll(): Promise<void> {
    const all = domains.flatMap((d) => d.apiKeys.map((k) => [d.url, k] as const));
    // The Datadog Agent shares one 10 s budget among the keys.
    const timeoutMs = Math.max(1000, Math.floor(10_000 / Math.max(1, all.length)));
    await Promise.all(all.map(async ([domain, key]) => {
      const state = await validateKey(runtime, domain, key, {
        timeoutMs,
        client: clientFor,
        userAgent: `datadog-agent/${version}`,
      });
      keyStates.get(domain)!.set(key, state);
      if (state === "invalid") log.error(`${keyLabel(key)} is invalid for ${domain}`);
    }));
  }

  function apiKeyStatus(): Record<string, Record<string, ApiKeyState>> {
    const out: Record<string, Record<string, ApiKeyState>> = {};
    for (const [domain, keys] of keyStates) {
      out[domain] = Object.fromEntries([...keys].map(([k, s]) => [keyLabel(k), s]));
    }
    return out;
  }

  function snapshot(): Record<string, DomainSnapshot> {
    return Object.fromEntries(forwarders.map((f) => [f.url, f.snapshot()]));
  }

  function retryNow(): void {
    for (const f of forwarders) f.retryTick();
  }

  /** Runs `step` on the run record; the first failure is logged and ends the record. */
  function onRecord(what: string, step: (r: RunRecord) => void): void {
    if (!record || recordFailed) return;
    try {
      step(record);
    } catch (e) {
      recordFailed = true;
      log.warn(
        `Cannot ${what} the run record ${runRecordPath}: ${
          (e as Error).message
        }; a crash of this run will not be told at the next start`,
      );
    }
  }

  function heldInMemory(): MemoryHeld {
    const held: MemoryHeld = { transactions: 0, bytes: 0, oldestMs: null };
    for (const f of forwarders) {
      const h = f.inMemory();
      held.transactions += h.transactions;
      held.bytes += h.bytes;
      if (h.oldestMs !== null && (held.oldestMs === null || h.oldestMs < held.oldestMs)) {
        held.oldestMs = h.oldestMs;
      }
    }
    return held;
  }

  /** Logs and counts what the previous run, killed without a clean stop, lost. */
  function tellUncleanStop(u: UncleanStop): void {
    const at = (ms: number) => new Date(ms).toISOString();
    const payloads = u.transactions > 0
      ? `${u.transactions} payload(s) (${u.bytes} bytes) held only in memory, the oldest from ${
        at(u.lostSinceMs)
      }, were lost, as was`
      : "lost:";
    log.warn(
      `The previous run (pid ${u.pid}, started ${at(u.startedMs)}) ended without a clean stop ` +
        `after ${at(u.lastSeenMs)}; ${payloads} the data received since ${
          at(u.lostSinceMs)
        } that was not flushed yet`,
    );
    if (u.transactions > 0) stats.dropped.with("unclean_stop").inc(u.transactions);
  }

  const forwarder: Forwarder = {
    name: "forwarder",
    domains,

    async start() {
      if (domains.length === 0) log.warn("No domain with an API key: payloads have nowhere to go");
      for (const [name, ds] of pipelines) {
        for (const d of ds) {
          log.debug(`Forwarding ${name} to ${d.url} with ${d.apiKeys.length} key(s)`);
        }
      }
      onRecord("write", (r) => (previous = r.open()));
      if (previous) tellUncleanStop(previous);
      for (const f of forwarders) f.openDisk();
      retryTimer = setInterval(() => {
        retryNow();
        onRecord("update", (r) => r.update(heldInMemory(), lastSubmitMs));
      }, retryIntervalMs);
      if (validateApiKeys) {
        void validateAll();
        validateTimer = setInterval(
          () => void validateAll(),
          settings.apiKeyValidationIntervalMs,
        );
      }
      retryNow();
    },

    async stop() {
      clearInterval(retryTimer);
      clearInterval(validateTimer);
      await Promise.all(forwarders.map((f) => f.stop(settings.stopTimeoutMs)));
      onRecord("close", (r) => r.close());
      // Stopped last of the pipeline: the losses of every component are told before exit.
      losses.flush();
    },

    submit(payload) {
      const pipeline = pipelines.get(payload.pipeline ?? METRICS_PIPELINE) ?? [];
      const targets = pipeline.flatMap((d) => d.apiKeys.map((k) => [d, k] as const));
      const tracker = new DeliveryTracker(targets.length);
      if (targets.length === 0) stats.drop(payload.route, "no_endpoint");
      const createdAt = now();
      lastSubmitMs = createdAt;
      for (const [d, apiKey] of targets) {
        byUrl.get(d.url)!.submit(makeTransaction({
          domain: d.url,
          route: payload.route,
          apiKey,
          headers: transactionHeaders(payload.headers, {
            apiKey,
            version,
            allowArbitraryTags: settings.allowArbitraryTags,
          }),
          body: payload.body,
          storable: payload.storable,
          priority: payload.priority,
          kind: payload.kind ?? "payload",
          createdAt,
          tracker,
        }));
      }
      return tracker;
    },

    apiKeyStatus,
    snapshot,
    previousRun: () => previous,
    async idle() {
      await Promise.all(forwarders.map((f) => f.idle()));
    },
    retryNow,
  };
  // Unhealthy only when every key was checked and refused; data keeps flowing regardless.
  const healthcheck = () => {
    const states = [...keyStates.values()].flatMap((m) => [...m.values()]);
    return states.length === 0 || states.some((s) => s !== "invalid");
  };
  return { component: forwarder, healthcheck };
}
