/**
 * A msgpack reader specialised for trace payloads: a cursor over one body with one method per
 * shape a span field can take, so decoders walk the bytes with no per-field closures and no
 * intermediate objects. Numbers are accepted in every width tracers use (dd-trace-js sends
 * ids as uint64 and `start` as int64, Python may send floats in metrics and ints in `error`),
 * and nil reads as the field's zero value, as the Go decoder tolerates.
 */

/** Why a body could not be decoded; the value is the telemetry label. */
export type TraceDecodeReason =
  | "unexpected-eof"
  | "msgpack-type"
  | "index-out-of-range"
  | "too-large"
  | "json"
  | "payload-shape";

/** A body that is not a valid trace payload. */
export class TraceDecodeError extends Error {
  override name = "TraceDecodeError";
  /** Stable reason, used as a telemetry label. */
  readonly reason: TraceDecodeReason;
  constructor(reason: TraceDecodeReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** The Go decoder's limit on an array or map header (`decoder_v05.go`). */
export const MAX_HEADER = 25_000_000;

const utf8 = new TextDecoder();

/** Strings up to this many bytes go through the cache. */
const CACHED_MAX = 48;
const CACHE_SIZE = 4096;
const cacheBytes: Array<Uint8Array | undefined> = new Array(CACHE_SIZE);
const cacheStrings: string[] = new Array(CACHE_SIZE);

function kindOf(b: number): string {
  if (b <= 0x7f || b >= 0xe0 || (b >= 0xcc && b <= 0xd3)) return "integer";
  if ((b & 0xf0) === 0x80 || b === 0xde || b === 0xdf) return "map";
  if ((b & 0xf0) === 0x90 || b === 0xdc || b === 0xdd) return "array";
  if ((b & 0xe0) === 0xa0 || (b >= 0xd9 && b <= 0xdb)) return "string";
  if (b >= 0xc4 && b <= 0xc6) return "binary";
  if (b === 0xca || b === 0xcb) return "float";
  if (b === 0xc0) return "nil";
  if (b === 0xc2 || b === 0xc3) return "boolean";
  return "extension";
}

/**
 * A cursor over one msgpack body.
 *
 * @example Read a map of one string
 * ```ts
 * import { MsgpackReader } from "./_msgpack.ts";
 * const r = new MsgpackReader(new Uint8Array([0x81, 0xa1, 0x61, 0xa1, 0x62]));
 * console.assert(r.mapLen() === 1 && r.str() === "a" && r.str() === "b");
 * ```
 */
export class MsgpackReader {
  readonly buf: Uint8Array;
  readonly #view: DataView;
  pos = 0;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** True when every byte was read. */
  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  #need(n: number): void {
    if (this.pos + n > this.buf.length) {
      throw new TraceDecodeError(
        "unexpected-eof",
        `Cannot decode msgpack: the body ends at byte ${this.buf.length}, ${this.pos + n} needed`,
      );
    }
  }

  #byte(): number {
    if (this.pos >= this.buf.length) this.#need(1);
    return this.buf[this.pos++];
  }

  #type(b: number, expected: string): never {
    throw new TraceDecodeError(
      "msgpack-type",
      `Cannot decode msgpack at byte ${this.pos - 1}: expected ${expected}, got ${kindOf(b)}`,
    );
  }

  /** Checks a header's count against the limit and the bytes left (each item takes ≥ 1). */
  #count(n: number, per: number): number {
    if (n > MAX_HEADER) {
      throw new TraceDecodeError(
        "too-large",
        `Cannot decode msgpack: a header of ${n} items is over the limit of ${MAX_HEADER}`,
      );
    }
    if (n * per > this.buf.length - this.pos) this.#need(n * per);
    return n;
  }

  /** The next byte without consuming it (-1 at the end). */
  peek(): number {
    return this.pos < this.buf.length ? this.buf[this.pos] : -1;
  }

  /** Consumes a nil and answers true, or answers false and consumes nothing. */
  nil(): boolean {
    if (this.buf[this.pos] === 0xc0 && this.pos < this.buf.length) {
      this.pos++;
      return true;
    }
    return false;
  }

  /** A map header's count; nil reads as 0. */
  mapLen(): number {
    const b = this.#byte();
    if ((b & 0xf0) === 0x80) return b & 0x0f;
    if (b === 0xde) {
      this.#need(2);
      const n = this.#view.getUint16(this.pos);
      this.pos += 2;
      return this.#count(n, 2);
    }
    if (b === 0xdf) {
      this.#need(4);
      const n = this.#view.getUint32(this.pos);
      this.pos += 4;
      return this.#count(n, 2);
    }
    if (b === 0xc0) return 0;
    return this.#type(b, "a map");
  }

  /** An array header's count; nil reads as 0. */
  arrayLen(): number {
    const b = this.#byte();
    if ((b & 0xf0) === 0x90) return b & 0x0f;
    if (b === 0xdc) {
      this.#need(2);
      const n = this.#view.getUint16(this.pos);
      this.pos += 2;
      return this.#count(n, 1);
    }
    if (b === 0xdd) {
      this.#need(4);
      const n = this.#view.getUint32(this.pos);
      this.pos += 4;
      return this.#count(n, 1);
    }
    if (b === 0xc0) return 0;
    return this.#type(b, "an array");
  }

  /** The byte length of a str or bin header just read, or -1 when `b` is neither. */
  #strLen(b: number): number {
    if ((b & 0xe0) === 0xa0) return b & 0x1f;
    if (b === 0xd9 || b === 0xc4) return this.#byte();
    if (b === 0xda || b === 0xc5) {
      this.#need(2);
      const n = this.#view.getUint16(this.pos);
      this.pos += 2;
      return n;
    }
    if (b === 0xdb || b === 0xc6) {
      this.#need(4);
      const n = this.#view.getUint32(this.pos);
      this.pos += 4;
      return n;
    }
    return -1;
  }

  /** A string (str or bin, decoded as UTF-8; invalid bytes become U+FFFD); nil reads as "". */
  str(): string {
    const b = this.#byte();
    const n = this.#strLen(b);
    if (n < 0) {
      if (b === 0xc0) return "";
      return this.#type(b, "a string");
    }
    this.#need(n);
    const start = this.pos;
    this.pos += n;
    return this.#text(start, n);
  }

  /** Decodes `n` bytes at `start`. */
  #text(start: number, n: number): string {
    const buf = this.buf;
    if (n > CACHED_MAX) return utf8.decode(buf.subarray(start, start + n));
    // Span keys, services, tag keys and most tag values repeat in every span: a small
    // direct-mapped cache of decoded strings turns most reads into a hash and a compare
    // instead of a new string (scripts/bench/trace_process.ts).
    const end = start + n;
    let h = n;
    let ascii = true;
    for (let i = start; i < end; i++) {
      const b = buf[i];
      h = Math.imul(h ^ b, 16777619);
      if (b >= 0x80) ascii = false;
    }
    const slot = (h >>> 0) & (CACHE_SIZE - 1);
    const key = cacheBytes[slot];
    if (key !== undefined && key.length === n) {
      let same = true;
      for (let i = 0; i < n; i++) {
        if (key[i] !== buf[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return cacheStrings[slot];
    }
    const sub = buf.subarray(start, end);
    const s = ascii
      ? String.fromCharCode.apply(null, sub as unknown as number[])
      : utf8.decode(sub);
    cacheBytes[slot] = sub.slice();
    cacheStrings[slot] = s;
    return s;
  }

  /** A string, or a number or boolean as its text (tag values some tracers send unquoted). */
  text(): string {
    const b = this.peek();
    if ((b & 0xe0) === 0xa0 || (b >= 0xd9 && b <= 0xdb) || (b >= 0xc4 && b <= 0xc6) || b === 0xc0) {
      return this.str();
    }
    if (b === 0xc2 || b === 0xc3) return String(this.bool());
    return String(this.float());
  }

  /** A bin (or str) value as a copy of its bytes; nil reads as empty. */
  bytes(): Uint8Array {
    const b = this.#byte();
    const n = this.#strLen(b);
    if (n < 0) {
      if (b === 0xc0) return new Uint8Array(0);
      return this.#type(b, "binary data");
    }
    this.#need(n);
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A uint64 (any integer or float width; negative ints wrap as Go's cast does); nil reads as 0. */
  uint64(): bigint {
    const b = this.#byte();
    if (b <= 0x7f) return BigInt(b);
    if (b === 0xcf) {
      this.#need(8);
      const v = this.#view.getBigUint64(this.pos);
      this.pos += 8;
      return v;
    }
    return BigInt.asUintN(64, this.#wide(b, "an unsigned integer"));
  }

  /** An int64 (any integer or float width); nil reads as 0. */
  int64(): bigint {
    const b = this.#byte();
    if (b <= 0x7f) return BigInt(b);
    if (b === 0xd3) {
      this.#need(8);
      const v = this.#view.getBigInt64(this.pos);
      this.pos += 8;
      return v;
    }
    return BigInt.asIntN(64, this.#wide(b, "an integer"));
  }

  /** Any number after its first byte `b`, as a bigint (floats truncated). */
  #wide(b: number, expected: string): bigint {
    if (b >= 0xe0) return BigInt(b - 256);
    const v = this.pos;
    switch (b) {
      case 0xc0:
        return 0n;
      case 0xc2:
        return 0n;
      case 0xc3:
        return 1n;
      case 0xcf:
        this.#need(8);
        this.pos += 8;
        return this.#view.getBigUint64(v);
      case 0xd3:
        this.#need(8);
        this.pos += 8;
        return this.#view.getBigInt64(v);
      case 0xca:
      case 0xcb: {
        const f = this.#float(b);
        return Number.isFinite(f) ? BigInt(Math.trunc(f)) : 0n;
      }
    }
    return BigInt(this.#small(b, expected));
  }

  /** An integer of at most 32 bits after its first byte `b`. */
  #small(b: number, expected: string): number {
    const v = this.pos;
    switch (b) {
      case 0xcc:
        this.#need(1);
        this.pos += 1;
        return this.buf[v];
      case 0xcd:
        this.#need(2);
        this.pos += 2;
        return this.#view.getUint16(v);
      case 0xce:
        this.#need(4);
        this.pos += 4;
        return this.#view.getUint32(v);
      case 0xd0:
        this.#need(1);
        this.pos += 1;
        return this.#view.getInt8(v);
      case 0xd1:
        this.#need(2);
        this.pos += 2;
        return this.#view.getInt16(v);
      case 0xd2:
        this.#need(4);
        this.pos += 4;
        return this.#view.getInt32(v);
    }
    return this.#type(b, expected);
  }

  #float(b: number): number {
    const v = this.pos;
    if (b === 0xca) {
      this.#need(4);
      this.pos += 4;
      return this.#view.getFloat32(v);
    }
    this.#need(8);
    this.pos += 8;
    return this.#view.getFloat64(v);
  }

  /** A float64 (any number width; booleans as 0/1); nil reads as 0. */
  float(): number {
    const b = this.#byte();
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 256;
    if (b === 0xcb || b === 0xca) return this.#float(b);
    if (b === 0xcf || b === 0xd3) return Number(this.#wide(b, "a number"));
    if (b === 0xc0 || b === 0xc2) return 0;
    if (b === 0xc3) return 1;
    return this.#small(b, "a number");
  }

  /** A small integer (int32 fields, priorities, flags); floats are truncated; nil reads as 0. */
  int(): number {
    const b = this.#byte();
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 256;
    if (b === 0xcb || b === 0xca) return Math.trunc(this.#float(b)) | 0;
    if (b === 0xcf || b === 0xd3) return Number(BigInt.asIntN(32, this.#wide(b, "an integer")));
    if (b === 0xc0 || b === 0xc2) return 0;
    if (b === 0xc3) return 1;
    return this.#small(b, "an integer");
  }

  /** A boolean (or a number, non-zero being true); nil reads as false. */
  bool(): boolean {
    const b = this.peek();
    if (b === 0xc3) {
      this.pos++;
      return true;
    }
    if (b === 0xc2 || b === 0xc0) {
      this.pos++;
      return false;
    }
    return this.float() !== 0;
  }

  /** Skips one value of any type, nested ones included. */
  skip(): void {
    let pending = 1;
    while (pending > 0) {
      pending--;
      const b = this.#byte();
      if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) continue;
      if ((b & 0xf0) === 0x80) pending += 2 * (b & 0x0f);
      else if ((b & 0xf0) === 0x90) pending += b & 0x0f;
      else if ((b & 0xe0) === 0xa0) this.#skipBytes(b & 0x1f);
      else {
        switch (b) {
          case 0xc4:
          case 0xc5:
          case 0xc6:
          case 0xd9:
          case 0xda:
          case 0xdb:
            this.#skipBytes(this.#strLen(b));
            break;
          case 0xcc:
          case 0xd0:
            this.#skipBytes(1);
            break;
          case 0xcd:
          case 0xd1:
            this.#skipBytes(2);
            break;
          case 0xca:
          case 0xce:
          case 0xd2:
            this.#skipBytes(4);
            break;
          case 0xcb:
          case 0xcf:
          case 0xd3:
            this.#skipBytes(8);
            break;
          case 0xdc:
          case 0xdd:
            this.pos--;
            pending += this.arrayLen();
            break;
          case 0xde:
          case 0xdf:
            this.pos--;
            pending += 2 * this.mapLen();
            break;
          case 0xd4:
            this.#skipBytes(2);
            break;
          case 0xd5:
            this.#skipBytes(3);
            break;
          case 0xd6:
            this.#skipBytes(5);
            break;
          case 0xd7:
            this.#skipBytes(9);
            break;
          case 0xd8:
            this.#skipBytes(17);
            break;
          case 0xc7:
            this.#skipBytes(this.#byte() + 1);
            break;
          case 0xc8:
            this.#need(2);
            this.#skipBytes(this.#view.getUint16(this.pos) + 3);
            break;
          case 0xc9:
            this.#need(4);
            this.#skipBytes(this.#view.getUint32(this.pos) + 5);
            break;
          default:
            this.#type(b, "a msgpack value");
        }
      }
    }
  }

  #skipBytes(n: number): void {
    this.#need(n);
    this.pos += n;
  }
}
