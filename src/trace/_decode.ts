/**
 * Decoders of the tracer formats into the span model: `/v0.4/traces` (and v0.3) msgpack maps,
 * `/v0.5/traces` string-dictionary arrays, `/v0.7/traces` tracer payloads and `/v0.6/stats`
 * client stats. Unknown keys are skipped; a malformed body throws a {@link TraceDecodeError}.
 */
import { MsgpackReader, TraceDecodeError } from "./_msgpack.ts";
import {
  type AttributeScalar,
  type AttributeValue,
  type ClientGroupedStats,
  type ClientStatsBucket,
  type ClientStatsPayload,
  emptySpan,
  emptyTracerPayload,
  PRIORITY_NONE,
  type Span,
  type SpanEvent,
  type SpanLink,
  type TraceChunk,
  type TracerPayload,
} from "./_span.ts";

function checkDone(r: MsgpackReader): void {
  if (!r.done) {
    throw new TraceDecodeError(
      "payload-shape",
      `Cannot decode msgpack: ${r.buf.length - r.pos} bytes left after the payload`,
    );
  }
}

function strMap(r: MsgpackReader): Record<string, string> {
  const n = r.mapLen();
  const out: Record<string, string> = {};
  for (let i = 0; i < n; i++) {
    const k = r.str();
    out[k] = r.text();
  }
  return out;
}

function floatMap(r: MsgpackReader): Record<string, number> {
  const n = r.mapLen();
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const k = r.str();
    out[k] = r.float();
  }
  return out;
}

function bytesMap(r: MsgpackReader): Record<string, Uint8Array> {
  const n = r.mapLen();
  const out: Record<string, Uint8Array> = {};
  for (let i = 0; i < n; i++) {
    const k = r.str();
    out[k] = r.bytes();
  }
  return out;
}

function spanLinks(r: MsgpackReader): SpanLink[] {
  const n = r.arrayLen();
  const links: SpanLink[] = [];
  for (let i = 0; i < n; i++) {
    const link: SpanLink = {
      traceId: 0n,
      traceIdHigh: 0n,
      spanId: 0n,
      attributes: {},
      tracestate: "",
      flags: 0,
    };
    const fields = r.mapLen();
    for (let f = 0; f < fields; f++) {
      switch (r.str()) {
        case "trace_id":
          link.traceId = r.uint64();
          break;
        case "trace_id_high":
          link.traceIdHigh = r.uint64();
          break;
        case "span_id":
          link.spanId = r.uint64();
          break;
        case "attributes":
          link.attributes = strMap(r);
          break;
        case "tracestate":
          link.tracestate = r.str();
          break;
        case "flags":
          link.flags = Number(r.uint64() & 0xffffffffn);
          break;
        default:
          r.skip();
      }
    }
    links.push(link);
  }
  return links;
}

/** One `{type, string_value, …}` attribute; `array` says whether `array_value` is allowed. */
function attribute(r: MsgpackReader, array: boolean): AttributeValue {
  let type = 0;
  let s = "";
  let b = false;
  let i = 0n;
  let d = 0;
  let values: AttributeScalar[] = [];
  const fields = r.mapLen();
  for (let f = 0; f < fields; f++) {
    switch (r.str()) {
      case "type":
        type = r.int();
        break;
      case "string_value":
        s = r.str();
        break;
      case "bool_value":
        b = r.bool();
        break;
      case "int_value":
        i = r.int64();
        break;
      case "double_value":
        d = r.float();
        break;
      case "array_value":
        if (!array) {
          r.skip();
          break;
        }
        values = attributeArray(r);
        break;
      default:
        r.skip();
    }
  }
  switch (type) {
    case 1:
      return { type: 1, value: b };
    case 2:
      return { type: 2, value: i };
    case 3:
      return { type: 3, value: d };
    case 4:
      if (array) return { type: 4, value: values };
  }
  return { type: 0, value: s };
}

function attributeArray(r: MsgpackReader): AttributeScalar[] {
  const out: AttributeScalar[] = [];
  const fields = r.mapLen();
  for (let f = 0; f < fields; f++) {
    if (r.str() !== "values") {
      r.skip();
      continue;
    }
    const n = r.arrayLen();
    for (let i = 0; i < n; i++) out.push(attribute(r, false) as AttributeScalar);
  }
  return out;
}

function spanEvents(r: MsgpackReader): SpanEvent[] {
  const n = r.arrayLen();
  const events: SpanEvent[] = [];
  for (let i = 0; i < n; i++) {
    const event: SpanEvent = { timeUnixNano: 0n, name: "", attributes: {} };
    const fields = r.mapLen();
    for (let f = 0; f < fields; f++) {
      switch (r.str()) {
        case "time_unix_nano":
          event.timeUnixNano = r.uint64();
          break;
        case "name":
          event.name = r.str();
          break;
        case "attributes": {
          const count = r.mapLen();
          for (let a = 0; a < count; a++) {
            const k = r.str();
            event.attributes[k] = attribute(r, true);
          }
          break;
        }
        default:
          r.skip();
      }
    }
    events.push(event);
  }
  return events;
}

/** One span map, the v0.4 and v0.7 shape. */
function spanMap(r: MsgpackReader): Span {
  const span = emptySpan();
  const fields = r.mapLen();
  for (let f = 0; f < fields; f++) {
    switch (r.str()) {
      case "service":
        span.service = r.str();
        break;
      case "name":
        span.name = r.str();
        break;
      case "resource":
        span.resource = r.str();
        break;
      case "type":
        span.type = r.str();
        break;
      case "trace_id":
        span.traceId = r.uint64();
        break;
      case "span_id":
        span.spanId = r.uint64();
        break;
      case "parent_id":
        span.parentId = r.uint64();
        break;
      case "start":
        span.start = r.int64();
        break;
      case "duration":
        span.duration = r.int64();
        break;
      case "error":
        span.error = r.int();
        break;
      case "meta":
        span.meta = strMap(r);
        break;
      case "metrics":
        span.metrics = floatMap(r);
        break;
      case "meta_struct":
        span.metaStruct = bytesMap(r);
        break;
      case "span_links":
        span.spanLinks = spanLinks(r);
        break;
      case "span_events":
        span.spanEvents = spanEvents(r);
        break;
      default:
        r.skip();
    }
  }
  return span;
}

function spanList(r: MsgpackReader): Span[] {
  const n = r.arrayLen();
  const spans: Span[] = [];
  for (let i = 0; i < n; i++) {
    if (r.nil()) continue;
    spans.push(spanMap(r));
  }
  return spans;
}

/**
 * Decodes a `/v0.4/traces` (or `/v0.3/traces`) msgpack body: an array of traces, each an
 * array of span maps.
 *
 * @example Decode one trace of one span
 * ```ts
 * import { decodeTracesV04 } from "./_decode.ts";
 * // [[{"trace_id": 1}]]
 * const body = new Uint8Array([0x91, 0x91, 0x81, 0xa8, ...new TextEncoder().encode("trace_id"), 1]);
 * console.assert(decodeTracesV04(body)[0][0].traceId === 1n);
 * ```
 */
export function decodeTracesV04(body: Uint8Array): Span[][] {
  const r = new MsgpackReader(body);
  const n = r.arrayLen();
  const traces: Span[][] = [];
  for (let i = 0; i < n; i++) traces.push(spanList(r));
  checkDone(r);
  return traces;
}

/** The v0.5 dictionary: strings are sent once and spans hold their indexes. */
function dictString(r: MsgpackReader, dict: string[]): string {
  const at = r.int();
  if (at < 0 || at >= dict.length) {
    throw new TraceDecodeError(
      "index-out-of-range",
      `Cannot decode v0.5 payload: string index ${at} is outside the dictionary of ${dict.length}`,
    );
  }
  return dict[at];
}

/**
 * Decodes a `/v0.5/traces` body: `[dictionary, traces]`, each span a 12-element array whose
 * strings are indexes into the dictionary.
 *
 * @example Decode one span
 * ```ts
 * import { decodeTracesV05 } from "./_decode.ts";
 * // [["svc", "op"], [[[0, 1, 1, 7, 8, 0, 100, 5, 0, {}, {}, 1]]]]
 * const body = new Uint8Array([
 *   0x92, 0x92, 0xa3, 0x73, 0x76, 0x63, 0xa2, 0x6f, 0x70,
 *   0x91, 0x91, 0x9c, 0, 1, 1, 7, 8, 0, 100, 5, 0, 0x80, 0x80, 1,
 * ]);
 * const [[span]] = decodeTracesV05(body);
 * console.assert(span.service === "svc" && span.spanId === 8n && span.type === "op");
 * ```
 */
export function decodeTracesV05(body: Uint8Array): Span[][] {
  const r = new MsgpackReader(body);
  const top = r.arrayLen();
  if (top !== 2) {
    throw new TraceDecodeError(
      "payload-shape",
      `Cannot decode v0.5 payload: expected [dictionary, traces], got an array of ${top}`,
    );
  }
  const size = r.arrayLen();
  const dict: string[] = new Array(size);
  for (let i = 0; i < size; i++) dict[i] = r.str();
  const n = r.arrayLen();
  const traces: Span[][] = [];
  for (let t = 0; t < n; t++) {
    const count = r.arrayLen();
    const spans: Span[] = [];
    for (let s = 0; s < count; s++) {
      const len = r.arrayLen();
      if (len !== 12) {
        throw new TraceDecodeError(
          "payload-shape",
          `Cannot decode v0.5 payload: a span must be an array of 12 elements, got ${len}`,
        );
      }
      const span = emptySpan();
      span.service = dictString(r, dict);
      span.name = dictString(r, dict);
      span.resource = dictString(r, dict);
      span.traceId = r.uint64();
      span.spanId = r.uint64();
      span.parentId = r.uint64();
      span.start = r.int64();
      span.duration = r.int64();
      span.error = r.int();
      const metaLen = r.mapLen();
      for (let i = 0; i < metaLen; i++) {
        const k = dictString(r, dict);
        span.meta[k] = dictString(r, dict);
      }
      const metricsLen = r.mapLen();
      for (let i = 0; i < metricsLen; i++) {
        const k = dictString(r, dict);
        span.metrics[k] = r.float();
      }
      span.type = dictString(r, dict);
      spans.push(span);
    }
    traces.push(spans);
  }
  checkDone(r);
  return traces;
}

/** Map keys of the Go structs come in several spellings (`container_id`, `containerID`,
 * `ContainerID`): compare them lower-cased without underscores. */
function fold(key: string): string {
  return key.replaceAll("_", "").toLowerCase();
}

function chunk(r: MsgpackReader): TraceChunk {
  const c: TraceChunk = {
    priority: PRIORITY_NONE,
    origin: "",
    spans: [],
    tags: {},
    droppedTrace: false,
  };
  const fields = r.mapLen();
  for (let f = 0; f < fields; f++) {
    switch (fold(r.str())) {
      case "priority":
        c.priority = r.int();
        break;
      case "origin":
        c.origin = r.str();
        break;
      case "spans":
        c.spans = spanList(r);
        break;
      case "tags":
        c.tags = strMap(r);
        break;
      case "droppedtrace":
        c.droppedTrace = r.bool();
        break;
      default:
        r.skip();
    }
  }
  return c;
}

/**
 * Decodes a `/v0.7/traces` body: one msgpack TracerPayload with its chunks.
 *
 * @example Decode an empty payload
 * ```ts
 * import { decodeTracerPayloadV07 } from "./_decode.ts";
 * const body = new Uint8Array([0x81, 0xa3, 0x65, 0x6e, 0x76, 0xa4, 0x70, 0x72, 0x6f, 0x64]);
 * console.assert(decodeTracerPayloadV07(body).env === "prod");
 * ```
 */
export function decodeTracerPayloadV07(body: Uint8Array): TracerPayload {
  const r = new MsgpackReader(body);
  const p = emptyTracerPayload();
  const fields = r.mapLen();
  for (let f = 0; f < fields; f++) {
    switch (fold(r.str())) {
      case "containerid":
        p.containerID = r.str();
        break;
      case "languagename":
        p.languageName = r.str();
        break;
      case "languageversion":
        p.languageVersion = r.str();
        break;
      case "tracerversion":
        p.tracerVersion = r.str();
        break;
      case "runtimeid":
        p.runtimeID = r.str();
        break;
      case "chunks": {
        const n = r.arrayLen();
        for (let i = 0; i < n; i++) p.chunks.push(chunk(r));
        break;
      }
      case "tags":
        p.tags = strMap(r);
        break;
      case "env":
        p.env = r.str();
        break;
      case "hostname":
        p.hostname = r.str();
        break;
      case "appversion":
        p.appVersion = r.str();
        break;
      default:
        r.skip();
    }
  }
  checkDone(r);
  return p;
}

function strList(r: MsgpackReader): string[] {
  const n = r.arrayLen();
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(r.str());
  return out;
}

function groupedStats(r: MsgpackReader): ClientGroupedStats {
  const g = emptyGroupedStats();
  const fields = r.mapLen();
  for (let f = 0; f < fields; f++) {
    switch (fold(r.str())) {
      case "service":
        g.service = r.str();
        break;
      case "name":
        g.name = r.str();
        break;
      case "resource":
        g.resource = r.str();
        break;
      case "httpstatuscode":
        g.httpStatusCode = r.float();
        break;
      case "type":
        g.type = r.str();
        break;
      case "dbtype":
        g.dbType = r.str();
        break;
      case "hits":
        g.hits = r.float();
        break;
      case "errors":
        g.errors = r.float();
        break;
      case "duration":
        g.duration = r.float();
        break;
      case "oksummary":
        g.okSummary = r.bytes();
        break;
      case "errorsummary":
        g.errorSummary = r.bytes();
        break;
      case "synthetics":
        g.synthetics = r.bool();
        break;
      case "toplevelhits":
        g.topLevelHits = r.float();
        break;
      case "spankind":
        g.spanKind = r.str();
        break;
      case "peertags":
        g.peerTags = strList(r);
        break;
      case "istraceroot":
        g.isTraceRoot = r.int();
        break;
      case "grpcstatuscode":
        g.grpcStatusCode = r.str();
        break;
      case "httpmethod":
        g.httpMethod = r.str();
        break;
      case "httpendpoint":
        g.httpEndpoint = r.str();
        break;
      default:
        r.skip();
    }
  }
  return g;
}

/** Grouped stats with every field empty. */
export function emptyGroupedStats(): ClientGroupedStats {
  return {
    service: "",
    name: "",
    resource: "",
    httpStatusCode: 0,
    type: "",
    dbType: "",
    hits: 0,
    errors: 0,
    duration: 0,
    okSummary: new Uint8Array(0),
    errorSummary: new Uint8Array(0),
    synthetics: false,
    topLevelHits: 0,
    spanKind: "",
    peerTags: [],
    isTraceRoot: 0,
    grpcStatusCode: "",
    httpMethod: "",
    httpEndpoint: "",
  };
}

function bucket(r: MsgpackReader): ClientStatsBucket {
  const b: ClientStatsBucket = { start: 0n, duration: 0n, stats: [], agentTimeShift: 0n };
  const fields = r.mapLen();
  for (let f = 0; f < fields; f++) {
    switch (fold(r.str())) {
      case "start":
        b.start = r.uint64();
        break;
      case "duration":
        b.duration = r.uint64();
        break;
      case "stats": {
        const n = r.arrayLen();
        for (let i = 0; i < n; i++) b.stats.push(groupedStats(r));
        break;
      }
      case "agenttimeshift":
        b.agentTimeShift = r.int64();
        break;
      default:
        r.skip();
    }
  }
  return b;
}

/**
 * Decodes a `/v0.6/stats` body: one msgpack ClientStatsPayload with the Go field names
 * (`Hostname`, `Env`, `Stats: [{Start, Duration, Stats: [{Service, Hits, …}]}]`…).
 *
 * @example Decode the env
 * ```ts
 * import { decodeClientStats } from "./_decode.ts";
 * const body = new Uint8Array([0x81, 0xa3, 0x45, 0x6e, 0x76, 0xa1, 0x78]);
 * console.assert(decodeClientStats(body).env === "x");
 * ```
 */
export function decodeClientStats(body: Uint8Array): ClientStatsPayload {
  const r = new MsgpackReader(body);
  const p = clientStatsPayload(r);
  checkDone(r);
  return p;
}

function clientStatsPayload(r: MsgpackReader): ClientStatsPayload {
  const p = emptyClientStatsPayload();
  const fields = r.mapLen();
  for (let f = 0; f < fields; f++) {
    switch (fold(r.str())) {
      case "hostname":
        p.hostname = r.str();
        break;
      case "env":
        p.env = r.str();
        break;
      case "version":
        p.version = r.str();
        break;
      case "stats": {
        const n = r.arrayLen();
        for (let i = 0; i < n; i++) p.stats.push(bucket(r));
        break;
      }
      case "lang":
        p.lang = r.str();
        break;
      case "tracerversion":
        p.tracerVersion = r.str();
        break;
      case "runtimeid":
        p.runtimeID = r.str();
        break;
      case "sequence":
        p.sequence = r.float();
        break;
      case "agentaggregation":
        p.agentAggregation = r.str();
        break;
      case "service":
        p.service = r.str();
        break;
      case "containerid":
        p.containerID = r.str();
        break;
      case "tags":
        p.tags = strList(r);
        break;
      case "gitcommitsha":
        p.gitCommitSha = r.str();
        break;
      case "imagetag":
        p.imageTag = r.str();
        break;
      case "processtagshash":
        p.processTagsHash = r.uint64();
        break;
      case "processtags":
        p.processTags = r.str();
        break;
      default:
        r.skip();
    }
  }
  return p;
}

/** A client stats payload with every field empty. */
export function emptyClientStatsPayload(): ClientStatsPayload {
  return {
    hostname: "",
    env: "",
    version: "",
    stats: [],
    lang: "",
    tracerVersion: "",
    runtimeID: "",
    sequence: 0,
    agentAggregation: "",
    service: "",
    containerID: "",
    tags: [],
    gitCommitSha: "",
    imageTag: "",
    processTagsHash: 0n,
    processTags: "",
  };
}
