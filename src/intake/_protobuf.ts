/**
 * A small protobuf reader for the two messages the intake decodes: `MetricPayload`
 * (`/api/v2/series`) and `SketchPayload` (`/api/beta/sketches`). Field numbers follow the
 * agent-payload definitions; unknown fields are skipped by wire type, as protobuf requires.
 *
 * @module
 */

/** Wire types of the protobuf encoding. */
const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;

/** Thrown when the bytes are not a valid encoding of the expected message. */
export class ProtobufError extends Error {
  readonly code = "protobuf_invalid";
  constructor(message: string) {
    super(message);
    this.name = "ProtobufError";
  }
}

// ignoreBOM keeps a string's leading U+FEFF: it is data the agent sent, not a byte order mark.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A cursor over one message's bytes. */
export class Reader {
  pos: number;
  readonly end: number;
  readonly #buf: Uint8Array;
  readonly #view: DataView;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.#buf = buf;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
    this.end = end;
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint as a JS number; 64-bit values above 2^53 lose precision (timestamps do not). */
  varint(): number {
    let result = 0;
    let shift = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtobufError("truncated varint");
      const b = this.#buf[this.pos++];
      result += (b & 0x7f) * shift;
      if (b < 0x80) return result;
      shift *= 128;
    }
    throw new ProtobufError("varint longer than 10 bytes");
  }

  /**
   * An int64 varint. Values below 2^49 (every timestamp and count) take the number path;
   * longer encodings, which negative values always are, go through BigInt to stay exact.
   */
  int64(): number {
    const start = this.pos;
    let result = 0;
    let shift = 1;
    for (let i = 0; i < 7; i++) {
      if (this.pos >= this.end) throw new ProtobufError("truncated varint");
      const b = this.#buf[this.pos++];
      result += (b & 0x7f) * shift;
      if (b < 0x80) return result;
      shift *= 128;
    }
    this.pos = start;
    let big = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtobufError("truncated varint");
      const b = this.#buf[this.pos++];
      big |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) return Number(BigInt.asIntN(64, big));
    }
    throw new ProtobufError("varint longer than 10 bytes");
  }

  /** A uint64 varint, exact (ids above 2^53). */
  uint64(): bigint {
    let big = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtobufError("truncated varint");
      const b = this.#buf[this.pos++];
      big |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) return BigInt.asUintN(64, big);
    }
    throw new ProtobufError("varint longer than 10 bytes");
  }

  /** A fixed64 as an exact uint64. */
  fixed64(): bigint {
    this.#need(8);
    const v = this.#view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** The raw bytes of a length-delimited field (a view, not a copy). */
  raw(): Uint8Array {
    const [s, e] = this.bytes();
    return this.#buf.subarray(s, e);
  }

  sint32(): number {
    const v = this.varint() >>> 0;
    return (v >>> 1) ^ -(v & 1);
  }

  double(): number {
    this.#need(8);
    const v = this.#view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** The bounds of a length-delimited field. */
  bytes(): [number, number] {
    const len = this.varint();
    this.#need(len);
    const start = this.pos;
    this.pos += len;
    return [start, this.pos];
  }

  string(): string {
    const [s, e] = this.bytes();
    try {
      return utf8.decode(this.#buf.subarray(s, e));
    } catch {
      throw new ProtobufError("string field is not valid UTF-8");
    }
  }

  sub([s, e]: [number, number]): Reader {
    return new Reader(this.#buf, s, e);
  }

  /** Reads the next tag as [field number, wire type]. */
  tag(): [number, number] {
    const t = this.varint();
    const field = Math.floor(t / 8);
    if (field === 0) throw new ProtobufError("field number 0");
    return [field, t & 7];
  }

  skip(wire: number): void {
    switch (wire) {
      case VARINT:
        this.varint();
        return;
      case FIXED64:
        this.#need(8);
        this.pos += 8;
        return;
      case LEN:
        this.bytes();
        return;
      case FIXED32:
        this.#need(4);
        this.pos += 4;
        return;
      default:
        throw new ProtobufError(`unsupported wire type ${wire}`);
    }
  }

  /** Calls `read` for each element of a repeated scalar, packed or not. */
  repeated(wire: number, scalarWire: number, read: (r: Reader) => void): void {
    if (wire === LEN && scalarWire !== LEN) {
      const sub = this.sub(this.bytes());
      while (!sub.done()) read(sub);
    } else {
      expectWire(wire, scalarWire);
      read(this);
    }
  }

  #need(n: number): void {
    if (this.pos + n > this.end) throw new ProtobufError("field runs past the end of the message");
  }
}

export function expectWire(got: number, want: number): void {
  if (got !== want) throw new ProtobufError(`wire type ${got} where ${want} was expected`);
}

/** Runs `onField` for every field of the message under `r`; the callback skips what it ignores. */
export function fields(r: Reader, onField: (field: number, wire: number) => boolean): void {
  while (!r.done()) {
    const [field, wire] = r.tag();
    if (!onField(field, wire)) r.skip(wire);
  }
}

/** `MetricPayload.MetricType` names, current numbering. */
export const METRIC_TYPES = ["unspecified", "count", "rate", "gauge"] as const;

/** One decoded `MetricSeries`. */
export interface DecodedSeries {
  metric: string;
  type: string;
  interval: number;
  tags: string[];
  resources: Array<{ type: string; name: string }>;
  points: Array<{ value: number; timestamp: number }>;
  unit: string;
  source_type_name: string;
  /** The protobuf origin, or the JSON body's `metadata` object as it came. */
  metadata?: DecodedMetadata | Record<string, unknown>;
}

/** `Metadata { Origin origin = 1 }`. */
export interface DecodedMetadata {
  origin?: { origin_product: number; origin_category: number; origin_service: number };
}

function decodeMetadata(r: Reader): DecodedMetadata {
  const md: DecodedMetadata = {};
  fields(r, (f, w) => {
    if (f !== 1) return false;
    expectWire(w, LEN);
    const origin = { origin_product: 0, origin_category: 0, origin_service: 0 };
    const sub = r.sub(r.bytes());
    fields(sub, (of, ow) => {
      const key = of === 4
        ? "origin_product"
        : of === 5
        ? "origin_category"
        : of === 6
        ? "origin_service"
        : null;
      if (!key) return false;
      expectWire(ow, VARINT);
      origin[key] = sub.varint();
      return true;
    });
    md.origin = origin;
    return true;
  });
  return md;
}

function decodeSeries(r: Reader): DecodedSeries {
  const s: DecodedSeries = {
    metric: "",
    type: "unspecified",
    interval: 0,
    tags: [],
    resources: [],
    points: [],
    unit: "",
    source_type_name: "",
  };
  fields(r, (f, w) => {
    switch (f) {
      case 1: {
        expectWire(w, LEN);
        const res = { type: "", name: "" };
        const sub = r.sub(r.bytes());
        fields(sub, (rf, rw) => {
          if (rf !== 1 && rf !== 2) return false;
          expectWire(rw, LEN);
          res[rf === 1 ? "type" : "name"] = sub.string();
          return true;
        });
        s.resources.push(res);
        return true;
      }
      case 2:
        expectWire(w, LEN);
        s.metric = r.string();
        return true;
      case 3:
        expectWire(w, LEN);
        s.tags.push(r.string());
        return true;
      case 4: {
        expectWire(w, LEN);
        const p = { value: 0, timestamp: 0 };
        const sub = r.sub(r.bytes());
        fields(sub, (pf, pw) => {
          if (pf === 1) {
            expectWire(pw, FIXED64);
            p.value = sub.double();
          } else if (pf === 2) {
            expectWire(pw, VARINT);
            p.timestamp = sub.int64();
          } else return false;
          return true;
        });
        s.points.push(p);
        return true;
      }
      case 5: {
        expectWire(w, VARINT);
        const t = r.varint();
        s.type = METRIC_TYPES[t] ?? `unknown(${t})`;
        return true;
      }
      case 6:
        expectWire(w, LEN);
        s.unit = r.string();
        return true;
      case 7:
        expectWire(w, LEN);
        s.source_type_name = r.string();
        return true;
      case 8:
        expectWire(w, VARINT);
        s.interval = r.int64();
        return true;
      case 9:
        expectWire(w, LEN);
        s.metadata = decodeMetadata(r.sub(r.bytes()));
        return true;
      default:
        return false;
    }
  });
  return s;
}

/**
 * Decodes a `MetricPayload`.
 *
 * @example Decode an empty payload
 * ```ts
 * import { decodeMetricPayload } from "./_protobuf.ts";
 * decodeMetricPayload(new Uint8Array()); // { series: [] }
 * ```
 */
export function decodeMetricPayload(buf: Uint8Array): { series: DecodedSeries[] } {
  const r = new Reader(buf);
  const series: DecodedSeries[] = [];
  fields(r, (f, w) => {
    if (f !== 1) return false;
    expectWire(w, LEN);
    series.push(decodeSeries(r.sub(r.bytes())));
    return true;
  });
  return { series };
}

/** One decoded `Dogsketch`. */
export interface DecodedDogsketch {
  ts: number;
  cnt: number;
  min: number;
  max: number;
  avg: number;
  sum: number;
  k: number[];
  n: number[];
}

/** One decoded `Sketch`. */
export interface DecodedSketch {
  metric: string;
  host: string;
  tags: string[];
  dogsketches: DecodedDogsketch[];
  /** How many legacy `distributions` (field 3) the sketch carried; the agent sends none. */
  distributions: number;
  metadata?: DecodedMetadata;
}

const COMMON_STRING_FIELDS: Record<number, string> = {
  1: "agent_version",
  2: "timezone",
  4: "internal_ip",
  5: "public_ip",
  6: "api_key",
};

function decodeCommonMetadata(r: Reader): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  fields(r, (f, w) => {
    if (f === 3) {
      expectWire(w, FIXED64);
      out.current_epoch = r.double();
      return true;
    }
    const name = COMMON_STRING_FIELDS[f];
    if (!name) return false;
    expectWire(w, LEN);
    out[name] = r.string();
    return true;
  });
  return out;
}

function decodeDogsketch(r: Reader): DecodedDogsketch {
  const d: DecodedDogsketch = { ts: 0, cnt: 0, min: 0, max: 0, avg: 0, sum: 0, k: [], n: [] };
  const doubles: Record<number, "min" | "max" | "avg" | "sum"> = {
    3: "min",
    4: "max",
    5: "avg",
    6: "sum",
  };
  fields(r, (f, w) => {
    if (f === 1 || f === 2) {
      expectWire(w, VARINT);
      d[f === 1 ? "ts" : "cnt"] = r.int64();
    } else if (doubles[f]) {
      expectWire(w, FIXED64);
      d[doubles[f]] = r.double();
    } else if (f === 7) {
      r.repeated(w, VARINT, (s) => d.k.push(s.sint32()));
    } else if (f === 8) {
      r.repeated(w, VARINT, (s) => d.n.push(s.varint()));
    } else return false;
    return true;
  });
  if (d.k.length !== d.n.length) {
    throw new ProtobufError(`dogsketch has ${d.k.length} keys but ${d.n.length} counts`);
  }
  return d;
}

function decodeSketch(r: Reader): DecodedSketch {
  const s: DecodedSketch = { metric: "", host: "", tags: [], dogsketches: [], distributions: 0 };
  fields(r, (f, w) => {
    switch (f) {
      case 1:
      case 2:
        expectWire(w, LEN);
        s[f === 1 ? "metric" : "host"] = r.string();
        return true;
      case 3:
        expectWire(w, LEN);
        r.bytes();
        s.distributions++;
        return true;
      case 4:
        expectWire(w, LEN);
        s.tags.push(r.string());
        return true;
      case 7:
        expectWire(w, LEN);
        s.dogsketches.push(decodeDogsketch(r.sub(r.bytes())));
        return true;
      case 8:
        expectWire(w, LEN);
        s.metadata = decodeMetadata(r.sub(r.bytes()));
        return true;
      default:
        return false;
    }
  });
  return s;
}

/** A decoded `SketchPayload`; `metadata` is the `CommonMetadata` footer (often empty). */
export interface DecodedSketchPayload {
  sketches: DecodedSketch[];
  metadata: Record<string, string | number>;
}

/** Decodes a `SketchPayload`. */
export function decodeSketchPayload(buf: Uint8Array): DecodedSketchPayload {
  const r = new Reader(buf);
  const out: DecodedSketchPayload = { sketches: [], metadata: {} };
  fields(r, (f, w) => {
    if (f === 1) {
      expectWire(w, LEN);
      out.sketches.push(decodeSketch(r.sub(r.bytes())));
    } else if (f === 2) {
      expectWire(w, LEN);
      Object.assign(out.metadata, decodeCommonMetadata(r.sub(r.bytes())));
    } else return false;
    return true;
  });
  return out;
}
