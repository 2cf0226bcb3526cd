/**
 * The aggregator: every source feeds it, and every 15 s (or on an explicit `flush()`) it hands
 * series, sketches, service checks and events to a {@linkcode MetricsSink}.
 */
import type {
  Event,
  MetricSample,
  MetricsSink,
  OrchestratorPayload,
  Serie,
  ServiceCheck,
  SketchSeries,
} from "../metrics/model.ts";
import type { Log } from "../log/mod.ts";
import { aggregatorEvents, LossReporter, type Registry, SERIALIZER } from "../telemetry/mod.ts";
import { type Config, configDefaults } from "../config/mod.ts";
import type { Built, Component } from "../component.ts";
import { BUILD } from "../version.ts";
import { MAX_TIMESTAMP } from "../metrics/model.ts";
import { sortUniq } from "./_context.ts";
import { type HistogramConfig, histogramConfig } from "./_histogram.ts";
import { BUCKET_SECONDS, TimeSampler } from "./_time_sampler.ts";
import { type BucketSample, CheckSampler } from "./_check_sampler.ts";
import { FLUSH_COUNT_NAMES, FLUSH_TIME_NAMES, FlushStats } from "./_flush_stats.ts";

export type { BucketSample } from "./_check_sampler.ts";

/** Flush period of the agent (`DefaultFlushInterval`). */
export const FLUSH_INTERVAL_MS = 15_000;
/** The no-aggregation batch is sent after this long without samples… */
const NO_AGG_IDLE_MS = 1_000;
/** …checked this often. */
const NO_AGG_CHECK_MS = 2_000;
/** Orchestrator payloads waiting for the sink beyond this many are dropped (and counted). */
const ORCHESTRATOR_QUEUE_MAX = 1_000;
/** The context-limit warning repeats at most this often. */
const LIMIT_LOG_EVERY_S = 60;

/**
 * What a loss line says about each context limit: which key to raise, and what happens next.
 * Built once, since under a cardinality burst every sample of a new context is a drop.
 */
function limitDetails(
  o: { contextLimit: number; contextBytesLimit: number },
): Record<string, string> {
  const next =
    "reached: samples of new contexts are dropped; idle single-sample contexts are evicted at the next flush";
  return {
    context_limit: `dogstatsd_context_limit ${o.contextLimit} ${next}`,
    context_bytes_limit: `dogstatsd_context_bytes_limit ${o.contextBytesLimit} bytes ${next}`,
  };
}

/** What the config sets in the aggregator (see {@linkcode aggregatorSettings}). */
export interface AggregatorSettings {
  histogramAggregates: readonly string[];
  histogramPercentiles: readonly string[];
  /** Counters keep being sent as 0 for this long after their last sample. */
  counterExpirySeconds: number;
  contextExpirySeconds: number;
  contextLimit: number;
  /** Bytes of names, hosts and tags the contexts may hold (see `contextBytes`). */
  contextBytesLimit: number;
  /** Timestamped DogStatsD samples skip aggregation. */
  noAggregation: boolean;
  noAggregationBatchSize: number;
  /** Flush open buckets too when stopping. */
  flushIncompleteBuckets: boolean;
  checkExpiryCommits: number;
  checkStatefulExpirySeconds: number;
  /** Log each flushed item at debug level. */
  logPayloads: boolean;
}

/**
 * Reads the aggregator's keys; the only place they are read.
 *
 * @example The agent's defaults
 * ```ts
 * import { configDefaults } from "../config/mod.ts";
 * import { aggregatorSettings } from "./aggregator.ts";
 * console.log(aggregatorSettings(configDefaults()).contextLimit); // 1000000
 * ```
 */
export function aggregatorSettings(config: Config): AggregatorSettings {
  return {
    histogramAggregates: config.histogram_aggregates,
    histogramPercentiles: config.histogram_percentiles,
    counterExpirySeconds: config.dogstatsd_expiry_seconds,
    contextExpirySeconds: config.dogstatsd_context_expiry_seconds,
    contextLimit: config.dogstatsd_context_limit,
    contextBytesLimit: config.dogstatsd_context_bytes_limit,
    noAggregation: config.dogstatsd_no_aggregation_pipeline,
    noAggregationBatchSize: config.dogstatsd_no_aggregation_pipeline_batch_size,
    flushIncompleteBuckets: config.dogstatsd_flush_incomplete_buckets,
    checkExpiryCommits: config.check_sampler_bucket_commits_count_expiry,
    checkStatefulExpirySeconds: config.check_sampler_stateful_metric_expiration_time,
    logPayloads: config.log_payloads,
  };
}

/** What the aggregator needs besides its settings. */
export interface AggregatorDeps {
  sink: MetricsSink;
  /** The agent's host name: samples with host "" get it, and so do the agent's own series. */
  hostname: string;
  registry: Registry;
  log: Log;
  /** Where drops are told; the agent shares one among its components. @default a new one */
  losses?: LossReporter;
  /** Current time in Unix seconds. @default Date.now() / 1000 */
  now?: () => number;
  /** Agent flavor in `datadog.<flavor>.running`. @default "agent" */
  flavor?: string;
  /**
   * Payload items dropped so far because no payload within the intake limits could hold them:
   * the value of `n_o_i_n_d_e_x.datadog.<flavor>.payload.dropped`.
   * @default the sum of the registry's `serializer.items_too_big`
   */
  payloadDrops?: () => number;
}

/**
 * Options of {@linkcode Aggregator}: its deps, and any settings to change from the config's
 * defaults (tests, embedders).
 */
export type AggregatorOptions = AggregatorDeps & Partial<AggregatorSettings>;

/** Options of {@linkcode Aggregator.flush}. */
export interface FlushOptions {
  /** Flush time in Unix seconds. @default the clock */
  now?: number;
  /** Also flush buckets still open (shutdown, Lambda). @default false */
  all?: boolean;
}

/** What one flush handed to the sink. */
export interface FlushSummary {
  series: number;
  sketches: number;
  serviceChecks: number;
  events: number;
  /** Milliseconds the flush took, sink included. */
  ms: number;
}

/** What a check instance holds: add samples during a run, commit at its end. */
export interface CheckSamplerHandle {
  /** False when the sample was dropped (NaN, infinite, out of range), counted as `invalid_value`. */
  addSample(sample: MetricSample): boolean;
  /** An OpenMetrics histogram bucket into the context's sketch; false when refused (and counted). */
  addBucket(bucket: BucketSample): boolean;
  /** Ends the run at `ts` (Unix seconds); its series go out with the next flush. */
  commit(ts: number): void;
}

/**
 * Aggregates samples from DogStatsD and checks, buffers events and service checks, and flushes.
 *
 * Each flush calls the sink's `series`, `sketches`, `serviceChecks` and `events` once, in that
 * order, even when a list is empty; the no-aggregation path calls `series` on its own. Series
 * of contexts with the same tags share one `tags` array: sinks must not mutate it.
 *
 * @example Aggregate a counter and flush it
 * ```ts
 * import { Aggregator, memorySink } from "./mod.ts";
 * import { Registry } from "../telemetry/mod.ts";
 * import { createLogger } from "../log/mod.ts";
 * const sink = memorySink();
 * let t = 1000;
 * const agg = new Aggregator({
 *   sink, hostname: "h", registry: new Registry(), log: createLogger().for("aggregator"), now: () => t,
 * });
 * agg.addSamples([{ name: "hits", value: 5, type: "counter", tags: [], host: "", sampleRate: 1, timestamp: 0 }]);
 * t = 1015;
 * await agg.flush(); // sink.series has hits = 0.5/s at 1000, plus datadog.agent.running
 * ```
 */
export class Aggregator {
  readonly #o: Required<Omit<AggregatorOptions, "losses">>;
  readonly #log: Log;
  readonly #losses: LossReporter;
  readonly #limitDetails: Record<string, string>;
  readonly #now: () => number;
  readonly #histogram: HistogramConfig;
  readonly #ts: TimeSampler;
  readonly #checks = new Map<string, CheckSampler>();
  #checkSeries: Serie[] = [];
  #recurrent = new Map<string, Omit<Serie, "points"> & { value: number }>();
  #checkSketches: SketchSeries[] = [];
  #events: Event[] = [];
  #serviceChecks: ServiceCheck[] = [];
  #noAgg: Serie[] = [];
  #noAggLast = 0;
  #orchestrator: OrchestratorPayload[] = [];
  #orchestratorScheduled = false;
  readonly #inflight = new Set<Promise<unknown>>();
  #flushing: Promise<unknown> = Promise.resolve();
  #lastEvictLog = -Infinity;
  #evictedUnlogged = 0;
  #lastFlushOk = true;
  readonly #t: ReturnType<typeof telemetry>;
  readonly #flushTimes = new FlushStats(FLUSH_TIME_NAMES);
  readonly #flushCounts = new FlushStats(FLUSH_COUNT_NAMES);

  constructor(options: AggregatorOptions) {
    this.#o = {
      now: () => Date.now() / 1000,
      flavor: "agent",
      payloadDrops: () => totalOf(options.registry.read(SERIALIZER.itemsTooBig)),
      ...aggregatorSettings(configDefaults()),
      ...options,
    };
    this.#log = options.log;
    this.#limitDetails = limitDetails(this.#o);
    this.#losses = options.losses ??
      new LossReporter({ registry: options.registry, logger: { for: () => options.log } });
    this.#now = this.#o.now;
    const { config, problems } = histogramConfig(
      this.#o.histogramAggregates,
      this.#o.histogramPercentiles,
    );
    for (const p of problems) this.#log.warn(p);
    this.#histogram = config;
    this.#ts = new TimeSampler({
      histogram: config,
      counterExpirySeconds: this.#o.counterExpirySeconds,
      contextExpirySeconds: this.#o.contextExpirySeconds,
      contextLimit: this.#o.contextLimit,
      contextBytesLimit: this.#o.contextBytesLimit,
    });
    this.#t = telemetry(options.registry, this.#ts, this.#flushTimes, this.#flushCounts);
  }

  /** The options in force, defaults applied. */
  get options(): Readonly<Required<Omit<AggregatorOptions, "losses">>> {
    return this.#o;
  }

  /**
   * Adds DogStatsD samples received at `now` (Unix seconds). Samples with their own timestamp
   * take the no-aggregation path when it is on.
   */
  addSamples(samples: readonly MetricSample[], now: number = this.#now()): void {
    const ts = this.#ts;
    const t = this.#t;
    const hostname = this.#o.hostname;
    const noAgg = this.#o.noAggregation;
    t.dogstatsdMetricSample.inc(samples.length);
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i];
      if (s.timestamp > 0 && noAgg) {
        this.#noAggregation(s, now);
        continue;
      }
      const drop = ts.add(
        s.name,
        s.host || hostname,
        s.tags,
        s.type,
        s.value,
        s.rawValue,
        s.sampleRate,
        s.timestamp > 0 ? s.timestamp : now,
      );
      if (drop !== null) this.#dropped(drop);
    }
  }

  /** Counts a drop by reason and tells it through the agent's one loss reporter. */
  #dropped(reason: string, count = 1, detail?: string): void {
    this.#t.dropped.with(reason).inc(count);
    this.#losses.lost({
      component: "aggregator",
      reason,
      count,
      unit: reason === "orchestrator_queue_full" ? "payloads" : "samples",
      detail: detail ?? this.#limitDetails[reason],
    });
  }

  /** Counts contexts evicted under pressure and says so at most once a minute. */
  #evicted(n: number, now: number): void {
    if (n === 0) return;
    this.#t.dogstatsdContextsEvicted.inc(n);
    this.#evictedUnlogged += n;
    if (now - this.#lastEvictLog < LIMIT_LOG_EVERY_S) return;
    this.#lastEvictLog = now;
    this.#log.warn(
      `DogStatsD contexts near their limit: evicted ${this.#evictedUnlogged} idle contexts ` +
        "(single-sample, or counters only sending zeros) to make room for new ones",
    );
    this.#evictedUnlogged = 0;
  }

  #noAggregation(s: MetricSample, now: number): void {
    let value = s.value;
    let type: Serie["type"];
    if (s.type === "gauge") type = "gauge";
    else if (s.type === "counter") {
      type = "rate";
      value /= BUCKET_SECONDS;
    } else {
      this.#dropped(
        "no_aggregation_unsupported_type",
        1,
        `last: timestamped "${s.name}" of type ${s.type}; only gauges and counters can carry a timestamp`,
      );
      return;
    }
    if (!Number.isFinite(value)) {
      this.#dropped("invalid_value");
      return;
    }
    if (!(s.timestamp <= MAX_TIMESTAMP)) {
      this.#dropped("invalid_timestamp");
      return;
    }
    this.#noAgg.push({
      name: s.name,
      points: [[s.timestamp, value]],
      tags: sortUniq(s.tags),
      host: s.host || this.#o.hostname,
      type,
      interval: BUCKET_SECONDS,
      sourceTypeName: "",
    });
    this.#noAggLast = now;
    this.#t.noAggregationSamples.inc();
    if (this.#noAgg.length >= this.#o.noAggregationBatchSize) void this.#sendNoAgg();
  }

  /** Sends the no-aggregation batch when no sample came for a second (called every 2 s). */
  checkNoAggregationIdle(now: number = this.#now()): void {
    if (this.#noAgg.length > 0 && now - this.#noAggLast >= NO_AGG_IDLE_MS / 1000) {
      void this.#sendNoAgg();
    }
  }

  #sendNoAgg(): Promise<void> {
    const batch = this.#noAgg;
    if (batch.length === 0) return Promise.resolve();
    this.#noAgg = [];
    this.#t.noAggregationFlushes.inc();
    const sent = this.#deliver("series", () => this.#o.sink.series(batch));
    this.#track(sent);
    return sent;
  }

  /** Buffers an event until the next flush. */
  addEvent(event: Event): void {
    this.#t.event.inc();
    this.#events.push({ ...event, tags: sortUniq(event.tags) });
  }

  /**
   * Adds a series to every flush from now on, with that flush's time and `value` (the Datadog
   * Agent's recurrent series, e.g. `datadog.agent.check_ready`). The same name and tags replace
   * the earlier one.
   */
  addRecurrentSeries(serie: Omit<Serie, "points"> & { value: number }): void {
    const tags = sortUniq(serie.tags);
    const key = `${serie.name}\u0000${tags.join(",")}`;
    this.#recurrent.set(key, { ...serie, tags });
  }

  /** Buffers a service check until the next flush. */
  addServiceCheck(check: ServiceCheck): void {
    this.#t.serviceCheck.inc();
    this.#serviceChecks.push({ ...check, tags: sortUniq(check.tags) });
  }

  /**
   * Hands orchestrator payloads to the sink on their own: never waits for the sink, and drops
   * (counting them) payloads past a queue of 1000.
   */
  addOrchestrator(payloads: readonly OrchestratorPayload[]): void {
    const room = ORCHESTRATOR_QUEUE_MAX - this.#orchestrator.length;
    if (payloads.length > room) {
      this.#dropped("orchestrator_queue_full", payloads.length - Math.max(0, room));
    }
    if (room <= 0) return;
    this.#orchestrator.push(...payloads.slice(0, room));
    this.#t.orchestratorPayloads.inc(Math.min(room, payloads.length));
    if (this.#orchestratorScheduled) return;
    this.#orchestratorScheduled = true;
    this.#track(
      Promise.resolve().then(async () => {
        this.#orchestratorScheduled = false;
        const batch = this.#orchestrator;
        this.#orchestrator = [];
        await this.#deliver("orchestrator", () => this.#o.sink.orchestrator(batch));
      }),
    );
  }

  /**
   * The sampler of one check instance, created on first use. With `emptyDefaultHostname`
   * (the instance key `empty_default_hostname`) samples without a host keep `""` instead of
   * taking the agent's hostname; the first call for an ID decides.
   */
  checkSampler(id: string, options: { emptyDefaultHostname?: boolean } = {}): CheckSamplerHandle {
    let cs = this.#checks.get(id);
    if (!cs) {
      cs = new CheckSampler({
        histogram: this.#histogram,
        expiryCommits: this.#o.checkExpiryCommits,
        statefulExpirySeconds: this.#o.checkStatefulExpirySeconds,
        hostname: options.emptyDefaultHostname ? "" : this.#o.hostname,
      });
      this.#checks.set(id, cs);
    }
    const sampler = cs;
    return {
      addSample: (s) => {
        this.#t.checksMetricSample.inc();
        if (sampler.addSample(s, this.#now())) return true;
        this.#dropped("invalid_value");
        return false;
      },
      addBucket: (b) => {
        const refused = sampler.addBucket(b, this.#now());
        if (refused === null) return true;
        this.#dropped(
          "invalid_bucket",
          1,
          `last: bucket of "${b.name}" [${b.lowerBound}, ${b.upperBound}] value ${b.value}: ${
            refused.replaceAll("_", " ")
          }`,
        );
        return false;
      },
      commit: (ts) => {
        const out = sampler.commit(ts);
        for (const s of out.series) this.#checkSeries.push(s);
        for (const s of out.sketches) this.#checkSketches.push(s);
      },
    };
  }

  /** Forgets a check instance's sampler (the check was unscheduled). */
  removeCheckSampler(id: string): void {
    this.#checks.delete(id);
  }

  /**
   * Flushes closed buckets, committed check runs, events and service checks to the sink, and
   * resolves once the sink has taken them. Flushes never overlap: a second call waits for the
   * first.
   */
  flush(options: FlushOptions = {}): Promise<FlushSummary> {
    const run = this.#flushing.then(() => this.#flush(options)).then((summary) => {
      this.#lastFlushOk = true;
      return summary;
    }, (e) => {
      // Only a bug gets here (sink failures are counted in #deliver): count, log, go on.
      this.#lastFlushOk = false;
      this.#t.errors.with("flush").inc();
      this.#log.error(`Cannot flush: ${(e as Error).stack ?? e}`);
      throw e;
    });
    this.#flushing = run.catch(() => {});
    return run;
  }

  async #flush({ now = this.#now(), all = false }: FlushOptions): Promise<FlushSummary> {
    const started = performance.now();
    const stamp = Math.floor(now);
    const { series, sketches, evicted } = this.#ts.flush(now, all);
    this.#evicted(evicted, now);
    for (const s of this.#checkSeries) series.push(s);
    for (const { value, ...s } of this.#recurrent.values()) {
      series.push({ ...s, points: [[stamp, value]] });
    }
    for (const s of this.#checkSketches) sketches.push(s);
    this.#checkSeries = [];
    this.#checkSketches = [];
    series.push({
      name: `datadog.${this.#o.flavor}.running`,
      points: [[stamp, 1]],
      tags: [`version:${BUILD.agentVersion}`],
      host: this.#o.hostname,
      type: "gauge",
      interval: 0,
      sourceTypeName: "System",
    });
    // As the Datadog Agent: a running total of items dropped for size, never indexed.
    series.push({
      name: `n_o_i_n_d_e_x.datadog.${this.#o.flavor}.payload.dropped`,
      points: [[stamp, this.#o.payloadDrops()]],
      tags: [],
      host: this.#o.hostname,
      type: "gauge",
      interval: 0,
      sourceTypeName: "System",
      noIndex: true,
    });
    const serviceChecks = this.#serviceChecks;
    const events = this.#events;
    this.#serviceChecks = [];
    this.#events = [];
    for (const c of serviceChecks) if (c.timestamp === 0) c.timestamp = stamp;
    for (const e of events) if (e.timestamp === 0) e.timestamp = stamp;
    serviceChecks.push({
      name: `datadog.${this.#o.flavor}.up`,
      status: 0,
      timestamp: stamp,
      host: this.#o.hostname,
      message: "",
      tags: [],
    });
    const noAggSent = this.#sendNoAgg();
    if (this.#o.logPayloads) this.#logPayloads(series, sketches, serviceChecks, events);

    const sink = this.#o.sink;
    const counts = this.#flushCounts;
    counts.add("Series", series.length);
    counts.add("Sketches", sketches.length);
    counts.add("ServiceChecks", serviceChecks.length);
    if (events.length > 0) counts.add("Events", events.length);
    await this.#deliver("series", () => sink.series(series), "ChecksMetricSampleFlushTime");
    await this.#deliver("sketches", () => sink.sketches(sketches), "MetricSketchFlushTime");
    await this.#deliver(
      "service_checks",
      () => sink.serviceChecks(serviceChecks),
      "ServiceCheckFlushTime",
    );
    await this.#deliver("events", () => sink.events(events), "EventFlushTime");
    await noAggSent;

    const t = this.#t;
    const ms = performance.now() - started;
    t.numberOfFlush.inc();
    t.flushTimeMs.set(Math.round(ms * 1000) / 1000);
    this.#flushTimes.add("MainFlushTime", Math.round(ms * 1e6));
    t.seriesFlushed.inc(series.length);
    t.sketchesFlushed.inc(sketches.length);
    t.serviceCheckFlushed.inc(serviceChecks.length);
    t.eventsFlushed.inc(events.length);
    return {
      series: series.length,
      sketches: sketches.length,
      serviceChecks: serviceChecks.length,
      events: events.length,
      ms,
    };
  }

  /**
   * Calls the sink, counting a failure by kind instead of letting it escape; with `timeName`,
   * records how long the hand-off took (ns) under that `aggregator.Flush` name.
   */
  async #deliver(
    kind: string,
    call: () => void | Promise<void>,
    timeName?: string,
  ): Promise<void> {
    const started = performance.now();
    try {
      await call();
    } catch (e) {
      this.#t.errors.with(`sink_${kind}`).inc();
      this.#t.flushErrors[kind]?.inc();
      this.#log.error(`Cannot hand ${kind} to the serializer: ${(e as Error).message}`);
    }
    if (timeName) this.#flushTimes.add(timeName, Math.round((performance.now() - started) * 1e6));
  }

  #track(p: Promise<unknown>): void {
    this.#inflight.add(p);
    p.finally(() => this.#inflight.delete(p));
  }

  #logPayloads(
    series: Serie[],
    sketches: SketchSeries[],
    checks: ServiceCheck[],
    events: Event[],
  ): void {
    if (!this.#log.enabled("debug")) return;
    for (const s of series) this.#log.debug(`Flushing serie: ${JSON.stringify(s)}`);
    for (const s of sketches) this.#log.debug(`Flushing sketch: ${JSON.stringify(s)}`);
    for (const c of checks) this.#log.debug(`Flushing service check: ${JSON.stringify(c)}`);
    for (const e of events) this.#log.debug(`Flushing event: ${JSON.stringify(e)}`);
  }

  /** False when the last flush failed (not the sink: the aggregator itself). */
  get healthy(): boolean {
    return this.#lastFlushOk;
  }

  /** Waits for orchestrator and no-aggregation hand-offs still running. */
  async drain(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.all(this.#inflight);
  }
}

/** The sum of a labelled counter's values as the registry reads it (0 when absent). */
function totalOf(read: unknown): number {
  if (typeof read !== "object" || read === null) return 0;
  return Object.values(read as Record<string, number>).reduce((a, b) => a + b, 0);
}

function telemetry(r: Registry, ts: TimeSampler, times: FlushStats, counts: FlushStats) {
  return aggregatorEvents(r, {
    flush: () => times.toJSON(),
    flushCount: () => counts.toJSON(),
    dogstatsdContexts: () => ts.size,
    dogstatsdContextsBytes: () => ts.bytes,
    dogstatsdContextsByMtype: () => {
      const [gauge, counter, set, histogram, distribution] = ts.countByKind;
      return {
        Gauge: gauge,
        Counter: counter,
        Set: set,
        Histogram: histogram,
        Distribution: distribution,
      };
    },
  });
}

/**
 * Builds the aggregator and its flush loop: every 15 s it flushes closed buckets to the sink;
 * `stop` flushes what is left (open buckets too with `dogstatsd_flush_incomplete_buckets`) and
 * waits for the sink.
 *
 * @example
 * ```ts
 * import { configDefaults } from "../config/mod.ts";
 * import { createLogger } from "../log/mod.ts";
 * import { Registry } from "../telemetry/mod.ts";
 * import { memorySink } from "./sinks.ts";
 * import { aggregatorSettings, buildAggregator } from "./aggregator.ts";
 * const sink = memorySink();
 * const { component, healthcheck } = buildAggregator(aggregatorSettings(configDefaults()), {
 *   sink, hostname: "edge-1", registry: new Registry(), log: createLogger().for("aggregator"),
 * });
 * await component.start();
 * component.aggregator.addSamples([{ name: "m", value: 1, type: "c", tags: [], host: "" }]);
 * await component.stop();
 * console.assert(healthcheck());
 * ```
 */
export function buildAggregator(
  settings: AggregatorSettings,
  deps: AggregatorDeps,
): Built<AggregatorComponent> {
  const aggregator = new Aggregator({ ...deps, ...settings });
  let ticker: ReturnType<typeof setInterval> | undefined;
  let idle: ReturnType<typeof setInterval> | undefined;
  const component: AggregatorComponent = {
    name: "aggregator",
    aggregator,
    start() {
      // A failed flush is already counted and logged by flush() itself.
      ticker = setInterval(() => aggregator.flush().catch(() => {}), FLUSH_INTERVAL_MS);
      idle = setInterval(() => aggregator.checkNoAggregationIdle(), NO_AGG_CHECK_MS);
      return Promise.resolve();
    },
    async stop() {
      clearInterval(ticker);
      clearInterval(idle);
      await aggregator.flush({ all: settings.flushIncompleteBuckets });
      await aggregator.drain();
    },
  };
  return { component, healthcheck: () => aggregator.healthy };
}

/** The aggregator as a component: the flush loop around it. */
export interface AggregatorComponent extends Component {
  readonly aggregator: Aggregator;
}
