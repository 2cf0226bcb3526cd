/**
 * What trace processing (src/trace/_process.ts) MUST emit. Names follow the Go trace agent's
 * `normalizer` and `sampler` figures where it has them; the receiver's and writer's are in
 * `apm.ts`.
 *
 * | name | kind | counts |
 * |------|------|--------|
 * | `trace.SpansMalformed` | by reason | spans kept after a fix (`service_empty`, `span_name_invalid`, `invalid_start_date`…) |
 * | `trace.TracesDropped` | by reason | chunks dropped whole (`empty_trace`, `trace_id_zero`, `span_id_zero`, `foreign_span`) |
 * | `trace.TracesProcessed`, `trace.SpansProcessed` | counter | chunks and spans that went through processing |
 * | `trace.TracesKept` | by reason | chunks kept by sampling (`priority`, `error`, `no_priority`) |
 * | `trace.TracesSampledOut` | by reason | chunks sampling dropped (`priority`, `user_reject`, `no_priority`) |
 * | `trace.SpansSampledOut` | counter | their spans |
 * | `trace.ClientDroppedTraces`, `trace.ClientDroppedSpans` | counter | P0 traces and spans tracers said they dropped |
 * | `trace.SqlObfuscationErrors` | counter | SQL resources that could not be tokenized |
 * | `trace.StatsSpans` | counter | spans counted by the agent's stats |
 * | `trace.StatsBucketsFlushed` | counter | stats buckets handed to the writer |
 * | `trace.ClientStatsPayloads` | counter | `/v0.6/stats` payloads processed |
 *
 * @module
 */
import type { Registry } from "../registry.ts";

/** The registry names of the trace agent (see the module doc). */
export const TRACE = Object.freeze(
  {
    /** Spans fixed by normalization, by reason. */
    spansMalformed: "trace.SpansMalformed",
    /** Chunks dropped by normalization, by reason. */
    tracesDropped: "trace.TracesDropped",
    /** Chunks processed. */
    tracesProcessed: "trace.TracesProcessed",
    /** Spans processed. */
    spansProcessed: "trace.SpansProcessed",
    /** Chunks kept by sampling, by reason. */
    tracesKept: "trace.TracesKept",
    /** Chunks dropped by sampling, by reason. */
    tracesSampledOut: "trace.TracesSampledOut",
    /** Spans of the chunks sampling dropped. */
    spansSampledOut: "trace.SpansSampledOut",
    /** P0 traces tracers dropped themselves (`Datadog-Client-Dropped-P0-Traces`). */
    clientDroppedP0Traces: "trace.ClientDroppedTraces",
    /** Their spans (`Datadog-Client-Dropped-P0-Spans`). */
    clientDroppedP0Spans: "trace.ClientDroppedSpans",
    /** SQL resources replaced by "Non-parsable SQL query". */
    sqlObfuscationErrors: "trace.SqlObfuscationErrors",
    /** Spans counted in the agent's stats. */
    statsSpans: "trace.StatsSpans",
    /** Stats buckets flushed. */
    statsBucketsFlushed: "trace.StatsBucketsFlushed",
    /** Client stats payloads processed. */
    clientStatsPayloads: "trace.ClientStatsPayloads",
  } as const,
);

/**
 * Registers what trace processing emits and returns its counters.
 *
 * @example Count a fixed span
 * ```ts
 * import { Registry } from "../registry.ts";
 * import { TRACE, traceProcessingEvents } from "./trace.ts";
 * const registry = new Registry();
 * traceProcessingEvents(registry).spansMalformed.with("service_empty").inc();
 * console.assert((registry.read(TRACE.spansMalformed) as Record<string, number>).service_empty === 1);
 * ```
 */
export function traceProcessingEvents(registry: Registry) {
  return {
    spansMalformed: registry.counterVec(TRACE.spansMalformed),
    tracesDropped: registry.counterVec(TRACE.tracesDropped),
    tracesProcessed: registry.counter(TRACE.tracesProcessed),
    spansProcessed: registry.counter(TRACE.spansProcessed),
    tracesKept: registry.counterVec(TRACE.tracesKept),
    tracesSampledOut: registry.counterVec(TRACE.tracesSampledOut),
    spansSampledOut: registry.counter(TRACE.spansSampledOut),
    clientDroppedP0Traces: registry.counter(TRACE.clientDroppedP0Traces),
    clientDroppedP0Spans: registry.counter(TRACE.clientDroppedP0Spans),
    sqlObfuscationErrors: registry.counter(TRACE.sqlObfuscationErrors),
    statsSpans: registry.counter(TRACE.statsSpans),
    statsBucketsFlushed: registry.counter(TRACE.statsBucketsFlushed),
    clientStatsPayloads: registry.counter(TRACE.clientStatsPayloads),
  };
}

/** The counters of trace processing. */
export type TraceProcessingEvents = ReturnType<typeof traceProcessingEvents>;
