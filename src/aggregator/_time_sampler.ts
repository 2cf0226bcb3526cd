/**
 * The DogStatsD time sampler: 10 s buckets, flushed once closed, counters zero-filled for
 * `dogstatsd_expiry_seconds`, contexts forgotten after `dogstatsd_context_expiry_seconds`.
 *
 * Limits: a new context is refused (and counted) past `contextLimit` contexts or
 * `contextBytesLimit` bytes (see `contextBytes`). So that a burst of junk cannot lock new
 * metrics out for the whole counter expiry, a flush under pressure (a context was refused since
 * the last flush, or either figure is at 90 % of its limit) also evicts every idle context (its
 * data already flushed) that got a single sample, and every counter past its context expiry
 * that only zero-fills. Such an eviction loses no sample: at most the zeros of an idle counter.
 *
 * Layout, for memory: one map entry per context, and the context object itself holds the
 * state of its newest bucket (a gauge or a counter is a number field, no extra object). Only
 * when a sample lands in a different bucket before the flush does the older state move to
 * `#pending`. Samples arrive at wall-clock time, so that stays rare.
 */
import {
  MAX_TIMESTAMP,
  MIN_SAMPLE_RATE,
  type SampleType,
  type Serie,
  type SketchSeries,
} from "../metrics/model.ts";
import { contextBytes, contextKey, Interner } from "./_context.ts";
import { Histogram, type HistogramConfig } from "./_histogram.ts";
import { AgentSketch } from "./sketch.ts";

/** DogStatsD bucket width in seconds (fixed in the agent). */
export const BUCKET_SECONDS = 10;

const GAUGE = 0;
const COUNTER = 1;
const SET = 2;
const HISTOGRAM = 3;
const DISTRIBUTION = 4;
type Kind = 0 | 1 | 2 | 3 | 4;

/** The kind a DogStatsD sample type aggregates as, or -1 when the time sampler has none. */
function kindOf(t: SampleType): Kind | -1 {
  switch (t) {
    case "gauge":
      return GAUGE;
    case "counter":
      return COUNTER;
    case "set":
      return SET;
    case "histogram":
      return HISTOGRAM;
    case "distribution":
      return DISTRIBUTION;
    default:
      return -1;
  }
}

/** One bucket's state of one context: `v` for gauges and counters, `x` for the others. */
interface Slot {
  v: number;
  x: Set<string> | Histogram | AgentSketch | null;
}

class Ctx implements Slot {
  v = 0;
  x: Set<string> | Histogram | AgentSketch | null = null;
  /** Start of the bucket `v`/`x` belong to; -1 when empty. */
  bucket = -1;
  /** Older buckets of this context waiting in `#pending`. */
  pending = 0;
  /** Last counter sample time; zero-fill runs until it is `expiry` old. */
  counterLast = -Infinity;
  /** True until a second sample arrives: what a flush under pressure evicts first. */
  once = true;
  constructor(
    readonly kind: Kind,
    readonly name: string,
    readonly host: string,
    /** Shared, sorted, distinct (see `Interner.tagSet`). */
    readonly tags: string[],
    public lastSeen: number,
    /** Charged against `contextBytesLimit` (see `contextBytes`). */
    readonly bytes: number,
  ) {}
}

/** Options of {@linkcode TimeSampler}. */
export interface TimeSamplerOptions {
  histogram: HistogramConfig;
  /** @default 300 */
  counterExpirySeconds: number;
  /** @default 20 */
  contextExpirySeconds: number;
  /** @default 1000000 */
  contextLimit: number;
  /** @default 268435456 */
  contextBytesLimit: number;
}

/** Share of a limit from which a flush evicts idle single-sample and zero-fill-only contexts. */
const PRESSURE = 0.9;

/**
 * Why a sample was not aggregated. `invalid_value`: NaN or ±Inf, or a value that would make
 * its context's sum, mean or count overflow; `invalid_sample_rate`: below MIN_SAMPLE_RATE;
 * `invalid_timestamp`: not in [0, MAX_TIMESTAMP].
 */
export type SampleDrop =
  | "context_limit"
  | "context_bytes_limit"
  | "invalid_value"
  | "invalid_sample_rate"
  | "invalid_timestamp"
  | "unsupported_type"
  | "type_mismatch";

/** What one flush produced. */
export interface SamplerOutput {
  series: Serie[];
  sketches: SketchSeries[];
  /** Contexts evicted early because the limits were under pressure. */
  evicted: number;
}

/** Salt so a distribution and a gauge of the same name and tags are distinct contexts, as in the agent. */
const DISTRIBUTION_SALT = 0x9e3779b1;

/** Aggregates DogStatsD samples into closed 10 s buckets. */
export class TimeSampler {
  readonly #o: TimeSamplerOptions;
  readonly #contexts = new Map<number, Ctx>();
  readonly #pending = new Map<number, Map<Ctx, Slot>>();
  /** Buckets holding any series data (the agent's `metricsByTimestamp` keys). */
  readonly #seriesBuckets = new Set<number>();
  #lastSeriesBucket = NaN;
  readonly #interner = new Interner();
  #lastCutoff = 0;
  #bytes = 0;
  /** A new context was refused since the last flush. */
  #refused = false;
  /** Contexts by kind, for telemetry. */
  readonly countByKind = [0, 0, 0, 0, 0];

  constructor(options: TimeSamplerOptions) {
    this.#o = options;
  }

  /** Live contexts. */
  get size(): number {
    return this.#contexts.size;
  }

  /** Bytes charged by the live contexts (see `contextBytes`). */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Adds one sample at `ts` (seconds); `host` already resolved. Returns why it was dropped,
   * or null.
   */
  add(
    name: string,
    host: string,
    tags: readonly string[],
    type: SampleType,
    value: number,
    raw: string | undefined,
    rate: number,
    ts: number,
  ): SampleDrop | null {
    const kind = kindOf(type);
    if (kind === -1) return "unsupported_type";
    if (!(rate > 0 && rate <= 1)) rate = 1;
    else if (rate < MIN_SAMPLE_RATE) return "invalid_sample_rate";
    // Checks the value as it will be weighted (NaN and ±Inf fail too), so that a context's
    // first sample is never refused after its state was created.
    if (kind !== SET && !Number.isFinite(kind === GAUGE ? value : value * (1 / rate))) {
      return "invalid_value";
    }
    if (!(ts >= 0 && ts <= MAX_TIMESTAMP)) return "invalid_timestamp";
    let key = contextKey(name, host, tags);
    if (kind === DISTRIBUTION) key = key - (key % 4294967296) + ((key ^ DISTRIBUTION_SALT) >>> 0);
    let ctx = this.#contexts.get(key);
    if (ctx === undefined) {
      if (this.#contexts.size >= this.#o.contextLimit) {
        this.#refused = true;
        return "context_limit";
      }
      const bytes = contextBytes(name, host, tags);
      if (this.#bytes + bytes > this.#o.contextBytesLimit) {
        this.#refused = true;
        return "context_bytes_limit";
      }
      const i = this.#interner;
      ctx = new Ctx(kind, i.string(name), i.string(host), i.tagSet(tags), ts, bytes);
      this.#contexts.set(key, ctx);
      this.countByKind[kind]++;
      this.#bytes += bytes;
    } else if (ctx.kind !== kind) {
      return "type_mismatch";
    } else {
      ctx.once = false;
    }
    ctx.lastSeen = ts;
    if (kind === COUNTER) ctx.counterLast = ts;
    const bucket = ts - (ts % BUCKET_SECONDS);
    if (!this.#addTo(this.#slot(ctx, bucket), kind, value, raw ?? "", rate)) return "invalid_value";
    // Samples arrive in the same bucket for 10 s: skip the set insert until it changes.
    if (kind !== DISTRIBUTION && bucket !== this.#lastSeriesBucket) {
      this.#seriesBuckets.add(bucket);
      this.#lastSeriesBucket = bucket;
    }
    return null;
  }

  /** The slot of `ctx` for `bucket`; a newer bucket moves the context's current one to `#pending`. */
  #slot(ctx: Ctx, bucket: number): Slot {
    if (ctx.bucket === bucket) return ctx;
    if (ctx.bucket === -1) {
      ctx.bucket = bucket;
      return ctx;
    }
    if (bucket > ctx.bucket) {
      this.#pendingSlot(ctx, ctx.bucket, ctx);
      ctx.bucket = bucket;
      ctx.v = 0;
      ctx.x = null;
      return ctx;
    }
    return this.#pendingSlot(ctx, bucket, null);
  }

  #pendingSlot(ctx: Ctx, bucket: number, from: Slot | null): Slot {
    let m = this.#pending.get(bucket);
    if (!m) this.#pending.set(bucket, m = new Map());
    let s = m.get(ctx);
    if (!s) {
      s = from ? { v: from.v, x: from.x } : { v: 0, x: null };
      m.set(ctx, s);
      ctx.pending++;
    }
    return s;
  }

  /** False when the slot refused the sample because its state would overflow. */
  #addTo(s: Slot, kind: Kind, value: number, raw: string, rate: number): boolean {
    switch (kind) {
      case GAUGE:
        s.v = value;
        return true;
      case COUNTER: {
        const v = s.v + value * (1 / rate);
        if (!Number.isFinite(v)) return false;
        s.v = v;
        return true;
      }
      case SET:
        ((s.x ??= new Set()) as Set<string>).add(raw);
        return true;
      case HISTOGRAM:
        return ((s.x ??= new Histogram()) as Histogram).add(value, rate);
      case DISTRIBUTION:
        return ((s.x ??= new AgentSketch()) as AgentSketch).insert(value, rate);
    }
  }

  /**
   * Flushes every bucket closed at `now` (all of them when `all`), zero-fills counters, and
   * forgets idle contexts.
   */
  flush(now: number, all = false): SamplerOutput {
    const cutoff = all ? Infinity : now - (now % BUCKET_SECONDS);
    const closed = (b: number) => b + BUCKET_SECONDS <= cutoff;
    // Zero-fill: every counter still within its expiry gets a 0 in each flushed bucket; with
    // no bucket at all, in the last closed one once a bucket width has passed.
    const fill: number[] = [];
    this.#lastSeriesBucket = NaN;
    if (this.#seriesBuckets.size > 0) {
      for (const b of this.#seriesBuckets) {
        if (closed(b)) {
          fill.push(b);
          this.#seriesBuckets.delete(b);
        }
      }
    } else if (!all && this.#lastCutoff + BUCKET_SECONDS <= cutoff) {
      fill.push(cutoff - BUCKET_SECONDS);
    }
    if (fill.length > 0 && this.countByKind[COUNTER] > 0) {
      const expiry = this.#o.counterExpirySeconds;
      for (const ctx of this.#contexts.values()) {
        if (ctx.kind !== COUNTER) continue;
        for (const b of fill) if (ctx.counterLast + expiry > b) this.#slot(ctx, b).v += 0;
      }
    }
    if (!all) this.#lastCutoff = cutoff;

    const out: SamplerOutput = { series: [], sketches: [], evicted: 0 };
    // Older buckets first, so each series lists its points oldest first.
    const acc = new Map<Ctx, Serie[] | SketchSeries>();
    for (const b of [...this.#pending.keys()].sort((x, y) => x - y)) {
      if (!closed(b)) continue;
      for (const [ctx, slot] of this.#pending.get(b)!) {
        acc.set(ctx, this.#emit(ctx, slot, b, acc.get(ctx), out));
        ctx.pending--;
      }
      this.#pending.delete(b);
    }
    const ctxExpiry = this.#o.contextExpirySeconds;
    const counterExpiry = ctxExpiry + this.#o.counterExpirySeconds;
    const pressure = this.#refused ||
      this.#contexts.size >= PRESSURE * this.#o.contextLimit ||
      this.#bytes >= PRESSURE * this.#o.contextBytesLimit;
    this.#refused = false;
    for (const [key, ctx] of this.#contexts) {
      if (ctx.bucket !== -1 && closed(ctx.bucket)) {
        this.#emit(ctx, ctx, ctx.bucket, acc.size > 0 ? acc.get(ctx) : undefined, out);
        ctx.bucket = -1;
        ctx.v = 0;
        if (ctx.kind === DISTRIBUTION) ctx.x = null;
      }
      if (ctx.bucket !== -1 || ctx.pending !== 0) continue;
      const idle = ctx.kind === COUNTER ? counterExpiry : ctxExpiry;
      const expired = ctx.lastSeen + idle < now;
      if (expired || (pressure && (ctx.once || ctx.lastSeen + ctxExpiry < now))) {
        this.#contexts.delete(key);
        this.countByKind[ctx.kind]--;
        this.#bytes -= ctx.bytes;
        if (!expired) out.evicted++;
      }
    }
    this.#interner.trim(this.#contexts.size);
    return out;
  }

  /** Appends the point(s) of `slot` at `ts` to the context's series, creating them if needed. */
  #emit(
    ctx: Ctx,
    slot: Slot,
    ts: number,
    prev: Serie[] | SketchSeries | undefined,
    out: SamplerOutput,
  ): Serie[] | SketchSeries {
    if (ctx.kind === DISTRIBUTION) {
      const point = (slot.x as AgentSketch).toPoint(ts);
      if (prev) {
        (prev as SketchSeries).points.push(point);
        return prev;
      }
      const s: SketchSeries = {
        name: ctx.name,
        tags: ctx.tags,
        host: ctx.host,
        interval: BUCKET_SECONDS,
        points: [point],
      };
      out.sketches.push(s);
      return s;
    }
    if (ctx.kind !== HISTOGRAM) {
      // One value: no closure and no list on this path, which runs once per context per flush.
      let value = slot.v;
      if (ctx.kind === COUNTER) value /= BUCKET_SECONDS;
      else if (ctx.kind === SET) {
        const set = slot.x as Set<string>;
        value = set.size;
        set.clear();
      }
      if (prev) {
        (prev as Serie[])[0].points.push([ts, value]);
        return prev;
      }
      const s: Serie = {
        name: ctx.name,
        points: [[ts, value]],
        tags: ctx.tags,
        host: ctx.host,
        type: ctx.kind === COUNTER ? "rate" : "gauge",
        interval: BUCKET_SECONDS,
        sourceTypeName: "",
      };
      out.series.push(s);
      return [s];
    }
    const list = (prev as Serie[] | undefined) ?? [];
    let i = 0;
    (slot.x as Histogram).flush(this.#o.histogram, BUCKET_SECONDS, (suffix, type, value) => {
      const have = list[i++];
      if (have) {
        have.points.push([ts, value]);
        return;
      }
      const s: Serie = {
        name: ctx.name + suffix,
        points: [[ts, value]],
        tags: ctx.tags,
        host: ctx.host,
        type,
        interval: BUCKET_SECONDS,
        sourceTypeName: "",
      };
      list.push(s);
      out.series.push(s);
    });
    return list;
  }
}
