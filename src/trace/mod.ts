/**
 * The trace agent: decoders of the tracer formats, processing (normalization, obfuscation,
 * top-level, stats, sampling) and the intake encoders.
 *
 * @module
 */
export type {
  AgentPayload,
  AttributeScalar,
  AttributeValue,
  ClientGroupedStats,
  ClientStatsBucket,
  ClientStatsPayload,
  Span,
  SpanEvent,
  SpanLink,
  StatsPayload,
  TraceChunk,
  TracerPayload,
} from "./_span.ts";
export { emptySpan, emptyTracerPayload, PRIORITY_NONE } from "./_span.ts";
export { TraceDecodeError, type TraceDecodeReason } from "./_msgpack.ts";
export {
  decodeClientStats,
  decodeTracerPayloadV07,
  decodeTracesV04,
  decodeTracesV05,
} from "./_decode.ts";
export { decodeTracesJson } from "./_decode_json.ts";
export { encodeAgentPayload } from "./_proto.ts";
export { encodeStatsPayload, MAX_STATS_ENTRIES, splitStatsPayload } from "./_stats_payload.ts";
export {
  type ClientHints,
  type TraceProcessingSettings,
  traceProcessingSettings,
  TraceProcessor,
} from "./_process.ts";
export { DEFAULT_PEER_TAGS, STATS_SPAN_KINDS } from "./_stats.ts";
export { DEFAULT_RATE_KEY } from "./_sampler.ts";
export {
  buildTrace,
  type TraceComponent,
  type TraceDeps,
  type TraceProcessing,
} from "./_component.ts";
export { type TraceSettings, traceSettings } from "./_settings.ts";
export { type BodyRead, readBody } from "./_receiver_body.ts";
