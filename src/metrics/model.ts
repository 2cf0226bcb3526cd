/**
 * The data model shared by sources, the aggregator and the serializer. Sources produce
 * samples, events and service checks; the aggregator turns samples into series and sketch
 * series. Nothing here knows about wire formats.
 *
 * Times are Unix seconds.
 *
 * @module
 */

/**
 * Smallest sample rate accepted: a sample counts 1/rate times, so a rate below a millionth would
 * make one datagram weigh more than a million samples (and `@1e-300` would weigh 1e300). Rates
 * outside (0, 1], NaN included, mean "unsampled" (1), as the agent's sketches read them.
 */
export const MIN_SAMPLE_RATE = 1e-6;

/**
 * Latest timestamp accepted anywhere in the pipeline: 3000-01-01T00:00:00Z in Unix seconds.
 * Far past anything the intake keeps, and a millisecond timestamp (a common client mistake,
 * ~1.7e12) lands beyond it and is refused instead of being sent as a date in the year 55,000.
 */
export const MAX_TIMESTAMP = 32_503_680_000;

/** How a sample is aggregated. `counter` is DogStatsD's `c`; `count`, `rate`,
 * `monotonic_count` and `historate` come from checks. */
export type SampleType =
  | "gauge"
  | "counter"
  | "count"
  | "rate"
  | "monotonic_count"
  | "set"
  | "histogram"
  | "historate"
  | "distribution";

/** One measurement from a source. */
export interface MetricSample {
  name: string;
  /** The value; for sets, NaN (the member is `rawValue`). */
  value: number;
  /** The raw value string, kept for set members. */
  rawValue?: string;
  type: SampleType;
  /** Tags as given, possibly unsorted and with duplicates. */
  tags: string[];
  /** Host the sample is about; "" means the agent's host name. */
  host: string;
  /** Client-side sample rate in [MIN_SAMPLE_RATE, 1]; anything outside (0, 1] means 1. */
  sampleRate: number;
  /** Own timestamp (`|T`) in [1, MAX_TIMESTAMP], or 0 for arrival time. */
  timestamp: number;
  /** Unit hint, e.g. "millisecond" for DogStatsD timers. */
  unit?: string;
  /** For a check's `monotonic_count`: flush the first value as is (its counter started at 0). */
  flushFirstValue?: boolean;
}

/** Series types the intake knows. */
export type SeriesType = "gauge" | "rate" | "count";

/** One flushed series: a context and its points. */
export interface Serie {
  name: string;
  /** [timestamp, value] pairs, oldest first. */
  points: Array<[number, number]>;
  /** Sorted, unique. */
  tags: string[];
  host: string;
  type: SeriesType;
  /** Seconds the points cover (10 for DogStatsD, 0 or the check interval for checks). */
  interval: number;
  /** "System" for check and agent series, "" otherwise. */
  sourceTypeName: string;
  unit?: string;
  /** Set for series that must not be indexed (the agent's `n_o_i_n_d_e_x.` series). */
  noIndex?: boolean;
}

/** One sketch (DDSketch, agent parameters) summarizing a distribution over one bucket. */
export interface SketchPoint {
  /** Bucket start. */
  ts: number;
  cnt: number;
  min: number;
  max: number;
  avg: number;
  sum: number;
  /** Bin keys, ascending. */
  k: number[];
  /** Bin counts, one per key, each ≤ 65535. */
  n: number[];
}

/** A distribution context and its sketches. */
export interface SketchSeries {
  name: string;
  /** Sorted, unique. */
  tags: string[];
  host: string;
  interval: number;
  points: SketchPoint[];
}

/** Event priority. */
export type EventPriority = "normal" | "low";
/** Event alert type. */
export type EventAlertType = "error" | "warning" | "info" | "success";

/** An event (DogStatsD `_e{…}` or a check). */
export interface Event {
  title: string;
  text: string;
  /** 0 means "now" at flush. */
  timestamp: number;
  host: string;
  priority: EventPriority;
  alertType: EventAlertType;
  aggregationKey: string;
  sourceTypeName: string;
  eventType: string;
  tags: string[];
}

/** Service check status: OK, WARNING, CRITICAL, UNKNOWN. */
export type ServiceCheckStatus = 0 | 1 | 2 | 3;

/** A service check (DogStatsD `_sc` or a check). */
export interface ServiceCheck {
  name: string;
  status: ServiceCheckStatus;
  /** 0 means "now" at flush. */
  timestamp: number;
  host: string;
  message: string;
  tags: string[];
}

/** An orchestrator payload (metadata or manifests), passed through opaque to the serializer. */
export interface OrchestratorPayload {
  kind: "metadata" | "manifest";
  /** Message type as the orchestrator endpoint expects it. */
  type: number;
  body: Uint8Array;
}

/** Where the aggregator hands each flush. The serializer implements it; tests use memory. */
export interface MetricsSink {
  series(series: Serie[]): void | Promise<void>;
  sketches(sketches: SketchSeries[]): void | Promise<void>;
  serviceChecks(checks: ServiceCheck[]): void | Promise<void>;
  events(events: Event[]): void | Promise<void>;
  orchestrator(payloads: OrchestratorPayload[]): void | Promise<void>;
}

/** Aggregates a histogram can report (`histogram_aggregates`). */
export const HISTOGRAM_AGGREGATES = ["max", "min", "median", "avg", "sum", "count"] as const;
