/**
 * A sink that keeps everything the aggregator flushes in memory, for tests and benchmarks.
 */
import type {
  Event,
  MetricsSink,
  OrchestratorPayload,
  Serie,
  ServiceCheck,
  SketchSeries,
} from "../metrics/model.ts";

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
