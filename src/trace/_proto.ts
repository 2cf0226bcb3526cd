/**
 * Protobuf encoders of what the trace agent sends: `AgentPayload` (agent_payload.proto, with
 * tracer payloads, chunks and spans including links, events and meta_struct) for
 * `/api/v0.2/traces`. The serializer's writer does the wire format; this file adds the
 * 64-bit fields that arrive as bigint.
 */
import { ProtoWriter } from "../serializer/mod.ts";
import type {
  AgentPayload,
  AttributeScalar,
  AttributeValue,
  Span,
  SpanEvent,
  SpanLink,
  TraceChunk,
  TracerPayload,
} from "./_span.ts";

const scratch = new Uint8Array(11);
const scratchView = new DataView(scratch.buffer);

/** Writes the tag and the varint of a uint64 `v` (two's complement for a negative int64). */
function varint64(w: ProtoWriter, field: number, v: bigint): void {
  if (v === 0n) return;
  const u = BigInt.asUintN(64, v);
  let lo = Number(u & 0xffffffffn);
  let hi = Number(u >> 32n);
  let n = 0;
  let tag = field * 8;
  while (tag >= 0x80) {
    scratch[n++] = (tag & 0x7f) | 0x80;
    tag >>>= 7;
  }
  scratch[n++] = tag;
  // 7 bits at a time across the two 32-bit halves.
  while (hi > 0 || lo > 0x7f) {
    scratch[n++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  scratch[n++] = lo;
  w.raw(scratch.subarray(0, n));
}

/** A fixed64 field from a bigint. */
function fixed64(w: ProtoWriter, field: number, v: bigint): void {
  if (v === 0n) return;
  scratch[0] = field * 8 + 1;
  scratchView.setBigUint64(1, BigInt.asUintN(64, v), true);
  w.raw(scratch.subarray(0, 9));
}

function stringMap(w: ProtoWriter, field: number, m: Record<string, string>): void {
  for (const k in m) {
    w.fork(field);
    w.string(1, k);
    w.string(2, m[k]);
    w.ldelim();
  }
}

function link(w: ProtoWriter, l: SpanLink): void {
  w.fork(14);
  varint64(w, 1, l.traceId);
  varint64(w, 2, l.traceIdHigh);
  varint64(w, 3, l.spanId);
  stringMap(w, 4, l.attributes);
  w.string(5, l.tracestate);
  w.uint(6, l.flags >>> 0);
  w.ldelim();
}

function scalar(w: ProtoWriter, a: AttributeScalar | AttributeValue): void {
  w.uint(1, a.type);
  switch (a.type) {
    case 0:
      w.string(2, a.value);
      break;
    case 1:
      w.uint(3, a.value ? 1 : 0);
      break;
    case 2:
      varint64(w, 4, a.value);
      break;
    case 3:
      w.double(5, a.value);
      break;
    case 4:
      w.fork(6);
      for (const v of a.value) {
        w.fork(1);
        scalar(w, v);
        w.ldelim();
      }
      w.ldelim();
  }
}

function event(w: ProtoWriter, e: SpanEvent): void {
  w.fork(15);
  fixed64(w, 1, e.timeUnixNano);
  w.string(2, e.name);
  for (const k in e.attributes) {
    w.fork(3);
    w.string(1, k);
    w.fork(2);
    scalar(w, e.attributes[k]);
    w.ldelim();
    w.ldelim();
  }
  w.ldelim();
}

function span(w: ProtoWriter, s: Span): void {
  w.fork(3);
  w.string(1, s.service);
  w.string(2, s.name);
  w.string(3, s.resource);
  varint64(w, 4, s.traceId);
  varint64(w, 5, s.spanId);
  varint64(w, 6, s.parentId);
  varint64(w, 7, s.start);
  varint64(w, 8, s.duration);
  w.int64(9, s.error);
  stringMap(w, 10, s.meta);
  const metrics = s.metrics;
  for (const k in metrics) {
    w.fork(11);
    w.string(1, k);
    w.double(2, metrics[k]);
    w.ldelim();
  }
  w.string(12, s.type);
  const ms = s.metaStruct;
  for (const k in ms) {
    w.fork(13);
    w.string(1, k);
    w.bytes(2, ms[k]);
    w.ldelim();
  }
  for (const l of s.spanLinks) link(w, l);
  for (const e of s.spanEvents) event(w, e);
  w.ldelim();
}

function chunk(w: ProtoWriter, c: TraceChunk): void {
  w.fork(6);
  w.int64(1, c.priority);
  w.string(2, c.origin);
  for (const s of c.spans) span(w, s);
  stringMap(w, 4, c.tags);
  w.uint(5, c.droppedTrace ? 1 : 0);
  w.ldelim();
}

function tracerPayload(w: ProtoWriter, p: TracerPayload): void {
  w.fork(5);
  w.string(1, p.containerID);
  w.string(2, p.languageName);
  w.string(3, p.languageVersion);
  w.string(4, p.tracerVersion);
  w.string(5, p.runtimeID);
  for (const c of p.chunks) chunk(w, c);
  stringMap(w, 7, p.tags);
  w.string(8, p.env);
  w.string(9, p.hostname);
  w.string(10, p.appVersion);
  w.ldelim();
}

/** One writer reused across payloads: the buffer grows once to the usual size and stays. */
const shared = new ProtoWriter(64 * 1024);

/**
 * Encodes an `AgentPayload` (uncompressed protobuf bytes).
 *
 * @example Encode a payload without tracer payloads
 * ```ts
 * import { encodeAgentPayload } from "./_proto.ts";
 * const bytes = encodeAgentPayload({
 *   hostName: "h", env: "", tracerPayloads: [], tags: {}, agentVersion: "7",
 *   targetTPS: 10, errorTPS: 10, rareSamplerEnabled: false,
 * });
 * console.assert(bytes[0] === 10 && bytes[2] === 0x68); // field 1 "h"
 * ```
 */
export function encodeAgentPayload(p: AgentPayload): Uint8Array {
  const w = shared;
  w.reset();
  w.string(1, p.hostName);
  w.string(2, p.env);
  for (const tp of p.tracerPayloads) tracerPayload(w, tp);
  stringMap(w, 6, p.tags);
  w.string(7, p.agentVersion);
  w.double(8, p.targetTPS);
  w.double(9, p.errorTPS);
  w.uint(10, p.rareSamplerEnabled ? 1 : 0);
  return w.finish();
}
