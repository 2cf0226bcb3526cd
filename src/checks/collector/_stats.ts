/**
 * The stats record of one check ID, named as the Datadog Agent's expvar `runner.Checks`
 * names its fields, so status tooling reads it unchanged.
 */
import type { RunResult } from "../_types.ts";

/** Execution times kept per check (the agent's ring size). */
export const EXECUTION_TIMES_KEPT = 32;

/** What the sender counted between two commits. */
export interface SubmitCounts {
  metricSamples: number;
  events: number;
  serviceChecks: number;
  histogramBuckets: number;
  /** By event-platform type (`dbm-samples`, …). */
  eventPlatformEvents: Record<string, number>;
}

/** The JSON shape of one check's stats (expvar `runner.Checks.<name>.<id>`). */
export interface CheckStatsJson {
  CheckName: string;
  CheckVersion: string;
  CheckConfigSource: string;
  CheckID: string;
  CheckLoader: string;
  /** Nanoseconds, as Go's `time.Duration`. */
  Interval: number;
  LongRunning: boolean;
  TotalRuns: number;
  TotalErrors: number;
  TotalWarnings: number;
  MetricSamples: number;
  Events: number;
  ServiceChecks: number;
  HistogramBuckets: number;
  TotalMetricSamples: number;
  TotalEvents: number;
  TotalServiceChecks: number;
  TotalHistogramBuckets: number;
  EventPlatformEvents: Record<string, number>;
  TotalEventPlatformEvents: Record<string, number>;
  /** Milliseconds, oldest first, at most 32. */
  ExecutionTimes: number[];
  FirstExecutionTime: number;
  AverageExecutionTime: number;
  LastExecutionTime: number;
  Cancelling: boolean;
  /** Unix seconds of the last run without error; 0 = never. */
  LastSuccessDate: number;
  /** `""`, or JSON `[{"message": …, "traceback": …}]`. */
  LastError: string;
  LastWarnings: string[];
  /** Seconds between the scheduled time and the start of the last run. */
  LastDelay: number;
  /** Unix seconds of the end of the last run. */
  UpdateTimestamp: number;
  /**
   * Unix seconds at which the run still going on started, once it has outlived its interval;
   * 0 otherwise. outpost's own field: a hung check is otherwise invisible until it returns.
   */
  RunningSince: number;
  /** Python with tracemalloc: allocation delta and peak of the last run, in bytes. */
  MemAllocDelta?: number;
  MemPeak?: number;
}

/** Identity of the check a record is about. */
export interface StatsIdentity {
  name: string;
  id: string;
  version: string;
  source: string;
  loader: string;
  intervalS: number;
}

/** One run as the runner saw it. */
export interface RunRecord {
  result: RunResult;
  /** Milliseconds the run took. */
  durationMs: number;
  /** Seconds it started after its scheduled time. */
  delayS: number;
  /** Unix ms at its end. */
  endMs: number;
  counts: SubmitCounts;
}

/**
 * The running stats of one check ID.
 *
 * @example
 * ```ts
 * import { CheckStats } from "./_stats.ts";
 * const s = new CheckStats({ name: "cpu", id: "cpu", version: "", source: "file:x", loader: "Core Check Loader", intervalS: 15 });
 * s.add({ result: { warnings: [] }, durationMs: 3, delayS: 0, endMs: 1000,
 *   counts: { metricSamples: 2, events: 0, serviceChecks: 0, histogramBuckets: 0, eventPlatformEvents: {} } });
 * s.toJSON().TotalMetricSamples; // 2
 * ```
 */
export class CheckStats {
  readonly #s: CheckStatsJson;

  constructor(who: StatsIdentity) {
    this.#s = {
      CheckName: who.name,
      CheckVersion: who.version,
      CheckConfigSource: who.source,
      CheckID: who.id,
      CheckLoader: who.loader,
      Interval: who.intervalS * 1e9,
      LongRunning: who.intervalS === 0,
      TotalRuns: 0,
      TotalErrors: 0,
      TotalWarnings: 0,
      MetricSamples: 0,
      Events: 0,
      ServiceChecks: 0,
      HistogramBuckets: 0,
      TotalMetricSamples: 0,
      TotalEvents: 0,
      TotalServiceChecks: 0,
      TotalHistogramBuckets: 0,
      EventPlatformEvents: {},
      TotalEventPlatformEvents: {},
      ExecutionTimes: [],
      FirstExecutionTime: 0,
      AverageExecutionTime: 0,
      LastExecutionTime: 0,
      Cancelling: false,
      LastSuccessDate: 0,
      LastError: "",
      LastWarnings: [],
      LastDelay: 0,
      UpdateTimestamp: 0,
      RunningSince: 0,
    };
  }

  /** Marks the check as being cancelled (status prints `Cancelling: True`). */
  set cancelling(on: boolean) {
    this.#s.Cancelling = on;
  }

  /** Marks the run that started at `startMs` (Unix ms) as still going past its interval. */
  overrunSince(startMs: number): void {
    this.#s.RunningSince = Math.floor(startMs / 1000);
  }

  /** Records one finished run. */
  add({ result, durationMs, delayS, endMs, counts }: RunRecord): void {
    const s = this.#s;
    const ms = Math.round(durationMs);
    s.TotalRuns++;
    if (s.TotalRuns === 1) s.FirstExecutionTime = ms;
    s.ExecutionTimes.push(ms);
    if (s.ExecutionTimes.length > EXECUTION_TIMES_KEPT) s.ExecutionTimes.shift();
    s.AverageExecutionTime = Math.round(
      s.ExecutionTimes.reduce((a, b) => a + b, 0) / s.ExecutionTimes.length,
    );
    s.LastExecutionTime = ms;
    s.LastDelay = Math.max(0, Math.round(delayS));
    s.UpdateTimestamp = Math.floor(endMs / 1000);
    s.RunningSince = 0;
    if (result.error) {
      s.TotalErrors++;
      s.LastError = JSON.stringify([
        { message: result.error.message, traceback: result.error.traceback },
      ]);
    } else {
      s.LastError = "";
      s.LastSuccessDate = Math.floor(endMs / 1000);
    }
    s.LastWarnings = [...result.warnings];
    if (result.warnings.length > 0) s.TotalWarnings += result.warnings.length;
    // As the agent: the "last run" figures move only when the run submitted something.
    if (counts.metricSamples > 0) s.MetricSamples = counts.metricSamples;
    if (counts.events > 0) s.Events = counts.events;
    if (counts.serviceChecks > 0) s.ServiceChecks = counts.serviceChecks;
    if (counts.histogramBuckets > 0) s.HistogramBuckets = counts.histogramBuckets;
    s.TotalMetricSamples += counts.metricSamples;
    s.TotalEvents += counts.events;
    s.TotalServiceChecks += counts.serviceChecks;
    s.TotalHistogramBuckets += counts.histogramBuckets;
    for (const [type, n] of Object.entries(counts.eventPlatformEvents)) {
      if (n > 0) s.EventPlatformEvents[type] = n;
      s.TotalEventPlatformEvents[type] = (s.TotalEventPlatformEvents[type] ?? 0) + n;
    }
    if (result.mem) {
      s.MemAllocDelta = result.mem.allocDelta;
      s.MemPeak = result.mem.peak;
    }
  }

  /** A copy of the record. */
  toJSON(): CheckStatsJson {
    const s = this.#s;
    return {
      ...s,
      EventPlatformEvents: { ...s.EventPlatformEvents },
      TotalEventPlatformEvents: { ...s.TotalEventPlatformEvents },
      ExecutionTimes: [...s.ExecutionTimes],
      LastWarnings: [...s.LastWarnings],
    };
  }
}

/** The message and traceback of a `LastError` (JSON, or plain text from elsewhere). */
export function parseLastError(lastError: string): { message: string; traceback: string } {
  try {
    const parsed = JSON.parse(lastError);
    const first = Array.isArray(parsed) ? parsed[0] : parsed;
    if (first && typeof first.message === "string") {
      return { message: first.message, traceback: String(first.traceback ?? "") };
    }
  } catch { /* not JSON: the text is the message */ }
  return { message: lastError, traceback: "" };
}
