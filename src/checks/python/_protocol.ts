/**
 * The framing of the agent ↔ pyrunner protocol (spec §7.5): JSON Lines, UTF-8, one object per
 * `\n`-terminated line, each with a type `t`. JSON has no NaN or infinities, so the runner sends
 * them as the strings `"NaN"`, `"Infinity"` and `"-Infinity"`.
 */

/** One protocol message: a type and its fields. */
export interface Message {
  t: string;
  [field: string]: unknown;
}

const encoder = new TextEncoder();

/** The bytes of one line carrying `msg`. */
export function encodeLine(msg: Message): Uint8Array {
  return encoder.encode(JSON.stringify(msg) + "\n");
}

/**
 * Cuts a byte stream into lines. A chunk may end inside a line or inside a multi-byte
 * character: what is left over waits for the next chunk.
 *
 * @example
 * ```ts
 * import { LineSplitter } from "./_protocol.ts";
 * const s = new LineSplitter();
 * s.push(new TextEncoder().encode('{"t":"a"}\n{"t"'));   // ['{"t":"a"}']
 * s.push(new TextEncoder().encode(':"b"}\n'));            // ['{"t":"b"}']
 * ```
 */
export class LineSplitter {
  readonly #decoder = new TextDecoder();
  #rest = "";

  /** The lines that `chunk` completes, without their `\n`. */
  push(chunk: Uint8Array): string[] {
    const text = this.#rest + this.#decoder.decode(chunk, { stream: true });
    const lines = text.split("\n");
    this.#rest = lines.pop()!;
    return lines;
  }

  /** What was left without a final `\n` when the stream ended. */
  end(): string {
    const rest = this.#rest + this.#decoder.decode();
    this.#rest = "";
    return rest;
  }
}

/** Parses one line; null when it is not a JSON object with a string `t`. */
export function parseLine(line: string): Message | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  return typeof (value as Message).t === "string" ? value as Message : null;
}

/**
 * A number as the runner sends it: a JSON number, or one of the strings for NaN and the
 * infinities. Anything else is NaN, which the senders drop as an invalid value.
 */
export function decodeNumber(v: unknown): number {
  if (typeof v === "number") return v;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  return NaN;
}
