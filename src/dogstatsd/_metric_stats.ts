/**
 * Per-context counts of the metric samples DogStatsD received (`dogstatsd_stats_enable`), for
 * `outpost dogstatsd-stats` and `GET /agent/dogstatsd-stats`: which metrics, with which tags,
 * arrive how often. Bounded: past {@linkcode MAX_TRACKED_CONTEXTS} contexts new ones are only
 * counted as untracked, so a tag explosion cannot grow it without end.
 */
import type { MetricSample } from "../metrics/model.ts";

/** Contexts tracked at most: about 200 bytes each, some 20 MB at the cap. */
export const MAX_TRACKED_CONTEXTS = 100_000;

/** One metric context, with the Datadog Agent's field names. */
export interface MetricStat {
  Name: string;
  /** The sorted, deduplicated tags joined with commas. */
  Tags: string;
  /** Samples received. */
  Count: number;
  /** When the last one arrived, RFC 3339. */
  LastSeen: string;
}

/** What the route answers: every context, most received first. */
export interface MetricStatsSnapshot {
  stats: MetricStat[];
  /** Samples of contexts past the cap, not broken down. */
  untrackedSamples: number;
}

/**
 * The counter behind `dogstatsd-stats`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MetricStats } from "./_metric_stats.ts";
 * const s = new MetricStats();
 * const sample = { name: "a", value: 1, type: "counter", tags: ["b:1", "a:1"], host: "", sampleRate: 1, timestamp: 0 } as const;
 * s.record([{ ...sample, tags: [...sample.tags] }, { ...sample, tags: ["a:1", "b:1"] }]);
 * assert.equal(s.snapshot().stats[0].Count, 2);
 * assert.equal(s.snapshot().stats[0].Tags, "a:1,b:1");
 * ```
 */
export class MetricStats {
  readonly #byContext = new Map<
    string,
    { name: string; tags: string; count: number; last: number }
  >();
  readonly #max: number;
  #untracked = 0;

  constructor(maxContexts = MAX_TRACKED_CONTEXTS) {
    this.#max = maxContexts;
  }

  /** Counts `samples`; reads them only. */
  record(samples: readonly MetricSample[]): void {
    const now = Date.now();
    for (const s of samples) {
      const tags = [...new Set(s.tags)].sort().join(",");
      const key = `${s.name}\u0000${tags}`;
      const entry = this.#byContext.get(key);
      if (entry) {
        entry.count++;
        entry.last = now;
      } else if (this.#byContext.size < this.#max) {
        this.#byContext.set(key, { name: s.name, tags, count: 1, last: now });
      } else this.#untracked++;
    }
  }

  /** Every context, most received first (then by name). */
  snapshot(): MetricStatsSnapshot {
    const stats = [...this.#byContext.values()]
      .sort((a, b) => b.count - a.count || a.name.localeCompare(b.name))
      .map((e) => ({
        Name: e.name,
        Tags: e.tags,
        Count: e.count,
        LastSeen: new Date(e.last).toISOString(),
      }));
    return { stats, untrackedSamples: this.#untracked };
  }
}
