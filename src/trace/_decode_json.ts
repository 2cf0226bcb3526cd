/**
 * The JSON form of `/v0.3/traces` and `/v0.4/traces`: an array of traces, each an array of
 * span objects with the msgpack keys. Ids and times may be numbers above 2^53, which
 * `JSON.parse` would round, so they are quoted in the source text first and read exactly.
 */
import { TraceDecodeError } from "./_msgpack.ts";
import { emptySpan, type Span, type SpanLink } from "./_span.ts";

/** A bare number after one of the 64-bit keys: quoted before parsing so no digit is lost. */
const WIDE =
  /"(trace_id|trace_id_high|span_id|parent_id|start|duration|time_unix_nano)"(\s*):(\s*)(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;

function big(v: unknown, signed: boolean): bigint {
  let n: bigint;
  if (typeof v === "string") {
    n = /^-?\d+$/.test(v) ? BigInt(v) : BigInt(Math.trunc(Number(v) || 0));
  } else if (typeof v === "number" && Number.isFinite(v)) n = BigInt(Math.trunc(v));
  else n = 0n;
  return signed ? BigInt.asIntN(64, n) : BigInt.asUintN(64, n);
}

const str = (v: unknown): string => typeof v === "string" ? v : v == null ? "" : String(v);
const num = (v: unknown): number =>
  typeof v === "number" ? v : typeof v === "boolean" ? Number(v) : Number(v) || 0;

function strRecord(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (v && typeof v === "object") { for (const [k, x] of Object.entries(v)) out[k] = str(x); }
  return out;
}

function numRecord(v: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (v && typeof v === "object") { for (const [k, x] of Object.entries(v)) out[k] = num(x); }
  return out;
}

function link(v: any): SpanLink {
  return {
    traceId: big(v?.trace_id, false),
    traceIdHigh: big(v?.trace_id_high, false),
    spanId: big(v?.span_id, false),
    attributes: strRecord(v?.attributes),
    tracestate: str(v?.tracestate),
    flags: num(v?.flags) >>> 0,
  };
}

function span(v: any): Span {
  const s = emptySpan();
  if (!v || typeof v !== "object" || Array.isArray(v)) {
    throw new TraceDecodeError(
      "json",
      "Cannot decode JSON traces: expected each span to be an object",
    );
  }
  s.service = str(v.service);
  s.name = str(v.name);
  s.resource = str(v.resource);
  s.type = str(v.type);
  s.traceId = big(v.trace_id, false);
  s.spanId = big(v.span_id, false);
  s.parentId = big(v.parent_id, false);
  s.start = big(v.start, true);
  s.duration = big(v.duration, true);
  s.error = num(v.error) | 0;
  s.meta = strRecord(v.meta);
  s.metrics = numRecord(v.metrics);
  if (Array.isArray(v.span_links)) s.spanLinks = v.span_links.map(link);
  return s;
}

/**
 * Decodes a JSON `/v0.3/traces` or `/v0.4/traces` body.
 *
 * @example Ids above 2^53 stay exact
 * ```ts
 * import { decodeTracesJson } from "./_decode_json.ts";
 * const [[span]] = decodeTracesJson('[[{"trace_id": 18446744073709551615, "span_id": 1}]]');
 * console.assert(span.traceId === 18446744073709551615n);
 * ```
 */
export function decodeTracesJson(text: string): Span[][] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(WIDE, '"$1"$2:$3"$4"'));
  } catch (e) {
    throw new TraceDecodeError("json", `Cannot decode JSON traces: ${(e as Error).message}`);
  }
  if (!Array.isArray(parsed)) {
    throw new TraceDecodeError("json", "Cannot decode JSON traces: expected an array of traces");
  }
  return parsed.map((trace) => {
    if (!Array.isArray(trace)) {
      throw new TraceDecodeError(
        "json",
        "Cannot decode JSON traces: expected each trace to be an array of spans",
      );
    }
    return trace.map(span);
  });
}
