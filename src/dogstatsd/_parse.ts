/**
 * The DogStatsD parser: packet framing, metrics, events and service checks, and the
 * enrichment that the agent applies right after parsing (host tag, extra tags, namespace,
 * blocklist). It reads bytes of one packet and never throws: a bad message is skipped,
 * counted by kind and reason, and its first bytes are kept in a ring.
 */
import {
  type Event,
  type EventAlertType,
  MAX_TIMESTAMP,
  type MetricSample,
  MIN_SAMPLE_RATE,
  type SampleType,
  type ServiceCheck,
  type ServiceCheckStatus,
} from "../metrics/model.ts";
import { shareTags } from "../metrics/shared_tags.ts";
import { dogstatsdParserEvents, type Registry } from "../telemetry/mod.ts";
import {
  ByteCache,
  find,
  Interner,
  PacketText,
  parseFloatBytes,
  parseIntBytes,
  startsWith,
} from "./_bytes.ts";
import { ErrorRing, type MessageKind, type ParseErrorCode } from "./_errors.ts";
import { DEFAULT_MAX_TAGS, DEFAULT_NAMESPACE_EXCLUDE } from "../config/keys/dogstatsd.ts";

const NL = 0x0a;
const CR = 0x0d;
const PIPE = 0x7c;
const COLON = 0x3a;
const COMMA = 0x2c;
const HASH = 0x23;
const AT = 0x40;
const UPPER_T = 0x54;

const ascii = (s: string) => new TextEncoder().encode(s);
const EVENT_PREFIX = ascii("_e{");
const SERVICE_CHECK_PREFIX = ascii("_sc");
const HOST_TAG = ascii("host:");
const ENTITY_ID_TAG = ascii("dd.internal.entity_id:");
const CARDINALITY_TAG = ascii("dd.internal.card:");
const JMX_CHECK_TAG = ascii("dd.internal.jmx_check_name:");

/**
 * Longest metric or service check name, in bytes. The intake keeps 200 characters, which is at
 * most 800 bytes of UTF-8: nothing it would keep is refused, and a name's cost stays bounded.
 */
export const MAX_NAME_BYTES = 1024;
/** Longest tag, in bytes; same reasoning as {@linkcode MAX_NAME_BYTES}. */
export const MAX_TAG_BYTES = 1024;
/** Options of {@linkcode DogStatsDParser}. */
export interface ParserOptions {
  /** `statsd_metric_namespace`, prepended to metric names (a `.` is added). @default "" */
  namespace?: string;
  /** `statsd_metric_namespace_blacklist`: prefixes that are not namespaced.
   * @default DEFAULT_NAMESPACE_EXCLUDE */
  namespaceExclude?: readonly string[];
  /** `statsd_metric_blocklist`: metric names dropped after parsing. @default [] */
  blocklist?: readonly string[];
  /** `statsd_metric_blocklist_match_prefix`: entries match as prefixes. @default false */
  blocklistMatchPrefix?: boolean;
  /** `dogstatsd_tags`, appended to every sample, event and service check. @default [] */
  extraTags?: readonly string[];
  /** Host given to items with no `host:` tag; "" means the agent's host name. @default "" */
  defaultHostname?: string;
  /** `dogstatsd_no_aggregation_pipeline`: honour `|T` timestamps. @default true */
  readTimestamps?: boolean;
  /** `dogstatsd_string_interner_size`. @default 4096 */
  internerSize?: number;
  /** How many recent parse errors are kept. @default 16 */
  recentErrors?: number;
  /** Most tags a line may carry (`host:` and internal tags and `dogstatsd_tags` not counted);
   * a line with more is refused as `too_many_tags`. 0 means no limit.
   * @default DEFAULT_MAX_TAGS */
  maxTags?: number;
}

/** Where parsed items go; the caller owns and drains the arrays. */
export interface ParsedItems {
  samples: MetricSample[];
  events: Event[];
  serviceChecks: ServiceCheck[];
}

/**
 * Parsed metric tails kept. Sized for about 10k live contexts (each context has one tail);
 * at ~250 bytes per entry that is ~4 MB at most. Beyond it lines still parse, only slower
 * (scripts/bench/dogstatsd.ts measures both sides).
 */
const TAIL_CACHE_SIZE = 16_384;

/** What a metric line says after its value; shared by every line with the same bytes. */
interface MetricTail {
  type: SampleType;
  /** Shared between samples: read-only. */
  tags: string[];
  host: string;
  sampleRate: number;
  timestamp: number;
  unit: string | undefined;
}

const ALERT_TYPES: readonly EventAlertType[] = ["error", "warning", "info", "success"];

/**
 * Parses DogStatsD packets into samples, events and service checks.
 *
 * @example Parse one packet
 * ```ts
 * import { Registry } from "../telemetry/mod.ts";
 * import { DogStatsDParser } from "./_parse.ts";
 * const parser = new DogStatsDParser(new Registry());
 * const out = { samples: [], events: [], serviceChecks: [] };
 * parser.parsePacket(new TextEncoder().encode("page.views:1|c|#env:dev\n"), out);
 * console.log(out.samples[0].name); // "page.views"
 * ```
 */
export class DogStatsDParser {
  readonly #interner: Interner;
  readonly #tails: ByteCache<MetricTail>;
  readonly #namespace: string;
  readonly #namespaceExclude: readonly string[];
  readonly #blocklist: Set<string>;
  readonly #blockPrefixes: readonly string[];
  readonly #extraTags: readonly string[];
  readonly #defaultHost: string;
  readonly #readTimestamps: boolean;
  readonly #maxTags: number;
  /** Namespaced names, so the concatenation happens once per name, not per sample. */
  readonly #namespaced = new Map<string, string>();
  /** The packet being parsed, as text for the values that need it. */
  readonly #packet = new PacketText();
  /** Host found by the last #tags call. */
  #host = "";

  /** Recent errors, for the status page. */
  readonly recentErrors: ErrorRing;
  readonly #c: ReturnType<typeof dogstatsdParserEvents>;

  constructor(registry: Registry, options: ParserOptions = {}) {
    const {
      namespace = "",
      namespaceExclude = DEFAULT_NAMESPACE_EXCLUDE,
      blocklist = [],
      blocklistMatchPrefix = false,
      extraTags = [],
      defaultHostname = "",
      readTimestamps = true,
      internerSize = 4096,
      recentErrors = 16,
      maxTags = DEFAULT_MAX_TAGS,
    } = options;
    if (!(Number.isSafeInteger(maxTags) && maxTags >= 0)) {
      throw new RangeError(`Cannot use maxTags ${maxTags}: expected an integer >= 0`);
    }
    this.#interner = new Interner(internerSize);
    this.#tails = new ByteCache(TAIL_CACHE_SIZE, { adaptive: true });
    this.#namespace = namespace === "" || namespace.endsWith(".") ? namespace : namespace + ".";
    this.#namespaceExclude = namespaceExclude;
    this.#blocklist = new Set(blocklistMatchPrefix ? [] : blocklist);
    this.#blockPrefixes = blocklistMatchPrefix ? blocklist : [];
    this.#extraTags = extraTags;
    this.#defaultHost = defaultHostname;
    this.#readTimestamps = readTimestamps;
    this.#maxTags = maxTags === 0 ? Infinity : maxTags;
    this.recentErrors = new ErrorRing(recentErrors);
    this.#c = dogstatsdParserEvents(registry, {
      recentParseErrors: () => this.recentErrors.list(),
    });
  }

  /**
   * Splits a packet on `\n` (trimming one `\r`, skipping empty lines) and parses each
   * message into `out`. With `eolRequired`, a last message without a newline is dropped
   * and counted as unterminated.
   */
  parsePacket(buf: Uint8Array, out: ParsedItems, eolRequired = false): void {
    this.#packet.reset(buf);
    const len = buf.length;
    let pos = 0;
    while (pos < len) {
      const nl = buf.indexOf(NL, pos);
      const next = nl < 0 ? len : nl + 1;
      let end = nl < 0 ? len : nl;
      if (end > pos && buf[end - 1] === CR) end--;
      if (end > pos) {
        if (nl < 0 && eolRequired) {
          this.#c.unterminatedMetricErrors.inc();
          this.#fail("metric", "unterminated", buf, pos, end);
        } else this.#message(buf, pos, end, out);
      }
      pos = next;
    }
  }

  /** Parses one message `buf[from, to)` (no newline) into `out`; false if it was rejected. */
  parseMessage(buf: Uint8Array, from: number, to: number, out: ParsedItems): boolean {
    this.#packet.reset(buf);
    return this.#message(buf, from, to, out);
  }

  #message(buf: Uint8Array, from: number, to: number, out: ParsedItems): boolean {
    if (startsWith(buf, from, to, EVENT_PREFIX)) {
      const r = this.#event(buf, from, to);
      if (typeof r === "string") return this.#fail("event", r, buf, from, to);
      this.#c.eventPackets.inc();
      out.events.push(r);
      return true;
    }
    if (startsWith(buf, from, to, SERVICE_CHECK_PREFIX)) {
      const r = this.#serviceCheck(buf, from, to);
      if (typeof r === "string") return this.#fail("service_check", r, buf, from, to);
      this.#c.serviceCheckPackets.inc();
      out.serviceChecks.push(r);
      return true;
    }
    const err = this.#metric(buf, from, to, out.samples);
    if (err !== undefined) return this.#fail("metric", err, buf, from, to);
    this.#c.metricPackets.inc();
    return true;
  }

  #fail(
    kind: MessageKind,
    code: ParseErrorCode,
    buf: Uint8Array,
    from: number,
    to: number,
  ): false {
    if (code !== "unterminated") {
      (kind === "metric"
        ? this.#c.metricParseErrors
        : kind === "event"
        ? this.#c.eventParseErrors
        : this.#c.serviceCheckParseErrors)
        .inc();
    }
    this.#c.parseErrorsByReason.with(code).inc();
    this.recentErrors.add(kind, code, buf, from, to);
    return false;
  }

  /** `name:value[:value…]|type[|@rate][|#tags][|c:…][|e:…][|card:…][|T…]` */
  #metric(
    buf: Uint8Array,
    from: number,
    to: number,
    out: MetricSample[],
  ): ParseErrorCode | undefined {
    const pipe = find(buf, PIPE, from, to);
    if (pipe < 0) return "no_pipe";
    const colon = find(buf, COLON, from, pipe);
    if (colon < 0) return "no_colon";
    if (colon === from) return "empty_name";
    if (colon + 1 === pipe) return "empty_value";
    if (colon - from > MAX_NAME_BYTES) return "name_too_long";

    // Everything after the value (type, rate, tags) repeats for a context, so its parse is
    // cached by its bytes: a hit skips splitting and interning each tag. Timestamped tails
    // are unique per line and are not cached.
    let tail = this.#tails.get(buf, pipe, to);
    if (tail === undefined) {
      const parsed = this.#tail(buf, pipe, to);
      if (typeof parsed === "string") return parsed;
      tail = parsed;
      // A stored tail's tags serve every later line of the context: shared, their hash is
      // kept (a tail that is not stored would pay for the mark and never use it).
      if (tail.timestamp === 0 && this.#tails.set(buf, pipe, to, tail)) shareTags(tail.tags);
    }
    const { type, tags, host, sampleRate, timestamp, unit } = tail;
    const name = this.#name(this.#interner.get(buf, from, colon));
    const blocked = this.#blocked(name);

    if (type === "set") {
      if (blocked) {
        this.#c.metricsBlocklisted.inc();
        return undefined;
      }
      const member = this.#interner.get(buf, colon + 1, pipe);
      out.push(sample(name, NaN, member, type, tags, host, sampleRate, timestamp, unit));
      return undefined;
    }
    // Values are checked before the blocklist so that a bad blocklisted line still counts
    // as a parse error, as in the agent.
    const first = out.length;
    let v = colon + 1;
    while (v < pipe) {
      let ve = find(buf, COLON, v, pipe);
      if (ve < 0) ve = pipe;
      if (ve > v) { // `1::2` skips the empty item
        const value = parseFloatBytes(buf, v, ve, this.#packet);
        if (value === undefined || !Number.isFinite(value)) {
          out.length = first;
          return value === undefined ? "bad_value" : "non_finite_value";
        }
        out.push(sample(name, value, undefined, type, tags, host, sampleRate, timestamp, unit));
      }
      v = ve + 1;
    }
    if (out.length === first) return "no_values";
    if (blocked) {
      this.#c.metricsBlocklisted.inc(out.length - first);
      out.length = first;
    }
    return undefined;
  }

  /** Parses `|type[|@rate][|#tags][|T…]…` starting at the pipe after the value. */
  #tail(buf: Uint8Array, pipe: number, to: number): MetricTail | ParseErrorCode {
    let typeEnd = find(buf, PIPE, pipe + 1, to);
    if (typeEnd < 0) typeEnd = to;
    const type = metricType(buf, pipe + 1, typeEnd);
    if (type === undefined) return "unknown_type";
    let sampleRate = 1;
    let timestamp = 0;
    let tagsFrom = -1;
    let tagsTo = -1;
    for (let f = typeEnd; f < to;) {
      const fs = f + 1;
      let fe = find(buf, PIPE, fs, to);
      if (fe < 0) fe = to;
      const first = buf[fs];
      if (first === HASH) {
        tagsFrom = fs + 1;
        tagsTo = fe;
      } else if (first === AT) {
        const r = parseFloatBytes(buf, fs + 1, fe);
        if (r === undefined) return "bad_sample_rate";
        // Outside (0, 1] (NaN and ±Inf too) the rate means unsampled, as the agent's sketches
        // read it; a tiny rate would make one sample count as millions, so it is refused.
        if (r > 0 && r <= 1) {
          if (r < MIN_SAMPLE_RATE) return "sample_rate_too_small";
          sampleRate = r;
        } else sampleRate = 1;
      } else if (first === UPPER_T && this.#readTimestamps) {
        const t = parseIntBytes(buf, fs + 1, fe);
        if (t === undefined || t < 1) return "bad_timestamp";
        if (t > MAX_TIMESTAMP) return "timestamp_out_of_range";
        timestamp = t;
      }
      // `c:`, `e:` and `card:` feed origin detection, which outpost does not do; any other
      // field is unknown and ignored, as the agent does.
      f = fe;
    }
    const tags = this.#tags(buf, tagsFrom, tagsTo);
    if (typeof tags === "string") return tags;
    const unit = type === "histogram" && typeEnd - pipe === 3 ? "millisecond" : undefined;
    return { type, tags, host: this.#host, sampleRate, timestamp, unit };
  }

  /** `_e{title_len,text_len}:title|text[|d:…][|h:…][|k:…][|p:…][|s:…][|t:…][|#…]` */
  #event(buf: Uint8Array, from: number, to: number): Event | ParseErrorCode {
    const colon = find(buf, COLON, from, to);
    if (colon < 0) return "no_event_colon";
    // The header is `_e{N,M}`; like the agent, only its length and the comma are checked.
    if (colon - from < 7) return "bad_event_header";
    const comma = find(buf, COMMA, from + 3, colon - 1);
    if (comma < 0) return "bad_event_header";
    const titleLen = parseIntBytes(buf, from + 3, comma);
    if (titleLen === undefined || titleLen < 0) return "bad_event_header";
    if (titleLen === 0) return "empty_event_title";
    const textLen = parseIntBytes(buf, comma + 1, colon - 1);
    if (textLen === undefined || textLen < 0) return "bad_event_header";
    const body = colon + 1;
    const contentEnd = body + titleLen + 1 + textLen;
    if (contentEnd > to) return "short_event_body";

    const event: Event = {
      title: unescapeNewlines(decodeText(buf, body, body + titleLen)),
      text: unescapeNewlines(decodeText(buf, body + titleLen + 1, contentEnd)),
      timestamp: 0,
      host: "",
      priority: "normal",
      alertType: "info",
      aggregationKey: "",
      sourceTypeName: "",
      eventType: "",
      tags: [],
    };
    let hostField: string | undefined;
    let tagsFrom = -1;
    let tagsTo = -1;
    // A bad optional field is skipped, the event is kept (the agent only warns).
    for (let f = contentEnd; f < to;) {
      const fs = f === contentEnd && buf[f] !== PIPE ? f : f + 1;
      let fe = find(buf, PIPE, fs, to);
      if (fe < 0) fe = to;
      const key = fe - fs >= 2 && buf[fs + 1] === COLON ? buf[fs] : 0;
      const value = fs + 2;
      if (buf[fs] === HASH) {
        tagsFrom = fs + 1;
        tagsTo = fe;
      } else if (key === 0x64 /* d */) {
        const ts = parseIntBytes(buf, value, fe);
        if (ts !== undefined) {
          if (!(ts >= 0 && ts <= MAX_TIMESTAMP)) return "timestamp_out_of_range";
          event.timestamp = ts;
        }
      } else if (key === 0x68 /* h */) hostField = decodeText(buf, value, fe);
      else if (key === 0x6b /* k */) event.aggregationKey = decodeText(buf, value, fe);
      else if (key === 0x70 /* p */) {
        const p = decodeText(buf, value, fe);
        if (p === "low" || p === "normal") event.priority = p;
      } else if (key === 0x73 /* s */) event.sourceTypeName = decodeText(buf, value, fe);
      else if (key === 0x74 /* t */) {
        const t = decodeText(buf, value, fe) as EventAlertType;
        if (ALERT_TYPES.includes(t)) event.alertType = t;
      }
      f = fe;
    }
    const tags = this.#tags(buf, tagsFrom, tagsTo);
    if (typeof tags === "string") return tags;
    event.tags = tags;
    event.host = hostField !== undefined && hostField !== "" ? hostField : this.#host;
    return event;
  }

  /** `_sc|name|status[|d:…][|h:…][|#…][|m:…]` */
  #serviceCheck(buf: Uint8Array, from: number, to: number): ServiceCheck | ParseErrorCode {
    const p1 = find(buf, PIPE, from, to);
    const p2 = p1 < 0 ? -1 : find(buf, PIPE, p1 + 1, to);
    if (p2 < 0 || to - from < 4) return "short_service_check";
    // Like the agent, skip the 4-byte `_sc|` header, then read name and status.
    const nameFrom = from + 4;
    let nameTo = find(buf, PIPE, nameFrom, to);
    if (nameTo < 0) nameTo = to;
    if (nameTo === nameFrom) return "empty_service_check_name";
    if (nameTo - nameFrom > MAX_NAME_BYTES) return "name_too_long";
    const statusFrom = Math.min(nameTo + 1, to);
    let statusTo = find(buf, PIPE, statusFrom, to);
    if (statusTo < 0) statusTo = to;
    const s = buf[statusFrom];
    if (statusTo - statusFrom !== 1 || s < 0x30 || s > 0x33) return "bad_service_check_status";

    const check: ServiceCheck = {
      name: decodeText(buf, nameFrom, nameTo),
      status: (s - 0x30) as ServiceCheckStatus,
      timestamp: 0,
      host: "",
      message: "",
      tags: [],
    };
    let hostField: string | undefined;
    let tagsFrom = -1;
    let tagsTo = -1;
    for (let f = statusTo; f < to;) {
      const fs = f + 1;
      let fe = find(buf, PIPE, fs, to);
      if (fe < 0) fe = to;
      const key = fe - fs >= 2 && buf[fs + 1] === COLON ? buf[fs] : 0;
      if (buf[fs] === HASH) {
        tagsFrom = fs + 1;
        tagsTo = fe;
      } else if (key === 0x64 /* d */) {
        const ts = parseIntBytes(buf, fs + 2, fe);
        if (ts !== undefined) {
          if (!(ts >= 0 && ts <= MAX_TIMESTAMP)) return "timestamp_out_of_range";
          check.timestamp = ts;
        }
      } else if (key === 0x68 /* h */) hostField = decodeText(buf, fs + 2, fe);
      else if (key === 0x6d /* m */) check.message = decodeText(buf, fs + 2, fe);
      f = fe;
    }
    const tags = this.#tags(buf, tagsFrom, tagsTo);
    if (typeof tags === "string") return tags;
    check.tags = tags;
    check.host = hostField !== undefined && hostField !== "" ? hostField : this.#host;
    return check;
  }

  /** Splits `buf[from, to)` on `,`; takes out `host:` (into #host) and the internal origin
   * tags; appends the extra tags. `from < 0` means no tags field. Refuses a tag past
   * MAX_TAG_BYTES and more tags than `maxTags`. */
  #tags(buf: Uint8Array, from: number, to: number): string[] | ParseErrorCode {
    this.#host = this.#defaultHost;
    const tags: string[] = [];
    if (from >= 0 && to > from) {
      for (let t = from; t <= to;) {
        let te = find(buf, COMMA, t, to);
        if (te < 0) te = to;
        if (te - t > MAX_TAG_BYTES) return "tag_too_long";
        if (startsWith(buf, t, te, HOST_TAG)) {
          this.#host = this.#interner.get(buf, t + HOST_TAG.length, te);
        } else if (
          !startsWith(buf, t, te, ENTITY_ID_TAG) && !startsWith(buf, t, te, CARDINALITY_TAG) &&
          !startsWith(buf, t, te, JMX_CHECK_TAG)
        ) {
          if (tags.length >= this.#maxTags) return "too_many_tags";
          tags.push(this.#interner.get(buf, t, te));
        }
        t = te + 1;
      }
    }
    for (const t of this.#extraTags) tags.push(t);
    return tags;
  }

  #name(raw: string): string {
    if (this.#namespace === "") return raw;
    let name = this.#namespaced.get(raw);
    if (name === undefined) {
      const excluded = raw.startsWith(this.#namespace) ||
        this.#namespaceExclude.some((p) => raw.startsWith(p));
      name = excluded ? raw : this.#namespace + raw;
      if (this.#namespaced.size >= 4096) this.#namespaced.clear(); // bounded like the interner
      this.#namespaced.set(raw, name);
    }
    return name;
  }

  #blocked(name: string): boolean {
    if (this.#blocklist.size > 0 && this.#blocklist.has(name)) return true;
    for (const p of this.#blockPrefixes) if (name.startsWith(p)) return true;
    return false;
  }
}

/** One constructor keeps every sample the same shape, which keeps property access fast. */
function sample(
  name: string,
  value: number,
  rawValue: string | undefined,
  type: SampleType,
  tags: string[],
  host: string,
  sampleRate: number,
  timestamp: number,
  unit: string | undefined,
): MetricSample {
  return { name, value, rawValue, type, tags, host, sampleRate, timestamp, unit };
}

/** `g` gauge, `c` counter, `h` and `ms` histogram, `d` distribution, `s` set. */
function metricType(buf: Uint8Array, from: number, to: number): SampleType | undefined {
  if (to - from === 2) {
    return buf[from] === 0x6d && buf[from + 1] === 0x73 ? "histogram" : undefined;
  }
  if (to - from !== 1) return undefined;
  switch (buf[from]) {
    case 0x67:
      return "gauge";
    case 0x63:
      return "counter";
    case 0x68:
      return "histogram";
    case 0x64:
      return "distribution";
    case 0x73:
      return "set";
  }
  return undefined;
}

const textDecoder = new TextDecoder();
function decodeText(buf: Uint8Array, from: number, to: number): string {
  return textDecoder.decode(buf.subarray(from, to));
}

/** Events carry newlines as the two characters `\n`. */
function unescapeNewlines(s: string): string {
  return s.includes("\\n") ? s.replaceAll("\\n", "\n") : s;
}
