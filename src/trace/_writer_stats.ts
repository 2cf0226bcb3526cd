/**
 * The stats writer: `StatsPayload`s (the agent's own buckets and the tracers' client stats)
 * to `/api/v0.2/stats`, msgpack with the Go field names (`encodeStatsPayload`), gzip at
 * BestSpeed, as `application/msgpack`, as the Go agent sends them.
 */
import type { Delivery, Payload } from "../forwarder/mod.ts";
import type { ApmCounters } from "../telemetry/mod.ts";
import type { StatsPayload } from "./_span.ts";
import { encodeStatsPayload } from "./_stats_payload.ts";
import { gzipFast, outcome } from "./_writer.ts";

/** Options of {@linkcode StatsWriter}. */
export interface StatsWriterOptions {
  counters: ApmCounters;
  submit: (payload: Payload) => Delivery;
}

/**
 * Sends stats payloads; `flush` waits for what was handed over.
 *
 * @example
 * ```ts ignore
 * const writer = new StatsWriter({ counters, submit: forwarder.submit });
 * writer.write(processor.flushStats(false));
 * await writer.flush();
 * ```
 */
export class StatsWriter {
  readonly #o: StatsWriterOptions;
  readonly #pending = new Set<Promise<unknown>>();

  constructor(options: StatsWriterOptions) {
    this.#o = options;
  }

  /** Sends one stats payload (nothing when it is null or has no buckets). */
  write(stats: StatsPayload | null): void {
    if (!stats) return;
    const buckets = stats.stats.reduce((n, c) => n + c.stats.length, 0);
    if (buckets === 0) return;
    const { counters } = this.#o;
    const body = gzipFast(encodeStatsPayload(stats));
    const delivery = this.#o.submit({
      route: "/api/v0.2/stats",
      body,
      headers: {
        "Content-Type": "application/msgpack",
        "Content-Encoding": "gzip",
        "X-Datadog-Reported-Languages": [...new Set(stats.stats.map((c) => c.lang).filter(Boolean))]
          .join("|"),
      },
      storable: true,
      pipeline: "traces",
      kind: "trace_stats",
    });
    counters.statsPayloads.with("submitted").inc();
    counters.statsBuckets.inc(buckets);
    const settled = delivery.done.then(({ status }) => {
      counters.statsPayloads.with(outcome(status)).inc();
    }).finally(() => this.#pending.delete(settled));
    this.#pending.add(settled);
  }

  /** Resolves once every payload handed over is delivered, stored or dropped. */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }
}
