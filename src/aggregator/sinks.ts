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
    series: (s) => append(received.series, s),
    sketches: (s) => append(received.sketches, s),
    serviceChecks: (c) => append(received.serviceChecks, c),
    events: (e) => append(received.events, e),
    orchestrator: (p) => append(received.orchestrator, p),
    clear() {
      for (const list of Object.values(received)) list.length = 0;
    },
  };
}

/** `to.push(...items)` without one argument per item, which overflows the stack on big flushes. */
function append<T>(to: T[], items: readonly T[]): void {
  for (let i = 0; i < items.length; i++) to.push(items[i]);
}
