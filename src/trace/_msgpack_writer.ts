/**
 * A small msgpack writer: what the stats payload needs (the trace agent sends stats to the
 * intake as msgpack with the Go field names) and what tests use to build tracer bodies.
 */

const utf8 = new TextEncoder();

/**
 * Appends msgpack values to one growable buffer.
 *
 * @example `{"a": 1}`
 * ```ts
 * import { MsgpackWriter } from "./_msgpack_writer.ts";
 * const w = new MsgpackWriter();
 * w.map(1).str("a").uint(1);
 * console.assert(w.finish().join(",") === "129,161,97,1");
 * ```
 */
export class MsgpackWriter {
  #buf: Uint8Array;
  #view: DataView;
  #pos = 0;

  constructor(initialSize = 1024) {
    this.#buf = new Uint8Array(initialSize);
    this.#view = new DataView(this.#buf.buffer);
  }

  /** A copy of the bytes written. */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#pos);
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  #header(n: number, fix: number, fixMax: number, b16: number, b32: number): this {
    this.#ensure(5);
    if (n <= fixMax) this.#buf[this.#pos++] = fix | n;
    else if (n <= 0xffff) {
      this.#buf[this.#pos++] = b16;
      this.#view.setUint16(this.#pos, n);
      this.#pos += 2;
    } else {
      this.#buf[this.#pos++] = b32;
      this.#view.setUint32(this.#pos, n);
      this.#pos += 4;
    }
    return this;
  }

  map(n: number): this {
    return this.#header(n, 0x80, 15, 0xde, 0xdf);
  }

  array(n: number): this {
    return this.#header(n, 0x90, 15, 0xdc, 0xdd);
  }

  str(s: string): this {
    const bytes = utf8.encode(s);
    const n = bytes.length;
    this.#ensure(5 + n);
    if (n <= 31) this.#buf[this.#pos++] = 0xa0 | n;
    else if (n <= 0xff) {
      this.#buf[this.#pos++] = 0xd9;
      this.#buf[this.#pos++] = n;
    } else this.#header(n, 0, -1, 0xda, 0xdb);
    this.#buf.set(bytes, this.#pos);
    this.#pos += n;
    return this;
  }

  bin(b: Uint8Array): this {
    const n = b.length;
    this.#ensure(5 + n);
    if (n <= 0xff) {
      this.#buf[this.#pos++] = 0xc4;
      this.#buf[this.#pos++] = n;
    } else this.#header(n, 0, -1, 0xc5, 0xc6);
    this.#buf.set(b, this.#pos);
    this.#pos += n;
    return this;
  }

  /** An unsigned integer in its smallest width (uint64 for a bigint past 2^32). */
  uint(v: number | bigint): this {
    this.#ensure(9);
    if (typeof v === "bigint" || v > 0xffffffff) {
      this.#buf[this.#pos++] = 0xcf;
      this.#view.setBigUint64(this.#pos, BigInt.asUintN(64, BigInt(v)));
      this.#pos += 8;
    } else if (v <= 0x7f) this.#buf[this.#pos++] = v;
    else if (v <= 0xff) {
      this.#buf[this.#pos++] = 0xcc;
      this.#buf[this.#pos++] = v;
    } else if (v <= 0xffff) {
      this.#buf[this.#pos++] = 0xcd;
      this.#view.setUint16(this.#pos, v);
      this.#pos += 2;
    } else {
      this.#buf[this.#pos++] = 0xce;
      this.#view.setUint32(this.#pos, v);
      this.#pos += 4;
    }
    return this;
  }

  /** A signed integer as int64 (what Go's msgp writes for int64 fields). */
  int64(v: number | bigint): this {
    this.#ensure(9);
    this.#buf[this.#pos++] = 0xd3;
    this.#view.setBigInt64(this.#pos, BigInt.asIntN(64, BigInt(v)));
    this.#pos += 8;
    return this;
  }

  /** A small signed integer in its smallest width. */
  int(v: number): this {
    if (v >= 0) return this.uint(v);
    this.#ensure(5);
    if (v >= -32) this.#buf[this.#pos++] = v & 0xff;
    else {
      this.#buf[this.#pos++] = 0xd2;
      this.#view.setInt32(this.#pos, v);
      this.#pos += 4;
    }
    return this;
  }

  float64(v: number): this {
    this.#ensure(9);
    this.#buf[this.#pos++] = 0xcb;
    this.#view.setFloat64(this.#pos, v);
    this.#pos += 8;
    return this;
  }

  float32(v: number): this {
    this.#ensure(5);
    this.#buf[this.#pos++] = 0xca;
    this.#view.setFloat32(this.#pos, v);
    this.#pos += 4;
    return this;
  }

  bool(v: boolean): this {
    this.#ensure(1);
    this.#buf[this.#pos++] = v ? 0xc3 : 0xc2;
    return this;
  }

  nil(): this {
    this.#ensure(1);
    this.#buf[this.#pos++] = 0xc0;
    return this;
  }

  /** Bytes that already are msgpack values. */
  raw(b: Uint8Array): this {
    this.#ensure(b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
    return this;
  }
}
