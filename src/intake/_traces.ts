/**
 * The intake's side of traces: decodes `AgentPayload` protobuf (`/api/v0.2/traces`) and the
 * msgpack `StatsPayload` (`/api/v0.2/stats`) with its own readers (not the agent's encoders,
 * so each checks the other), and answers the trace queries. 64-bit ids and nanosecond times
 * are kept as decimal strings so they stay exact in JSON.
 *
 * @module
 */
import { expectWire, fields, ProtobufError, Reader } from "./_protobuf.ts";
import type { IntakeStore } from "./_store.ts";
import type { BodyKind } from "./_decode.ts";

/** The kind of what the EVP proxy sends (any path, the product in `X-Datadog-EVP-Subdomain`). */
export const EVP_KIND = "evp";

/**
 * The trace agent's routes: traces and stats, and the products its proxies pass on (queried
 * with `/outpost/intake/payloads?kind=<kind>`).
 */
export const TRACE_ROUTES: ReadonlyArray<
  { path: string; body: BodyKind; kind: string; answer: Record<string, unknown> }
> = [
  { path: "/api/v0.2/traces", body: "agent_payload", kind: "traces", answer: {} },
  { path: "/api/v0.2/stats", body: "msgpack", kind: "trace_stats", answer: {} },
  { path: "/api/v2/apmtelemetry", body: "json", kind: "telemetry", answer: {} },
  { path: "/api/v2/profile", body: "opaque", kind: "profiling", answer: {} },
  { path: "/api/v2/debugger", body: "opaque", kind: "debugger", answer: {} },
  { path: "/api/v0.1/pipeline_stats", body: "opaque", kind: "pipeline_stats", answer: {} },
];

const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;

/** One decoded span, ids and times as decimal strings. */
export interface DecodedSpan {
  service: string;
  name: string;
  resource: string;
  type: string;
  trace_id: string;
  span_id: string;
  parent_id: string;
  start: string;
  duration: string;
  error: number;
  meta: Record<string, string>;
  metrics: Record<string, number>;
  meta_struct: Record<string, string>;
  span_links: Array<{
    trace_id: string;
    trace_id_high: string;
    span_id: string;
    attributes: Record<string, string>;
    tracestate: string;
    flags: number;
  }>;
  span_events: Array<{ time_unix_nano: string; name: string; attributes: Record<string, unknown> }>;
}

/** One decoded chunk. */
export interface DecodedChunk {
  priority: number;
  origin: string;
  spans: DecodedSpan[];
  tags: Record<string, string>;
  dropped_trace: boolean;
}

/** One decoded tracer payload. */
export interface DecodedTracerPayload {
  container_id: string;
  language_name: string;
  language_version: string;
  tracer_version: string;
  runtime_id: string;
  chunks: DecodedChunk[];
  tags: Record<string, string>;
  env: string;
  hostname: string;
  app_version: string;
}

/** A decoded `AgentPayload`. */
export interface DecodedAgentPayload {
  host_name: string;
  env: string;
  tracer_payloads: DecodedTracerPayload[];
  tags: Record<string, string>;
  agent_version: string;
  target_tps: number;
  error_tps: number;
  rare_sampler_enabled: boolean;
}

const int32 = (r: Reader) => r.varint() | 0;

/** A map<K, V> entry: key field 1, value field 2. */
function entry<V>(r: Reader, value: (r: Reader, wire: number) => V, def: V): [string, V] {
  let k = "";
  let v = def;
  fields(r, (f, w) => {
    if (f === 1) {
      expectWire(w, LEN);
      k = r.string();
    } else if (f === 2) v = value(r, w);
    else return false;
    return true;
  });
  return [k, v];
}

const strValue = (r: Reader, w: number) => (expectWire(w, LEN), r.string());
const doubleValue = (r: Reader, w: number) => (expectWire(w, FIXED64), r.double());
const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));

/** An `AttributeAnyValue` (field 6 an array of scalars) or `AttributeArrayValue`. */
function attributeValue(r: Reader): Record<string, unknown> {
  const v: Record<string, unknown> = { type: 0 };
  fields(r, (f, w) => {
    switch (f) {
      case 1:
        v.type = r.varint();
        return true;
      case 2:
        v.string_value = strValue(r, w);
        return true;
      case 3:
        v.bool_value = r.varint() !== 0;
        return true;
      case 4:
        v.int_value = r.int64();
        return true;
      case 5:
        v.double_value = doubleValue(r, w);
        return true;
      case 6: {
        expectWire(w, LEN);
        const values: unknown[] = [];
        const arr = r.sub(r.bytes());
        fields(arr, (af, aw) => {
          if (af !== 1) return false;
          expectWire(aw, LEN);
          values.push(attributeValue(arr.sub(arr.bytes())));
          return true;
        });
        v.array_value = values;
        return true;
      }
      default:
        return false;
    }
  });
  return v;
}

function decodeSpan(r: Reader): DecodedSpan {
  const s: DecodedSpan = {
    service: "",
    name: "",
    resource: "",
    type: "",
    trace_id: "0",
    span_id: "0",
    parent_id: "0",
    start: "0",
    duration: "0",
    error: 0,
    meta: {},
    metrics: {},
    meta_struct: {},
    span_links: [],
    span_events: [],
  };
  const int64 = (rr: Reader) => BigInt.asIntN(64, rr.uint64()).toString();
  fields(r, (f, w) => {
    switch (f) {
      case 1:
        s.service = strValue(r, w);
        return true;
      case 2:
        s.name = strValue(r, w);
        return true;
      case 3:
        s.resource = strValue(r, w);
        return true;
      case 4:
        expectWire(w, VARINT);
        s.trace_id = r.uint64().toString();
        return true;
      case 5:
        expectWire(w, VARINT);
        s.span_id = r.uint64().toString();
        return true;
      case 6:
        expectWire(w, VARINT);
        s.parent_id = r.uint64().toString();
        return true;
      case 7:
        expectWire(w, VARINT);
        s.start = int64(r);
        return true;
      case 8:
        expectWire(w, VARINT);
        s.duration = int64(r);
        return true;
      case 9:
        expectWire(w, VARINT);
        s.error = int32(r);
        return true;
      case 10: {
        expectWire(w, LEN);
        const [k, v] = entry(r.sub(r.bytes()), strValue, "");
        s.meta[k] = v;
        return true;
      }
      case 11: {
        expectWire(w, LEN);
        const [k, v] = entry(r.sub(r.bytes()), doubleValue, 0);
        s.metrics[k] = v;
        return true;
      }
      case 12:
        s.type = strValue(r, w);
        return true;
      case 13: {
        expectWire(w, LEN);
        const [k, v] = entry(
          r.sub(r.bytes()),
          (rr, ww) => (expectWire(ww, LEN), b64(rr.raw())),
          "",
        );
        s.meta_struct[k] = v;
        return true;
      }
      case 14:
        expectWire(w, LEN);
        s.span_links.push(decodeLink(r.sub(r.bytes())));
        return true;
      case 15:
        expectWire(w, LEN);
        s.span_events.push(decodeEvent(r.sub(r.bytes())));
        return true;
      default:
        return false;
    }
  });
  return s;
}

function decodeLink(r: Reader): DecodedSpan["span_links"][number] {
  const l = {
    trace_id: "0",
    trace_id_high: "0",
    span_id: "0",
    attributes: {} as Record<string, string>,
    tracestate: "",
    flags: 0,
  };
  fields(r, (f, w) => {
    switch (f) {
      case 1:
        l.trace_id = r.uint64().toString();
        return true;
      case 2:
        l.trace_id_high = r.uint64().toString();
        return true;
      case 3:
        l.span_id = r.uint64().toString();
        return true;
      case 4: {
        expectWire(w, LEN);
        const [k, v] = entry(r.sub(r.bytes()), strValue, "");
        l.attributes[k] = v;
        return true;
      }
      case 5:
        l.tracestate = strValue(r, w);
        return true;
      case 6:
        l.flags = r.varint() >>> 0;
        return true;
      default:
        return false;
    }
  });
  return l;
}

function decodeEvent(r: Reader): DecodedSpan["span_events"][number] {
  const e = { time_unix_nano: "0", name: "", attributes: {} as Record<string, unknown> };
  fields(r, (f, w) => {
    switch (f) {
      case 1:
        expectWire(w, FIXED64);
        e.time_unix_nano = r.fixed64().toString();
        return true;
      case 2:
        e.name = strValue(r, w);
        return true;
      case 3: {
        expectWire(w, LEN);
        const [k, v] = entry(
          r.sub(r.bytes()),
          (rr, ww) => (expectWire(ww, LEN), attributeValue(rr.sub(rr.bytes()))),
          null as unknown,
        );
        e.attributes[k] = v;
        return true;
      }
      default:
        return false;
    }
  });
  return e;
}

function decodeChunk(r: Reader): DecodedChunk {
  const c: DecodedChunk = { priority: 0, origin: "", spans: [], tags: {}, dropped_trace: false };
  fields(r, (f, w) => {
    switch (f) {
      case 1:
        expectWire(w, VARINT);
        c.priority = int32(r);
        return true;
      case 2:
        c.origin = strValue(r, w);
        return true;
      case 3:
        expectWire(w, LEN);
        c.spans.push(decodeSpan(r.sub(r.bytes())));
        return true;
      case 4: {
        expectWire(w, LEN);
        const [k, v] = entry(r.sub(r.bytes()), strValue, "");
        c.tags[k] = v;
        return true;
      }
      case 5:
        c.dropped_trace = r.varint() !== 0;
        return true;
      default:
        return false;
    }
  });
  return c;
}

const TRACER_STRINGS: Record<number, keyof DecodedTracerPayload> = {
  1: "container_id",
  2: "language_name",
  3: "language_version",
  4: "tracer_version",
  5: "runtime_id",
  8: "env",
  9: "hostname",
  10: "app_version",
};

function decodeTracerPayload(r: Reader): DecodedTracerPayload {
  const p: DecodedTracerPayload = {
    container_id: "",
    language_name: "",
    language_version: "",
    tracer_version: "",
    runtime_id: "",
    chunks: [],
    tags: {},
    env: "",
    hostname: "",
    app_version: "",
  };
  fields(r, (f, w) => {
    const name = TRACER_STRINGS[f];
    if (name) {
      (p as unknown as Record<string, string>)[name] = strValue(r, w);
      return true;
    }
    if (f === 6) {
      expectWire(w, LEN);
      p.chunks.push(decodeChunk(r.sub(r.bytes())));
      return true;
    }
    if (f === 7) {
      expectWire(w, LEN);
      const [k, v] = entry(r.sub(r.bytes()), strValue, "");
      p.tags[k] = v;
      return true;
    }
    return false;
  });
  return p;
}

/**
 * Decodes an `AgentPayload` (agent_payload.proto).
 *
 * @example An empty payload
 * ```ts
 * import { decodeAgentPayload } from "./_traces.ts";
 * console.log(decodeAgentPayload(new Uint8Array()).tracer_payloads); // []
 * ```
 */
export function decodeAgentPayload(buf: Uint8Array): DecodedAgentPayload {
  const r = new Reader(buf);
  const p: DecodedAgentPayload = {
    host_name: "",
    env: "",
    tracer_payloads: [],
    tags: {},
    agent_version: "",
    target_tps: 0,
    error_tps: 0,
    rare_sampler_enabled: false,
  };
  fields(r, (f, w) => {
    switch (f) {
      case 1:
        p.host_name = strValue(r, w);
        return true;
      case 2:
        p.env = strValue(r, w);
        return true;
      case 5:
        expectWire(w, LEN);
        p.tracer_payloads.push(decodeTracerPayload(r.sub(r.bytes())));
        return true;
      case 6: {
        expectWire(w, LEN);
        const [k, v] = entry(r.sub(r.bytes()), strValue, "");
        p.tags[k] = v;
        return true;
      }
      case 7:
        p.agent_version = strValue(r, w);
        return true;
      case 8:
        p.target_tps = doubleValue(r, w);
        return true;
      case 9:
        p.error_tps = doubleValue(r, w);
        return true;
      case 10:
        p.rare_sampler_enabled = r.varint() !== 0;
        return true;
      default:
        return false;
    }
  });
  return p;
}

/**
 * Decodes a msgpack document into JSON-ready values: maps with string keys, binary as
 * base64, integers past 2^53 as decimal strings.
 *
 * @example
 * ```ts
 * import { decodeMsgpack } from "./_traces.ts";
 * console.log(decodeMsgpack(new Uint8Array([0x81, 0xa1, 0x61, 0x01]))); // { a: 1 }
 * ```
 */
export function decodeMsgpack(buf: Uint8Array): unknown {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > buf.length) throw new ProtobufError("msgpack body ends early");
  };
  const big = (v: bigint) =>
    v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(v)
      : v.toString();
  const str = (n: number) => {
    need(n);
    const s = utf8.decode(buf.subarray(pos, pos + n));
    pos += n;
    return s;
  };
  const bin = (n: number) => {
    need(n);
    const s = b64(buf.subarray(pos, pos + n));
    pos += n;
    return s;
  };
  const arr = (n: number): unknown[] => {
    const out = [];
    for (let i = 0; i < n; i++) out.push(value());
    return out;
  };
  const map = (n: number): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) out[String(value())] = value();
    return out;
  };
  const u = (n: 1 | 2 | 4) => {
    need(n);
    const v = n === 1 ? buf[pos] : n === 2 ? view.getUint16(pos) : view.getUint32(pos);
    pos += n;
    return v;
  };
  function value(): unknown {
    need(1);
    const b = buf[pos++];
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if ((b & 0xf0) === 0x80) return map(b & 0x0f);
    if ((b & 0xf0) === 0x90) return arr(b & 0x0f);
    if ((b & 0xe0) === 0xa0) return str(b & 0x1f);
    let v: unknown;
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return bin(u(1));
      case 0xc5:
        return bin(u(2));
      case 0xc6:
        return bin(u(4));
      case 0xca:
        need(4);
        v = view.getFloat32(pos);
        pos += 4;
        return v;
      case 0xcb:
        need(8);
        v = view.getFloat64(pos);
        pos += 8;
        return v;
      case 0xcc:
        return u(1);
      case 0xcd:
        return u(2);
      case 0xce:
        return u(4);
      case 0xcf:
        need(8);
        v = big(view.getBigUint64(pos));
        pos += 8;
        return v;
      case 0xd0:
        need(1);
        return view.getInt8(pos++);
      case 0xd1:
        need(2);
        v = view.getInt16(pos);
        pos += 2;
        return v;
      case 0xd2:
        need(4);
        v = view.getInt32(pos);
        pos += 4;
        return v;
      case 0xd3:
        need(8);
        v = big(view.getBigInt64(pos));
        pos += 8;
        return v;
      case 0xd9:
        return str(u(1));
      case 0xda:
        return str(u(2));
      case 0xdb:
        return str(u(4));
      case 0xdc:
        return arr(u(2));
      case 0xdd:
        return arr(u(4));
      case 0xde:
        return map(u(2));
      case 0xdf:
        return map(u(4));
      default:
        throw new ProtobufError(`unsupported msgpack type 0x${b.toString(16)}`);
    }
  }
  const out = value();
  if (pos !== buf.length) throw new ProtobufError("bytes left after the msgpack document");
  return out;
}

/** A stored span with where it came from. */
export interface FlatSpan extends DecodedSpan {
  env: string;
  language: string;
  host: string;
  priority: number;
  seq: number;
}

/** Spans of stored AgentPayloads, optionally of one service, oldest first. */
export function queryTraces(store: IntakeStore, { service }: { service?: string }) {
  const spans: FlatSpan[] = [];
  let payloads = 0;
  for (const rec of store.records({ kind: "traces" })) {
    payloads++;
    const p = rec.content as DecodedAgentPayload;
    for (const tp of p.tracer_payloads) {
      for (const c of tp.chunks) {
        for (const s of c.spans) {
          if (service !== undefined && s.service !== service) continue;
          spans.push({
            ...s,
            env: tp.env || p.env,
            language: tp.language_name,
            host: tp.hostname || p.host_name,
            priority: c.priority,
            seq: rec.seq,
          });
        }
      }
    }
  }
  return { service: service ?? null, payloads, count: spans.length, spans };
}

/** Hits, errors and durations per (service, resource) over every stored stats payload. */
export function queryTraceStats(store: IntakeStore, { service }: { service?: string }) {
  const rows = new Map<string, Record<string, unknown>>();
  let payloads = 0;
  for (const rec of store.records({ kind: "trace_stats" })) {
    payloads++;
    const p = rec.content as { Stats?: Array<{ Stats?: Array<{ Stats?: unknown[] }> }> };
    for (const client of p.Stats ?? []) {
      for (const bucket of client.Stats ?? []) {
        for (const g of (bucket.Stats ?? []) as Array<Record<string, unknown>>) {
          if (service !== undefined && g.Service !== service) continue;
          const key = `${g.Service}\u0000${g.Name}\u0000${g.Resource}`;
          const row = rows.get(key) ??
            {
              service: g.Service,
              name: g.Name,
              resource: g.Resource,
              hits: 0,
              errors: 0,
              top_level_hits: 0,
              duration: 0,
            };
          row.hits = (row.hits as number) + Number(g.Hits ?? 0);
          row.errors = (row.errors as number) + Number(g.Errors ?? 0);
          row.top_level_hits = (row.top_level_hits as number) + Number(g.TopLevelHits ?? 0);
          row.duration = (row.duration as number) + Number(g.Duration ?? 0);
          rows.set(key, row);
        }
      }
    }
  }
  return { payloads, count: rows.size, resources: [...rows.values()] };
}
