/**
 * The Datadog Agent's `aggregator.Flush` and `aggregator.FlushCount` expvar maps: per name, the
 * last 32 values in a ring (`Flushes`), the index of the newest (`FlushIndex`, -1 before the
 * first) and the newest itself (`LastFlush`). Dashboards and `agent status` read these names.
 */

/** How many past flushes each stat keeps, as in the Go agent. */
const RING = 32;

/** One stat: a ring of the last 32 values. */
export interface FlushStat {
  Flushes: number[];
  FlushIndex: number;
  LastFlush: number;
  Name: string;
}

/** Stats by name; every name exists from the start, so readers see the whole map at once. */
export class FlushStats {
  readonly #stats = new Map<string, FlushStat>();

  constructor(names: readonly string[]) {
    for (const name of names) {
      this.#stats.set(name, {
        Flushes: new Array(RING).fill(0),
        FlushIndex: -1,
        LastFlush: 0,
        Name: name,
      });
    }
  }

  /** Records `value` as the newest flush of `name`. */
  add(name: string, value: number): void {
    const s = this.#stats.get(name);
    if (!s) throw new Error(`Unknown flush stat "${name}"`);
    s.FlushIndex = (s.FlushIndex + 1) % RING;
    s.Flushes[s.FlushIndex] = value;
    s.LastFlush = value;
  }

  /** A copy for the registry, so a reader never sees a ring half-written. */
  toJSON(): Record<string, FlushStat> {
    const out: Record<string, FlushStat> = {};
    for (const [name, s] of this.#stats) out[name] = { ...s, Flushes: [...s.Flushes] };
    return out;
  }
}

/** Names of `aggregator.Flush` (durations in ns). */
export const FLUSH_TIME_NAMES = [
  "ChecksMetricSampleFlushTime",
  "ServiceCheckFlushTime",
  "EventFlushTime",
  "MainFlushTime",
  "MetricSketchFlushTime",
  "ManifestsTime",
] as const;

/** Names of `aggregator.FlushCount` (items per flush). */
export const FLUSH_COUNT_NAMES = [
  "ServiceChecks",
  "Series",
  "Events",
  "Sketches",
  "Manifests",
] as const;
