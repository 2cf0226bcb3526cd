/**
 * Two small sinks: one that keeps everything in memory (tests, the local intake's
 * in-process path) and one that logs one line per flush (until the serializer is wired).
 */
import type {
  Event,
  MetricsSink,
  OrchestratorPayload,
  Serie,
  ServiceCheck,
  SketchSeries,
} from "../metrics/model.ts";
import type { Log } from "../log/mod.ts";

/** A sink that appends everything it receives to arrays. */
export interface MemorySink extends MetricsSink {
  readonly received: {
    series: Serie[];
    sketches: SketchSeries[];
    serviceChecks: ServiceCheck[];
    events: Event[];
    orchestrator: OrchestratorPayload[];
  };
  /** Empties every array. */
  clear(): void;
}

/**
 * A sink that keeps what it receives.
 *
 * @example
 * ```ts
 * import { memorySink } from "./sinks.ts";
 * const sink = memorySink();
 * sink.events([]);
 * sink.received.events.length; // 0
 * ```
 */
export function memorySink(): MemorySink {
  const received = {
    series: [] as Serie[],
    sketches: [] as SketchSeries[],
    serviceChecks: [] as ServiceCheck[],
    events: [] as Event[],
    orchestrator: [] as OrchestratorPayload[],
  };
  return {
    received,
    series: (s) => void received.series.push(...s),
    sketches: (s) => void received.sketches.push(...s),
    serviceChecks: (c) => void received.serviceChecks.push(...c),
    events: (e) => void received.events.push(...e),
    orchestrator: (p) => void received.orchestrator.push(...p),
    clear() {
      for (const list of Object.values(received)) list.length = 0;
    },
  };
}

/**
 * A sink that logs one info line per flush: the aggregator calls `events` last in every
 * flush, so the line is written then, with what arrived since the previous line.
 */
export function loggingSink(log: Log): MetricsSink {
  let series = 0;
  let points = 0;
  let sketches = 0;
  let checks = 0;
  let orchestrator = 0;
  return {
    series(s) {
      series += s.length;
      for (const x of s) points += x.points.length;
    },
    sketches(s) {
      sketches += s.length;
    },
    serviceChecks(c) {
      checks += c.length;
    },
    events(e) {
      log.info(
        `Flushed ${series} series (${points} points), ${sketches} sketches, ${checks} service checks, ${e.length} events${
          orchestrator ? `, ${orchestrator} orchestrator payloads` : ""
        } (no serializer yet: not sent)`,
      );
      series =
        points =
        sketches =
        checks =
        orchestrator =
          0;
    },
    orchestrator(p) {
      orchestrator += p.length;
    },
  };
}
