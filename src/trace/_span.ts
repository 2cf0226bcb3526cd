/**
 * The one trace data model every stage shares: decoders produce it, processing edits it in
 * place, the encoders write it. It mirrors the intake's protobuf messages (span.proto,
 * tracer_payload.proto, stats.proto) field for field, in camelCase.
 *
 * Ids are exact uint64 values as bigint; `start` and `duration` are int64 nanoseconds as
 * bigint, because a float64 would round them. The high 64 bits of a 128-bit trace id stay
 * where tracers send them: meta `_dd.p.tid` (hex) on the span, `traceIdHigh` on links.
 */

/** A link from a span to another span, possibly of another trace. */
export interface SpanLink {
  traceId: bigint;
  traceIdHigh: bigint;
  spanId: bigint;
  attributes: Record<string, string>;
  tracestate: string;
  /** W3C trace flags; when set, bit 31 is set too. */
  flags: number;
}

/** A scalar attribute of a span event; `type` is the proto's `AttributeArrayValueType`. */
export type AttributeScalar =
  | { type: 0; value: string }
  | { type: 1; value: boolean }
  | { type: 2; value: bigint }
  | { type: 3; value: number };

/** An attribute of a span event; `type` is the proto's `AttributeAnyValueType` (4 = array). */
export type AttributeValue = AttributeScalar | { type: 4; value: AttributeScalar[] };

/** Something that happened during a span (an exception, a log), at a point in time. */
export interface SpanEvent {
  timeUnixNano: bigint;
  name: string;
  attributes: Record<string, AttributeValue>;
}

/** One span, as tracers send it and the intake stores it. */
export interface Span {
  service: string;
  name: string;
  resource: string;
  type: string;
  traceId: bigint;
  spanId: bigint;
  /** 0 for a root span. */
  parentId: bigint;
  /** Nanoseconds since the epoch. */
  start: bigint;
  /** Nanoseconds. */
  duration: bigint;
  /** 0, or 1 when the span is an error. */
  error: number;
  meta: Record<string, string>;
  metrics: Record<string, number>;
  metaStruct: Record<string, Uint8Array>;
  spanLinks: SpanLink[];
  spanEvents: SpanEvent[];
}

/** The spans of one trace that arrived together, with the trace's sampling decision. */
export interface TraceChunk {
  /** The sampling priority; {@link PRIORITY_NONE} when nobody decided. */
  priority: number;
  origin: string;
  spans: Span[];
  tags: Record<string, string>;
  droppedTrace: boolean;
}

/** Chunk priority when no tracer or span set one (the Go agent's `PriorityNone`). */
export const PRIORITY_NONE = -128;

/** The chunks of one tracer request, with what is known of the tracer. */
export interface TracerPayload {
  containerID: string;
  languageName: string;
  languageVersion: string;
  tracerVersion: string;
  runtimeID: string;
  chunks: TraceChunk[];
  tags: Record<string, string>;
  env: string;
  hostname: string;
  appVersion: string;
}

/** What the agent sends to `/api/v0.2/traces` (AgentPayload in agent_payload.proto). */
export interface AgentPayload {
  hostName: string;
  env: string;
  tracerPayloads: TracerPayload[];
  tags: Record<string, string>;
  agentVersion: string;
  targetTPS: number;
  errorTPS: number;
  rareSamplerEnabled: boolean;
}

/** Stats of one aggregation key in one bucket (ClientGroupedStats in stats.proto). */
export interface ClientGroupedStats {
  service: string;
  name: string;
  resource: string;
  httpStatusCode: number;
  type: string;
  dbType: string;
  hits: number;
  errors: number;
  /** Nanoseconds, summed over the hits. */
  duration: number;
  /** DDSketch protobuf of the durations of spans without an error. */
  okSummary: Uint8Array;
  /** DDSketch protobuf of the durations of error spans. */
  errorSummary: Uint8Array;
  synthetics: boolean;
  topLevelHits: number;
  spanKind: string;
  peerTags: string[];
  /** 0 not set, 1 true, 2 false (the proto's `Trilean`). */
  isTraceRoot: number;
  grpcStatusCode: string;
  httpMethod: string;
  httpEndpoint: string;
}

/** One time bucket of stats (ClientStatsBucket). */
export interface ClientStatsBucket {
  /** Nanoseconds since the epoch. */
  start: bigint;
  /** Nanoseconds. */
  duration: bigint;
  stats: ClientGroupedStats[];
  agentTimeShift: bigint;
}

/** The stats of one tracer, or of one (host, env, version…) the agent computed (ClientStatsPayload). */
export interface ClientStatsPayload {
  hostname: string;
  env: string;
  version: string;
  stats: ClientStatsBucket[];
  lang: string;
  tracerVersion: string;
  runtimeID: string;
  sequence: number;
  agentAggregation: string;
  service: string;
  containerID: string;
  tags: string[];
  gitCommitSha: string;
  imageTag: string;
  processTagsHash: bigint;
  processTags: string;
}

/** What the agent sends to `/api/v0.2/stats` (StatsPayload). */
export interface StatsPayload {
  agentHostname: string;
  agentEnv: string;
  stats: ClientStatsPayload[];
  agentVersion: string;
  clientComputed: boolean;
  splitPayload: boolean;
}

/** A span with every field empty: decoders start from it. */
export function emptySpan(): Span {
  return {
    service: "",
    name: "",
    resource: "",
    type: "",
    traceId: 0n,
    spanId: 0n,
    parentId: 0n,
    start: 0n,
    duration: 0n,
    error: 0,
    meta: {},
    metrics: {},
    metaStruct: {},
    spanLinks: [],
    spanEvents: [],
  };
}

/** A tracer payload with every field empty. */
export function emptyTracerPayload(): TracerPayload {
  return {
    containerID: "",
    languageName: "",
    languageVersion: "",
    tracerVersion: "",
    runtimeID: "",
    chunks: [],
    tags: {},
    env: "",
    hostname: "",
    appVersion: "",
  };
}
