/**
 * The decoder: raw bytes of a file or a connection in, lines of valid UTF-8 out. It frames on
 * the encoding's newline (a `\r` before it is dropped too), cuts lines longer than the limit
 * into pieces marked `...TRUNCATED...` (A.2.3), replaces invalid UTF-8, and reports each
 * line's raw length so offsets stay exact. Trimming is the line handlers' (a single line is
 * trimmed, a multi-line group only at its ends, so a stack trace keeps its indentation).
 *
 * @module
 */
import type { Encoding } from "./_message.ts";

/** The marker put at the end of a cut piece and at the start of the next one. */
export const TRUNCATED = new TextEncoder().encode("...TRUNCATED...");

/** A line as the decoder emits it. */
export interface DecodedLine {
  /** UTF-8 content without the newline (may be empty: callers skip it but count its bytes). */
  content: Uint8Array;
  /** Bytes of the source this line consumed, newline included. */
  rawLen: number;
  /** The line was cut: a marker is at its end, its start, or both. */
  truncated: boolean;
}

/** Options of {@linkcode Decoder}. */
export interface DecoderOptions {
  encoding: Encoding;
  /** Longest content in bytes before the line is cut. */
  maxMessageSize: number;
  onLine: (line: DecodedLine) => void;
  /** Called with the number of lines that had invalid sequences replaced. */
  onDecodingError?: (lines: number) => void;
}

const FATAL_UTF8 = new TextDecoder("utf-8", { fatal: true });
const LOSSY_UTF8 = new TextDecoder("utf-8");
const ENCODER = new TextEncoder();

/** Frames and decodes one stream of bytes; keep one per file or connection. */
export class Decoder {
  readonly #o: DecoderOptions;
  readonly #wide: boolean;
  readonly #utf16?: TextDecoder;
  /** Bytes after the last newline, waiting for the rest of their line. */
  #pending: Uint8Array = new Uint8Array(0);
  /** The previous piece was cut: the next one starts with the marker. */
  #continued = false;

  constructor(options: DecoderOptions) {
    this.#o = options;
    this.#wide = options.encoding !== "utf-8";
    // WHATWG labels: "utf-16le" / "utf-16be".
    if (this.#wide) this.#utf16 = new TextDecoder(options.encoding.replace("-16-", "-16"));
  }

  /** Bytes held for an unfinished line. */
  get pendingBytes(): number {
    return this.#pending.length;
  }

  /** Takes the next bytes of the stream; `chunk` must not be changed afterwards. */
  write(chunk: Uint8Array): void {
    const data = this.#pending.length === 0 ? chunk : concat(this.#pending, chunk);
    const max = this.#o.maxMessageSize;
    let start = 0;
    // Whole-region validation: one native call instead of a scan per line.
    let valid = this.#wide;
    const lastNl = data.lastIndexOf(10);
    if (!this.#wide && lastNl >= 0) {
      try {
        FATAL_UTF8.decode(data.subarray(0, lastNl));
        valid = true;
      } catch {
        valid = false;
      }
    }
    for (;;) {
      const end = this.#lineEnd(data, start);
      if (end < 0) break;
      while (end - start > max + this.#newlineLen()) {
        start = this.#cut(data, start, max);
      }
      this.#emit(data.subarray(start, end), end - start, valid);
      start = end;
    }
    while (data.length - start > max) start = this.#cut(data, start, max);
    this.#pending = start === data.length ? new Uint8Array(0) : data.slice(start);
  }

  /** Emits what is held as a last line (end of a rotated file, a closed connection). */
  flush(): void {
    if (this.#pending.length === 0) return;
    const rest = this.#pending;
    this.#pending = new Uint8Array(0);
    this.#emit(rest, rest.length, false);
  }

  #newlineLen(): number {
    return this.#wide ? 2 : 1;
  }

  /** Index just past the newline of the line starting at `from`, or -1. */
  #lineEnd(data: Uint8Array, from: number): number {
    if (!this.#wide) {
      const i = data.indexOf(10, from);
      return i < 0 ? -1 : i + 1;
    }
    const le = this.#o.encoding === "utf-16-le";
    for (let i = data.indexOf(10, from); i >= 0; i = data.indexOf(10, i + 1)) {
      const rel = i - from;
      if (le && rel % 2 === 0 && data[i + 1] === 0 && i + 1 < data.length) return i + 2;
      if (!le && rel % 2 === 1 && data[i - 1] === 0) return i + 1;
    }
    return -1;
  }

  /** Emits a piece of at most `max` bytes from `start` (on a character boundary); returns its end. */
  #cut(data: Uint8Array, start: number, max: number): number {
    let end = start + max;
    if (this.#wide) end -= (end - start) % 2;
    // Back up over UTF-8 continuation bytes so a character is never split.
    else while (end > start + 1 && (data[end] & 0xc0) === 0x80) end--;
    const piece = this.#toUtf8(data.subarray(start, end), false);
    const first = !this.#continued;
    this.#continued = true;
    const parts = first ? [piece, TRUNCATED] : [TRUNCATED, piece, TRUNCATED];
    this.#o.onLine({ content: concat(...parts), rawLen: end - start, truncated: true });
    return end;
  }

  #emit(raw: Uint8Array, rawLen: number, valid: boolean): void {
    let content = this.#toUtf8(stripNewline(raw, this.#o.encoding), valid);
    const truncated = this.#continued;
    if (truncated) {
      this.#continued = false;
      content = concat(TRUNCATED, content);
    }
    this.#o.onLine({ content, rawLen, truncated });
  }

  /** Trimmed valid UTF-8 for `raw` in the source's encoding. */
  #toUtf8(raw: Uint8Array, valid: boolean): Uint8Array {
    if (this.#wide) return stripCr(ENCODER.encode(this.#utf16!.decode(raw)));
    const t = stripCr(raw);
    if (valid) return t;
    try {
      FATAL_UTF8.decode(t);
      return t;
    } catch {
      this.#o.onDecodingError?.(1);
      return ENCODER.encode(LOSSY_UTF8.decode(t));
    }
  }
}

function stripNewline(raw: Uint8Array, encoding: Encoding): Uint8Array {
  const n = raw.length;
  if (encoding === "utf-8") return n > 0 && raw[n - 1] === 10 ? raw.subarray(0, n - 1) : raw;
  const isNl = encoding === "utf-16-le"
    ? raw[n - 2] === 10 && raw[n - 1] === 0
    : raw[n - 2] === 0 && raw[n - 1] === 10;
  return n >= 2 && isNl ? raw.subarray(0, n - 2) : raw;
}

function stripCr(b: Uint8Array): Uint8Array {
  return b.length > 0 && b[b.length - 1] === 13 ? b.subarray(0, b.length - 1) : b;
}

/** ASCII whitespace, as `bytes.TrimSpace` sees it for the bytes that matter in logs. */
function isSpace(b: number): boolean {
  return b === 32 || (b >= 9 && b <= 13);
}

/** `raw` without leading and trailing whitespace (a view, not a copy). */
export function trim(raw: Uint8Array): Uint8Array {
  let s = 0;
  let e = raw.length;
  while (s < e && isSpace(raw[s])) s++;
  while (e > s && isSpace(raw[e - 1])) e--;
  return s === 0 && e === raw.length ? raw : raw.subarray(s, e);
}

/** The bytes of `parts` one after the other, in a new array. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
