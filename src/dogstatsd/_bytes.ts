/**
 * Byte-level helpers for the parser: bounded search, number parsing and a string interner.
 * They work on ranges of one packet buffer so that a packet never becomes one big string.
 */

const utf8 = new TextDecoder();
const singleByte = new TextDecoder("latin1");

/** Index of `byte` in `buf[from, to)`, or -1. Bounded on purpose: `Uint8Array.indexOf` would
 * scan to the end of the packet for each line, which is quadratic on packets of bad lines. */
export function find(buf: Uint8Array, byte: number, from: number, to: number): number {
  for (let i = from; i < to; i++) if (buf[i] === byte) return i;
  return -1;
}

/** True when `buf[at, …)` starts with the ASCII `prefix` and stays below `to`. */
export function startsWith(buf: Uint8Array, at: number, to: number, prefix: Uint8Array): boolean {
  if (to - at < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[at + i] !== prefix[i]) return false;
  return true;
}

/** Decodes `buf[from, to)` as UTF-8 (invalid sequences become U+FFFD; never throws). */
export function decode(buf: Uint8Array, from: number, to: number): string {
  let ascii = true;
  for (let i = from; i < to; i++) {
    if (buf[i] >= 0x80) {
      ascii = false;
      break;
    }
  }
  // ASCII is the common case, and the single-byte decoder skips UTF-8 validation: about
  // twice as fast as the UTF-8 one or building the string by char codes (measured in Bun).
  return (ascii ? singleByte : utf8).decode(buf.subarray(from, to));
}

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
const FLOAT_SYNTAX = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)$/i;

/**
 * Parses `buf[from, to)` as Go's `strconv.ParseFloat` would for decimal input (`1e3`, `NaN`,
 * `Inf`, `-infinity`); returns undefined when the text is not a float or overflows.
 */
export function parseFloatBytes(buf: Uint8Array, from: number, to: number): number | undefined {
  // Fast path: [sign] digits [. digits] with at most 15 significant digits, so the mantissa is
  // exact and one correctly rounded division by an exact power of ten gives the same double
  // as a full decimal conversion.
  let i = from;
  let neg = false;
  if (buf[i] === 0x2d) {
    neg = true;
    i++;
  } else if (buf[i] === 0x2b) i++;
  let m = 0;
  let digits = 0;
  let frac = 0;
  let dot = false;
  for (; i < to; i++) {
    const c = buf[i];
    if (c >= 0x30 && c <= 0x39) {
      m = m * 10 + (c - 0x30);
      digits++;
      if (dot) frac++;
    } else if (c === 0x2e && !dot) dot = true;
    else break;
  }
  if (i === to && digits > 0) {
    if (digits <= 15) {
      const v = frac === 0 ? m : m / POW10[frac];
      return neg ? -v : v;
    }
    // Plain decimal syntax, too long to be exact in a double: let the engine round it.
    return Number(singleByte.decode(buf.subarray(from, to)));
  }
  return parseFloatSlow(decode(buf, from, to));
}

function parseFloatSlow(text: string): number | undefined {
  if (!FLOAT_SYNTAX.test(text)) return undefined;
  const lower = text.toLowerCase();
  if (lower.endsWith("nan")) return NaN;
  if (lower.includes("inf")) return lower[0] === "-" ? -Infinity : Infinity;
  const v = Number(text);
  // Go reports a range error for a finite literal that overflows (`1e400`).
  return Number.isFinite(v) ? v : undefined;
}

/** Parses `buf[from, to)` as a base-10 integer with an optional sign, or undefined. */
export function parseIntBytes(buf: Uint8Array, from: number, to: number): number | undefined {
  let i = from;
  let neg = false;
  if (buf[i] === 0x2d || buf[i] === 0x2b) {
    neg = buf[i] === 0x2d;
    i++;
  }
  if (i >= to) return undefined;
  let n = 0;
  for (; i < to; i++) {
    const c = buf[i];
    if (c < 0x30 || c > 0x39) return undefined;
    n = n * 10 + (c - 0x30);
  }
  return neg ? -n : n;
}

/**
 * A fixed-size cache keyed by byte ranges. A collision overwrites the slot, so memory stays
 * bounded whatever the cardinality; a hit costs one hash and one comparison of the bytes.
 */
export class ByteCache<T> {
  readonly #mask: number;
  readonly #keys: (Uint8Array | undefined)[];
  readonly #values: (T | undefined)[];
  #slot = 0;

  /** `size` is rounded up to a power of two. */
  constructor(size = 4096) {
    let n = 1;
    while (n < size) n <<= 1;
    this.#mask = n - 1;
    this.#keys = new Array(n).fill(undefined);
    this.#values = new Array(n).fill(undefined);
  }

  /** The value stored for `buf[from, to)`, or undefined; remembers the slot for `set`. */
  get(buf: Uint8Array, from: number, to: number): T | undefined {
    let h = 0x811c9dc5; // FNV-1a
    for (let i = from; i < to; i++) h = Math.imul(h ^ buf[i], 0x01000193);
    const slot = (h >>> 0) & this.#mask;
    this.#slot = slot;
    const key = this.#keys[slot];
    const len = to - from;
    if (key === undefined || key.length !== len) return undefined;
    for (let i = 0; i < len; i++) if (key[i] !== buf[from + i]) return undefined;
    return this.#values[slot];
  }

  /** Stores `value` for `buf[from, to)`; call right after a `get` of the same range. */
  set(buf: Uint8Array, from: number, to: number, value: T): void {
    this.#keys[this.#slot] = buf.slice(from, to);
    this.#values[this.#slot] = value;
  }
}

/**
 * Strings for byte ranges, like the agent's `dogstatsd_string_interner_size`: names and tags
 * repeat across packets, so a hit returns the same string without decoding or allocating,
 * and no string keeps a packet alive.
 */
export class Interner {
  readonly #cache: ByteCache<string>;
  constructor(size = 4096) {
    this.#cache = new ByteCache(size);
  }
  /** The string for `buf[from, to)`. */
  get(buf: Uint8Array, from: number, to: number): string {
    let s = this.#cache.get(buf, from, to);
    if (s === undefined) {
      s = decode(buf, from, to);
      this.#cache.set(buf, from, to, s);
    }
    return s;
  }
}
