/**
 * Normalization of received spans and chunks, as the trace agent does it before anything
 * else (logs-apmstats B.4): a chunk with a bad trace is dropped with a reason; a span with a
 * bad field is fixed, and each fix is counted with a reason. Truncation of resources and tags
 * happens after obfuscation (`truncateSpan`).
 */
import { PRIORITY_NONE, type Span, type TraceChunk } from "./_span.ts";

/** Why a whole chunk was dropped (the Go agent's `TracesDropped` reasons). */
export type TraceDropReason = "empty_trace" | "trace_id_zero" | "span_id_zero" | "foreign_span";

/** What was fixed in a span (the Go agent's `SpansMalformed` reasons). */
export type SpanFixReason =
  | "service_empty"
  | "service_truncate"
  | "service_invalid"
  | "peer_service_truncate"
  | "peer_service_invalid"
  | "base_service_truncate"
  | "base_service_invalid"
  | "span_name_empty"
  | "span_name_truncate"
  | "span_name_invalid"
  | "resource_empty"
  | "type_truncate"
  | "invalid_start_date"
  | "invalid_duration"
  | "invalid_http_status_code"
  | "duplicate_span_id";

export const MAX_SERVICE_LEN = 100;
export const MAX_NAME_LEN = 100;
export const MAX_TYPE_LEN = 100;
export const MAX_RESOURCE_LEN = 5000;
export const MAX_META_KEY_LEN = 200;
export const MAX_META_VALUE_LEN = 25000;
export const MAX_METRIC_KEY_LEN = 200;
const MAX_TAG_LEN = 200;
const DEFAULT_SPAN_NAME = "unnamed_operation";
/** 2000-01-01 in ns: a start before it is a tracer bug (seconds instead of ns, or unset). */
const YEAR_2000_NS = 946684800n * 1_000_000_000n;
const INT64_MAX = (1n << 63n) - 1n;

/** Bytes of the UTF-8 encoding of `s`. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** `s` cut to at most `max` UTF-8 bytes, never inside a character. */
export function truncateUtf8(s: string, max: number): string {
  if (s.length * 3 <= max) return s;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const w = c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdbff ? 4 : 3;
    if (n + w > max) return s.slice(0, i);
    n += w;
    if (w === 4) i++;
  }
  return s;
}

const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

/** True for characters a tag value keeps as they are: a-z, 0-9, `:` `.` `/` `-` `_`. */
function isPlainTagChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x3a || c === 0x2e ||
    c === 0x2f || c === 0x2d || c === 0x5f;
}

/**
 * A tag value as Datadog stores it: lower-cased; letters, digits and `:./-_` kept; each run of
 * other characters becomes one `_`, a trailing run is dropped; at most 200 characters.
 *
 * @example
 * ```ts
 * import { normalizeTagValue } from "./_normalize.ts";
 * console.assert(normalizeTagValue("My Service!!") === "my_service");
 * ```
 */
export function normalizeTagValue(v: string): string {
  let plain = v.length <= MAX_TAG_LEN;
  for (let i = 0; plain && i < v.length; i++) plain = isPlainTagChar(v.charCodeAt(i));
  if (plain) return v;
  let out = "";
  let chars = 0;
  let pendingUnderscore = false;
  let bytes = 0;
  for (const ch of v) {
    bytes += utf8Length(ch);
    if (bytes > 2 * MAX_TAG_LEN || chars >= MAX_TAG_LEN) break;
    const c = ch.charCodeAt(0);
    let keep: string | null = null;
    if (isPlainTagChar(c)) keep = ch;
    else if (c >= 0x41 && c <= 0x5a) keep = String.fromCharCode(c + 32);
    else if (c >= 0x80 && LETTER_OR_DIGIT.test(ch)) {
      const lower = ch.toLowerCase();
      keep = utf8Length(lower) === utf8Length(ch) ? lower : ch;
    }
    if (keep === null) {
      pendingUnderscore = out.length > 0;
      continue;
    }
    if (pendingUnderscore && !out.endsWith("_")) {
      out += "_";
      chars++;
      if (chars >= MAX_TAG_LEN) break;
    }
    pendingUnderscore = false;
    out += keep;
    chars++;
  }
  return out;
}

const isAsciiLetter = (c: number) => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);

/** True when `name` is already a valid metric name (the usual case: `express.request`). */
function isPlainName(name: string): boolean {
  if (name.length === 0 || !isAsciiLetter(name.charCodeAt(0))) return false;
  let prev = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const ok = isAsciiLetter(c) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x5f;
    if (!ok || (c === 0x5f && prev === 0x5f) || (c === 0x2e && prev === 0x5f)) return false;
    prev = c;
  }
  return prev !== 0x5f;
}

/**
 * An operation name as a metric name: from the first letter on, characters other than
 * `[A-Za-z0-9_.]` become `_`, no `__`, no `_` before `.`, no trailing `_`. "" when it has no letter.
 *
 * @example
 * ```ts
 * import { normalizeName } from "./_normalize.ts";
 * console.assert(normalizeName("express.request") === "express.request");
 * console.assert(normalizeName("9 get users!") === "get_users");
 * ```
 */
export function normalizeName(name: string): string {
  if (isPlainName(name)) return name;
  let i = 0;
  while (i < name.length && !isAsciiLetter(name.charCodeAt(i))) i++;
  if (i === name.length) return "";
  let out = "";
  for (; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const ok = isAsciiLetter(c) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2e;
    if (!ok || c === 0x5f) {
      if (!out.endsWith("_")) out += "_";
    } else if (c === 0x2e && out.endsWith("_")) out = out.slice(0, -1) + ".";
    else out += name[i];
  }
  while (out.endsWith("_")) out = out.slice(0, -1);
  return out;
}

/** The fallback service of spans without one. */
export function fallbackService(lang: string): string {
  return lang ? `unnamed-${lang.toLowerCase()}-service` : "unnamed-service";
}

/** A service name normalized; null when nothing valid is left. */
function normalizeServiceName(
  v: string,
  fix: (r: SpanFixReason) => void,
  truncate: SpanFixReason,
  invalid: SpanFixReason,
): string | null {
  if (utf8Length(v) > MAX_SERVICE_LEN) {
    fix(truncate);
    v = truncateUtf8(v, MAX_SERVICE_LEN);
  }
  const n = normalizeTagValue(v);
  if (n === "") {
    fix(invalid);
    return null;
  }
  return n;
}

/** True for a valid HTTP status code (100–599). */
function validStatusCode(v: string): boolean {
  const n = Number(v);
  return Number.isInteger(n) && n >= 100 && n < 600;
}

/**
 * Fixes one span in place; `fix` is told each reason. `lang` names the fallback service,
 * `nowNs` replaces a start before 2000.
 */
export function normalizeSpan(
  span: Span,
  { lang, nowNs, fix }: { lang: string; nowNs: bigint; fix: (r: SpanFixReason) => void },
): void {
  if (span.service === "") {
    fix("service_empty");
    span.service = fallbackService(lang);
  } else {
    span.service = normalizeServiceName(span.service, fix, "service_truncate", "service_invalid") ??
      fallbackService(lang);
  }
  const meta = span.meta;
  if (meta["peer.service"] !== undefined) {
    meta["peer.service"] = normalizeServiceName(
      meta["peer.service"],
      fix,
      "peer_service_truncate",
      "peer_service_invalid",
    ) ?? "";
  }
  if (meta["_dd.base_service"] !== undefined) {
    meta["_dd.base_service"] = normalizeServiceName(
      meta["_dd.base_service"],
      fix,
      "base_service_truncate",
      "base_service_invalid",
    ) ?? "";
  }
  if (span.parentId === span.traceId && span.parentId === span.spanId) span.parentId = 0n;

  if (span.name === "") {
    fix("span_name_empty");
    span.name = DEFAULT_SPAN_NAME;
  } else {
    if (utf8Length(span.name) > MAX_NAME_LEN) {
      fix("span_name_truncate");
      span.name = truncateUtf8(span.name, MAX_NAME_LEN);
    }
    const n = normalizeName(span.name);
    if (n === "") {
      fix("span_name_invalid");
      span.name = DEFAULT_SPAN_NAME;
    } else span.name = n;
  }
  if (span.resource === "") {
    fix("resource_empty");
    span.resource = span.name;
  }
  if (span.duration < 0n || span.start + span.duration > INT64_MAX) {
    fix("invalid_duration");
    span.duration = 0n;
  }
  if (span.start < YEAR_2000_NS) {
    fix("invalid_start_date");
    const start = nowNs - span.duration;
    span.start = start > 0n ? start : nowNs;
  }
  if (utf8Length(span.type) > MAX_TYPE_LEN) {
    fix("type_truncate");
    span.type = truncateUtf8(span.type, MAX_TYPE_LEN);
  }
  if (meta.env !== undefined) meta.env = normalizeTagValue(meta.env);
  const status = meta["http.status_code"];
  if (status !== undefined && !validStatusCode(status)) {
    fix("invalid_http_status_code");
    delete meta["http.status_code"];
  }
}

/** Why the chunk must be dropped, or null when its trace is sound. */
export function checkTrace(spans: Span[]): TraceDropReason | null {
  if (spans.length === 0) return "empty_trace";
  const traceId = spans[0].traceId;
  for (const s of spans) {
    if (s.traceId === 0n) return "trace_id_zero";
    if (s.spanId === 0n) return "span_id_zero";
    if (s.traceId !== traceId) return "foreign_span";
  }
  return null;
}

/** Fills the chunk's priority, origin and decision maker from its spans when unset. */
export function fillChunk(chunk: TraceChunk, root: Span): void {
  if (chunk.priority === PRIORITY_NONE) {
    const p = root.metrics["_sampling_priority_v1"] ??
      chunk.spans.find((s) => s.metrics["_sampling_priority_v1"] !== undefined)
        ?.metrics["_sampling_priority_v1"];
    if (p !== undefined) chunk.priority = Math.trunc(p);
  }
  if (chunk.origin === "" && root.meta["_dd.origin"] !== undefined) {
    chunk.origin = root.meta["_dd.origin"];
  }
  if (chunk.tags["_dd.p.dm"] === undefined) {
    for (const s of chunk.spans) {
      const dm = s.meta["_dd.p.dm"];
      if (dm !== undefined) {
        chunk.tags["_dd.p.dm"] = dm;
        break;
      }
    }
  }
}

function truncateKey(k: string, max: number): string {
  return utf8Length(k) > max ? truncateUtf8(k, max) + "..." : k;
}

/** Cuts resource and tags to the intake's limits (after obfuscation). */
export function truncateSpan(span: Span): void {
  if (span.resource.length * 3 > MAX_RESOURCE_LEN) {
    span.resource = truncateUtf8(span.resource, MAX_RESOURCE_LEN);
  }
  for (const k in span.meta) {
    const v = span.meta[k];
    const long = v.length * 3 > MAX_META_VALUE_LEN && utf8Length(v) > MAX_META_VALUE_LEN;
    if (k.length * 3 > MAX_META_KEY_LEN && utf8Length(k) > MAX_META_KEY_LEN) {
      delete span.meta[k];
      span.meta[truncateKey(k, MAX_META_KEY_LEN)] = long
        ? truncateUtf8(v, MAX_META_VALUE_LEN) + "..."
        : v;
    } else if (long) span.meta[k] = truncateUtf8(v, MAX_META_VALUE_LEN) + "...";
  }
  for (const k in span.metrics) {
    if (k.length * 3 > MAX_METRIC_KEY_LEN && utf8Length(k) > MAX_METRIC_KEY_LEN) {
      const v = span.metrics[k];
      delete span.metrics[k];
      span.metrics[truncateKey(k, MAX_METRIC_KEY_LEN)] = v;
    }
  }
}
