/**
 * Byte-level helpers for the parser: bounded search, number parsing and a string interner.
 * They work on ranges of one packet buffer so that a packet never becomes one big string.
 */

// ignoreBOM keeps a leading U+FEFF: a tag that is only a BOM is a tag, not an empty one.
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
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
export function parseFloatBytes(
  buf: Uint8Array,
  from: number,
  to: number,
  packet?: PacketText,
): number | undefined {
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
    // Plain decimal syntax, too long to be exact in a double: let the engine round it. Past
    // ~309 digits that is Infinity, which Go reports as a range error.
    const v = Number(packet ? packet.slice(from, to) : singleByte.decode(buf.subarray(from, to)));
    return Number.isFinite(v) ? v : undefined;
  }
  return parseFloatSlow(decode(buf, from, to));
}

/**
 * One packet as a single-byte string, decoded on first use. Values of 16 and more digits (what
 * JS clients send for `0.1 + 0.2`) need the engine's rounding: a slice of one decode per packet
 * costs about half of a subarray and a decode per value (40 against 90 ns, measured in Bun).
 * Only ASCII ranges are sliced, where the single-byte decoder maps each byte to itself.
 */
export class PacketText {
  #buf: Uint8Array = new Uint8Array(0);
  #text: string | undefined;
  /** Starts a new packet (the caller's buffer may be refilled between packets). */
  reset(buf: Uint8Array): void {
    this.#buf = buf;
    this.#text = undefined;
  }
  /** The characters of the ASCII range `[from, to)` of the packet. */
  slice(from: number, to: number): string {
    this.#text ??= singleByte.decode(this.#buf);
    return this.#text.slice(from, to);
  }
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

/**
 * Parses `buf[from, to)` as a base-10 integer with an optional sign, or undefined. Past 2^53
 * the result is rounded and past ~309 digits it is ±Infinity: callers check the range.
 */
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

let viewOf: Uint8Array | undefined;
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

/**
 * A 32-bit hash of `buf[from, to)`, four bytes per step (murmur3's mixing): the tails and
 * names it keys are 20–80 bytes, and a byte-at-a-time FNV loop was the parser's top cost
 * (28 % of parse + aggregate at 10k contexts). The view is rebuilt only when the packet changes.
 */
export function hashBytes(buf: Uint8Array, from: number, to: number): number {
  if (buf !== viewOf) {
    viewOf = buf;
    view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  let h = 0x811c9dc5 ^ (to - from);
  let i = from;
  for (const last = to - 4; i <= last; i += 4) {
    let k = Math.imul(view.getUint32(i, true), 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    h ^= k;
    h = (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
  }
  for (; i < to; i++) h = Math.imul(h ^ buf[i], 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  return h ^ (h >>> 13);
}

/**
 * A bounded cache keyed by byte ranges. Like the agent's string interner it starts over when
 * full, so memory stays bounded whatever the cardinality, and until then nothing is evicted
 * (a direct-mapped table lost ~half its entries to collisions at 60 % load). A hit costs one
 * hash of the bytes, one map lookup and one comparison. Keys are kept as single-byte strings
 * rather than byte copies: allocating a typed array per stored key made misses several times
 * dearer than hits.
 */
export class ByteCache<T> {
  readonly #capacity: number;
  readonly #adaptive: boolean;
  readonly #entries = new Map<number, { key: string; value: T }>();
  /** Hash of the last `get`; undefined when that `get` was bypassed. */
  #hash: number | undefined;
  #probes = 0;
  #hits = 0;
  #bypass = 0;

  /**
   * With `adaptive`, a cache that hits less than 10 % of 1024 lookups is bypassed for the
   * next 16384 (lookups and stores cost nothing then): at high cardinality the cache is pure
   * overhead, and this keeps its cost to about 6 % of lookups.
   */
  constructor(capacity = 4096, { adaptive = false }: { adaptive?: boolean } = {}) {
    this.#capacity = capacity;
    this.#adaptive = adaptive;
  }

  /** The value stored for `buf[from, to)`, or undefined; remembers the hash for `set`. */
  get(buf: Uint8Array, from: number, to: number): T | undefined {
    if (this.#bypass > 0) {
      this.#bypass--;
      this.#hash = undefined;
      return undefined;
    }
    const h = hashBytes(buf, from, to);
    this.#hash = h;
    const value = this.#lookup(h, buf, from, to);
    if (this.#adaptive) {
      if (value !== undefined) this.#hits++;
      if (++this.#probes === 1024) {
        if (this.#hits < 102) this.#bypass = 16_384;
        this.#probes = this.#hits = 0;
      }
    }
    return value;
  }

  #lookup(h: number, buf: Uint8Array, from: number, to: number): T | undefined {
    const e = this.#entries.get(h);
    if (e === undefined) return undefined;
    const key = e.key;
    const len = to - from;
    if (key.length !== len) return undefined;
    for (let i = 0; i < len; i++) if (key.charCodeAt(i) !== buf[from + i]) return undefined;
    return e.value;
  }

  /**
   * Stores `value` for `buf[from, to)`; call right after a `get` of the same range. `key` may
   * pass an already decoded ASCII string of the same bytes to save decoding them again. False
   * when the cache is bypassed and nothing was stored.
   */
  set(buf: Uint8Array, from: number, to: number, value: T, key?: string): boolean {
    if (this.#hash === undefined) return false;
    if (this.#entries.size >= this.#capacity) this.#entries.clear();
    this.#entries.set(this.#hash, {
      key: key ?? byteString(buf, from, to),
      value,
    });
    return true;
  }
}

/** One char per byte, code = byte value (ISO-8859-1); the WHATWG "latin1" decoder is really
 * windows-1252 and remaps 0x80–0x9F, so it serves only pure ASCII. */
function byteString(buf: Uint8Array, from: number, to: number): string {
  for (let i = from; i < to; i++) {
    if (buf[i] >= 0x80) {
      return String.fromCharCode.apply(null, buf.subarray(from, to) as unknown as number[]);
    }
  }
  return singleByte.decode(buf.subarray(from, to));
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
      // An ASCII string is its own key (same length as its bytes).
      this.#cache.set(buf, from, to, s, s.length === to - from ? s : undefined);
    }
    return s;
  }
}
