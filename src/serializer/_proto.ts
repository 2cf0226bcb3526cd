/**
 * A small protobuf writer: just the wire types the intake payloads use (varint, zigzag,
 * fixed64 double, length-delimited, packed). Messages nest with `fork()`/`ldelim()`.
 */

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LDELIM = 2;

const utf8 = new TextEncoder();
/** 2^63: int64 fields take (−2^63, 2^63); varints take [0, 2^64). */
const INT64_LIMIT = 2 ** 63;
const UINT64_LIMIT = 2 ** 64;

/** Bytes a varint of the non-negative integer `v` takes. */
function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/**
 * Appends protobuf fields to one growable buffer. A writer is reused across items (`reset()`)
 * so the hot path allocates only the copy `finish()` hands out.
 *
 * @example Encode `{ 1: "a", 2: 150 }`
 * ```ts
 * import { ProtoWriter } from "./_proto.ts";
 * const w = new ProtoWriter();
 * w.string(1, "a");
 * w.uint(2, 150);
 * console.log(w.finish()); // Uint8Array [10, 1, 97, 16, 150, 1]
 * ```
 */
export class ProtoWriter {
  #buf: Uint8Array;
  #view: DataView;
  #pos = 0;
  readonly #forks: number[] = [];

  constructor(initialSize = 4096) {
    this.#buf = new Uint8Array(initialSize);
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#pos;
  }

  /** Forgets everything written; keeps the buffer. */
  reset(): void {
    this.#pos = 0;
    this.#forks.length = 0;
  }

  /** A copy of the bytes written. */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#pos);
  }

  #ensure(extra: number): void {
    const need = this.#pos + extra;
    if (need <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    // Copy all of it: string() and ldelim() keep bytes beyond #pos while they fix a length.
    next.set(this.#buf);
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  #tag(field: number, wire: number): void {
    this.#varint(field * 8 + wire);
  }

  /**
   * Writes a non-negative integer (exact up to 2^53) as a varint. Anything else is a bug of the
   * caller (encoders check their numbers first) and throws: Infinity would loop forever, and
   * past 2^64 the 10 bytes reserved would not hold it.
   */
  #varint(v: number): void {
    if (!(v >= 0 && v < UINT64_LIMIT)) {
      throw new RangeError(`Cannot encode ${v} as a varint: expected an integer in [0, 2^64)`);
    }
    this.#ensure(10);
    const buf = this.#buf;
    let pos = this.#pos;
    while (v > 0x7fffffff) {
      buf[pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    while (v > 127) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos++] = v;
    this.#pos = pos;
  }

  /** Writes a negative integer as a 10-byte two's complement varint (int64 semantics). */
  #negativeVarint(v: number): void {
    let big = BigInt.asUintN(64, BigInt(Math.trunc(v)));
    this.#ensure(10);
    while (big > 127n) {
      this.#buf[this.#pos++] = Number(big & 0x7fn) | 0x80;
      big >>= 7n;
    }
    this.#buf[this.#pos++] = Number(big);
  }

  /** An unsigned field (uint32/uint64/enum); 0 is omitted as proto3 does. */
  uint(field: number, v: number): void {
    if (v === 0) return;
    this.#tag(field, WIRE_VARINT);
    this.#varint(v);
  }

  /** A signed int64 field (timestamps, counts, intervals); 0 is omitted; NaN, ±Inf and
   * values past ±2^63 throw a RangeError. */
  int64(field: number, v: number): void {
    if (v === 0) return;
    if (!(v > -INT64_LIMIT && v < INT64_LIMIT)) {
      throw new RangeError(`Cannot encode ${v} as an int64: expected an integer in (-2^63, 2^63)`);
    }
    this.#tag(field, WIRE_VARINT);
    if (v < 0) this.#negativeVarint(v);
    else this.#varint(Math.trunc(v));
  }

  /** A double field (fixed64, little endian); +0 is omitted, -0 is kept. */
  double(field: number, v: number): void {
    if (v === 0 && !Object.is(v, -0)) return;
    this.#tag(field, WIRE_FIXED64);
    this.#ensure(8);
    this.#view.setFloat64(this.#pos, v, true);
    this.#pos += 8;
  }

  /** A string field. With `keepEmpty`, "" is written (for repeated fields). */
  string(field: number, s: string, keepEmpty = false): void {
    if (s.length === 0 && !keepEmpty) return;
    this.#tag(field, WIRE_LDELIM);
    // Metric names and tags are nearly always ASCII and short: copying char codes directly
    // beats TextEncoder's call overhead several times (scripts/bench/serializer.ts).
    const n = s.length;
    const lenSize = varintSize(n);
    this.#ensure(lenSize + n);
    const buf = this.#buf;
    const start = this.#pos + lenSize;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[start + i] = c;
    }
    if (i === n) {
      this.#varint(n);
      this.#pos += n;
      return;
    }
    this.#utf8(s);
  }

  /** Writes the length-prefixed UTF-8 of `s` (at most 3 bytes per UTF-16 unit). */
  #utf8(s: string): void {
    const max = s.length * 3;
    const lenSize = varintSize(max);
    this.#ensure(lenSize + max);
    const start = this.#pos + lenSize;
    const { written } = utf8.encodeInto(s, this.#buf.subarray(start, start + max));
    const realLenSize = varintSize(written);
    if (realLenSize !== lenSize) {
      this.#buf.copyWithin(this.#pos + realLenSize, start, start + written);
    }
    this.#varint(written);
    this.#pos += written;
  }

  /** A bytes field written verbatim (already encoded message or raw bytes). */
  bytes(field: number, b: Uint8Array): void {
    this.#tag(field, WIRE_LDELIM);
    this.#varint(b.length);
    this.#ensure(b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
  }

  /** Appends bytes that already are encoded fields (tag included). */
  raw(b: Uint8Array): void {
    this.#ensure(b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
  }

  /** Starts a length-delimited field whose content follows; close it with `ldelim()`. */
  fork(field: number): void {
    this.#tag(field, WIRE_LDELIM);
    // Reserve one byte for the length: most nested messages are under 128 bytes, and then
    // ldelim() writes the length in place instead of moving the content.
    this.#ensure(1);
    this.#forks.push(this.#pos);
    this.#pos++;
  }

  /** Ends the innermost `fork()`, writing the content's length before it. */
  ldelim(): void {
    const at = this.#forks.pop()!;
    const len = this.#pos - at - 1;
    if (len < 128) {
      this.#buf[at] = len;
      return;
    }
    const lenSize = varintSize(len);
    this.#ensure(lenSize - 1);
    this.#buf.copyWithin(at + lenSize, at + 1, this.#pos);
    this.#pos = at;
    this.#varint(len);
    this.#pos += len;
  }

  /** A packed repeated sint32 field (zigzag varints); nothing when empty. */
  packedSint32(field: number, values: readonly number[]): void {
    if (values.length === 0) return;
    this.fork(field);
    for (const v of values) this.#varint(((v << 1) ^ (v >> 31)) >>> 0);
    this.ldelim();
  }

  /** A packed repeated uint32 field; nothing when empty. */
  packedUint32(field: number, values: readonly number[]): void {
    if (values.length === 0) return;
    this.fork(field);
    for (const v of values) this.#varint(v >>> 0);
    this.ldelim();
  }
}
