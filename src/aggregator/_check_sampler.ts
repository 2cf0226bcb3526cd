/**
 * The check sampler: one per check instance. Samples accumulate during a check run and are
 * committed at its end, stamped with the run's timestamp; series carry source type "System".
 */
import {
  MAX_TIMESTAMP,
  type MetricSample,
  MIN_SAMPLE_RATE,
  type Serie,
  type SeriesType,
  type SketchSeries,
} from "../metrics/model.ts";
import { contextKey, sortUniq } from "./_context.ts";
import { Histogram, type HistogramConfig } from "./_histogram.ts";
import { AgentSketch } from "./sketch.ts";

/** Interval a check histogram's `.count` is divided by (the agent uses 1 for checks). */
const CHECK_HISTOGRAM_INTERVAL = 1;

/** One check-sampler metric: takes samples, flushes to zero or more values. */
interface CheckMetric {
  /** False when the sample is refused because the metric's value would overflow. */
  add(s: MetricSample, ts: number): boolean;
  flush(emit: (suffix: string, type: SeriesType, value: number) => void): void;
  /** Stateful metrics keep their baseline across runs (rate, monotonic_count, historate). */
  readonly stateful: boolean;
}

class GaugeM implements CheckMetric {
  readonly stateful = false;
  #v = 0;
  #has = false;
  add(s: MetricSample) {
    this.#v = s.value;
    this.#has = true;
    return true;
  }
  flush(emit: Parameters<CheckMetric["flush"]>[0]) {
    if (this.#has) emit("", "gauge", this.#v);
    this.#has = false;
  }
}

class CountM implements CheckMetric {
  readonly stateful = false;
  #v = 0;
  #has = false;
  add(s: MetricSample) {
    const v = this.#v + s.value;
    if (!Number.isFinite(v)) return false;
    this.#v = v;
    this.#has = true;
    return true;
  }
  flush(emit: Parameters<CheckMetric["flush"]>[0]) {
    if (this.#has) emit("", "count", this.#v);
    this.#v = 0;
    this.#has = false;
  }
}

/** (v2 − v1)/(t2 − t1) over the last two samples; negative or same-time results dropped. */
class RateM implements CheckMetric {
  readonly stateful = true;
  #prev = 0;
  #prevTs = 0;
  #cur = 0;
  #curTs = 0;
  add(s: MetricSample, ts: number) {
    if (this.#curTs !== 0) {
      this.#prev = this.#cur;
      this.#prevTs = this.#curTs;
    }
    this.#cur = s.value;
    this.#curTs = ts;
    return true;
  }
  flush(emit: Parameters<CheckMetric["flush"]>[0]) {
    if (this.#prevTs === 0 || this.#curTs === 0 || this.#curTs === this.#prevTs) return;
    const value = (this.#cur - this.#prev) / (this.#curTs - this.#prevTs);
    this.#prev = this.#cur;
    this.#prevTs = this.#curTs;
    this.#cur = 0;
    this.#curTs = 0;
    if (value >= 0) emit("", "gauge", value);
  }
}

/** Sum of positive deltas; the first sample is a baseline unless `flush_first_value`. */
class MonotonicCountM implements CheckMetric {
  readonly stateful = true;
  #prev = 0;
  #cur = 0;
  #sampled = false;
  #hasPrev = false;
  #value = 0;
  #flushFirst = false;
  constructor(flushFirst: boolean) {
    this.#flushFirst = flushFirst;
  }
  add(s: MetricSample) {
    if (!this.#sampled) {
      this.#cur = s.value;
      this.#sampled = true;
    } else {
      this.#prev = this.#cur;
      this.#cur = s.value;
      this.#hasPrev = true;
    }
    const diff = this.#cur - this.#prev;
    let value = this.#value;
    if ((this.#hasPrev || this.#flushFirst) && diff >= 0) value += diff;
    // With flush_first_value a decrease is a reset from 0: the new value is the delta.
    else if (this.#flushFirst) value = this.#cur;
    // The baseline still moves: only the delta that would overflow is lost.
    if (!Number.isFinite(value)) return false;
    this.#value = value;
    return true;
  }
  flush(emit: Parameters<CheckMetric["flush"]>[0]) {
    if (!this.#sampled || !(this.#hasPrev || this.#flushFirst)) return;
    emit("", "count", this.#value);
    this.#prev = this.#cur;
    this.#cur = 0;
    this.#value = 0;
    this.#sampled = false;
  }
}

class HistogramM implements CheckMetric {
  readonly stateful = false;
  readonly #h = new Histogram();
  constructor(readonly config: HistogramConfig) {}
  add(s: MetricSample) {
    return this.#h.add(s.value, s.sampleRate > 0 && s.sampleRate <= 1 ? s.sampleRate : 1);
  }
  flush(emit: Parameters<CheckMetric["flush"]>[0]) {
    this.#h.flush(this.config, CHECK_HISTOGRAM_INTERVAL, emit);
  }
}

/** A histogram of the rates between consecutive samples. */
class HistorateM implements CheckMetric {
  readonly stateful = true;
  readonly #h = new Histogram();
  #prev = 0;
  #prevTs = 0;
  constructor(readonly config: HistogramConfig) {}
  add(s: MetricSample, ts: number) {
    let ok = true;
    if (this.#prevTs !== 0 && ts !== this.#prevTs) {
      ok = this.#h.add((s.value - this.#prev) / (ts - this.#prevTs), 1);
    }
    this.#prev = s.value;
    this.#prevTs = ts;
    return ok;
  }
  flush(emit: Parameters<CheckMetric["flush"]>[0]) {
    this.#h.flush(this.config, CHECK_HISTOGRAM_INTERVAL, emit);
  }
}

interface CheckCtx {
  name: string;
  host: string;
  tags: string[];
  metric: CheckMetric | null;
  sketch: AgentSketch | null;
  /** Commit number of the last sample. */
  lastCommit: number;
  /** Time of the last sample. */
  lastSeen: number;
}

/** Options of {@linkcode CheckSampler}. */
export interface CheckSamplerOptions {
  histogram: HistogramConfig;
  /** Commits without samples before a context is forgotten. @default 2 */
  expiryCommits: number;
  /** Seconds a stateful metric keeps its baseline without samples. @default 90000 */
  statefulExpirySeconds: number;
  /** Host for samples whose host is "" (`""` for a check with `empty_default_hostname`). */
  hostname: string;
}

/** One OpenMetrics histogram bucket as a check submits it (see {@linkcode CheckSampler.addBucket}). */
export interface BucketSample {
  name: string;
  /** Observations in the bucket: the count itself, or a running total when `monotonic`. */
  value: number;
  lowerBound: number;
  upperBound: number;
  /** The value is a running total: the sketch takes the delta from the previous one. */
  monotonic: boolean;
  tags: string[];
  host: string;
  /** For a monotonic bucket seen for the first time: take its value as the delta (from 0). */
  flushFirstValue?: boolean;
}

/** Why {@linkcode CheckSampler.addBucket} refused a bucket, or null when it took it. */
export type BucketRefusal = "negative_value" | "bad_bounds" | "too_many_points" | null;

/** Points spread over one bucket at most: a bigger count is refused, not looped over. */
const MAX_BUCKET_POINTS = 1_000_000;

/**
 * Aggregates one check instance's samples; `commit` turns a run into series and sketches.
 *
 * @example
 * ```ts
 * import { CheckSampler } from "./_check_sampler.ts";
 * const cs = new CheckSampler({
 *   histogram: { aggregates: ["max"], percentiles: [] },
 *   expiryCommits: 2, statefulExpirySeconds: 90000, hostname: "h",
 * });
 * cs.addSample({ name: "x", value: 1, type: "gauge", tags: [], host: "", sampleRate: 1, timestamp: 0 });
 * cs.commit(100).series[0].points; // [[100, 1]]
 * ```
 */
export class CheckSampler {
  readonly #o: CheckSamplerOptions;
  readonly #contexts = new Map<number, CheckCtx>();
  /** Last running total of each monotonic bucket, by context key and bounds. */
  readonly #lastBucket = new Map<string, number>();
  #commits = 0;

  constructor(options: CheckSamplerOptions) {
    this.#o = options;
  }

  /** Live contexts. */
  get size(): number {
    return this.#contexts.size;
  }

  /**
   * Adds a sample of the current run. Returns false (the caller counts the drop) when its
   * value is NaN or infinite, its rate is below MIN_SAMPLE_RATE (outside (0, 1] means 1),
   * its timestamp is negative or past MAX_TIMESTAMP, or the metric would overflow.
   */
  addSample(s: MetricSample, now = Date.now() / 1000): boolean {
    if (!Number.isFinite(s.value)) return false;
    if (s.sampleRate > 0 && s.sampleRate < MIN_SAMPLE_RATE) return false;
    const ts = s.timestamp || now;
    if (!(ts > 0 && ts <= MAX_TIMESTAMP)) return false;
    const host = s.host || this.#o.hostname;
    const key = contextKey(s.name, host, s.tags) + (s.type === "distribution" ? 1 : 0);
    let ctx = this.#contexts.get(key);
    if (!ctx) {
      ctx = {
        name: s.name,
        host,
        tags: sortUniq(s.tags),
        metric: null,
        sketch: null,
        lastCommit: this.#commits,
        lastSeen: ts,
      };
      this.#contexts.set(key, ctx);
    }
    ctx.lastCommit = this.#commits;
    ctx.lastSeen = ts;
    if (s.type === "distribution") {
      return (ctx.sketch ??= new AgentSketch()).insert(s.value, s.sampleRate);
    }
    return (ctx.metric ??= this.#make(s)).add(s, ts);
  }

  /**
   * Adds a histogram bucket to its context's sketch: `value` points spread evenly over
   * [lowerBound, upperBound], since the observations inside a bucket are not known. A
   * monotonic bucket adds only its growth since the previous run; its first sighting is a
   * baseline unless `flushFirstValue`. An upper bound of +Inf is taken as twice the lower one,
   * so the top bucket still lands somewhere. A zero count adds nothing and is not a refusal.
   */
  addBucket(b: BucketSample, now = Date.now() / 1000): BucketRefusal {
    if (!Number.isFinite(b.value) || b.value < 0) return "negative_value";
    let { lowerBound: lo, upperBound: hi } = b;
    if (hi === Infinity) hi = lo > 0 ? lo * 2 : lo;
    if (lo === -Infinity) lo = hi;
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi < lo) return "bad_bounds";
    const host = b.host || this.#o.hostname;
    const key = contextKey(b.name, host, b.tags) + 1;
    let n = b.value;
    if (b.monotonic) {
      const bucketKey = `${key}|${b.lowerBound}|${b.upperBound}`;
      const prev = this.#lastBucket.get(bucketKey);
      this.#lastBucket.set(bucketKey, b.value);
      if (prev === undefined && !b.flushFirstValue) return null;
      n = b.value - (prev ?? 0);
      // A running total that went down was reset: nothing to add this time.
      if (n < 0) return null;
    }
    n = Math.round(n);
    if (n === 0) return null;
    if (n > MAX_BUCKET_POINTS) return "too_many_points";
    let ctx = this.#contexts.get(key);
    if (!ctx) {
      ctx = {
        name: b.name,
        host,
        tags: sortUniq(b.tags),
        metric: null,
        sketch: null,
        lastCommit: this.#commits,
        lastSeen: now,
      };
      this.#contexts.set(key, ctx);
    }
    ctx.lastCommit = this.#commits;
    ctx.lastSeen = now;
    const sketch = (ctx.sketch ??= new AgentSketch());
    const width = hi - lo;
    for (let i = 0; i < n; i++) sketch.insert(lo + (width * (i + 0.5)) / n, 1);
    return null;
  }

  #make(s: MetricSample): CheckMetric {
    switch (s.type) {
      case "count":
      case "counter":
        return new CountM();
      case "rate":
        return new RateM();
      case "monotonic_count":
        return new MonotonicCountM(s.flushFirstValue === true);
      case "histogram":
        return new HistogramM(this.#o.histogram);
      case "historate":
        return new HistorateM(this.#o.histogram);
      default:
        return new GaugeM();
    }
  }

  /** Ends a check run at `ts` (seconds): flushes every metric and expires idle contexts. */
  commit(ts: number): { series: Serie[]; sketches: SketchSeries[] } {
    const series: Serie[] = [];
    const sketches: SketchSeries[] = [];
    for (const [key, ctx] of this.#contexts) {
      ctx.metric?.flush((suffix, type, value) =>
        series.push({
          name: ctx.name + suffix,
          points: [[ts, value]],
          tags: ctx.tags,
          host: ctx.host,
          type,
          interval: 0,
          sourceTypeName: "System",
        })
      );
      // A sketch whose only insert was refused holds nothing to send.
      if (ctx.sketch && ctx.sketch.cnt > 0) {
        sketches.push({
          name: ctx.name,
          tags: ctx.tags,
          host: ctx.host,
          interval: 0,
          points: [ctx.sketch.toPoint(ts)],
        });
      }
      ctx.sketch = null;
      const idleRuns = this.#commits - ctx.lastCommit;
      const expired = ctx.metric?.stateful
        ? ts - ctx.lastSeen > this.#o.statefulExpirySeconds
        : idleRuns >= this.#o.expiryCommits;
      if (expired) this.#contexts.delete(key);
    }
    this.#commits++;
    return { series, sketches };
  }
}
