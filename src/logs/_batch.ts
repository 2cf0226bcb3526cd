/**
 * The batch encoder: processed messages in, a JSON array of intake events out, within the
 * count and uncompressed-size limits. Events are written straight into one buffer as UTF-8, so
 * the size checked is the exact size sent and nothing is copied twice.
 */
import type { LogMessage } from "./_message.ts";

/** A sealed batch: the JSON array bytes and the messages it holds (for the auditor, status). */
export interface SealedBatch {
  /** The uncompressed JSON array. */
  body: Uint8Array;
  messages: LogMessage[];
  /** Epoch ms of the oldest message (the `dd-message-timestamp` header). */
  oldestMs: number;
}

/** What {@linkcode LogBatch.add} did with a message. */
export type AddResult = "added" | "full" | "too_large";

const utf8 = new TextDecoder();
const encoder = new TextEncoder();
const OPEN = 0x5b; // [
const COMMA = 0x2c;
const CLOSE = 0x5d;

/**
 * One intake event as JSON text: `{message, status, timestamp, hostname, service, ddsource,
 * ddtags}` (subsystems §6), `ddtags` comma-joined; a Lambda line's `message` is an object
 * (see {@linkcode LogMessage.lambda}).
 *
 * @example
 * ```ts
 * import { eventJson } from "./_batch.ts";
 * const json = eventJson({
 *   content: new TextEncoder().encode("hello"), status: "info", timestamp: 1, hostname: "h",
 *   service: "s", source: "src", tags: ["a:1", "b:2"], rawBytes: 6,
 *   origin: { source: undefined as never, identifier: "", offset: "", tailingMode: "end", seq: 0 },
 * });
 * console.assert(JSON.parse(json).ddtags === "a:1,b:2");
 * ```
 */
export function eventJson(m: LogMessage): string {
  const text = JSON.stringify(utf8.decode(m.content));
  const message = m.lambda
    ? `{"message":${text},"lambda":{"arn":${JSON.stringify(m.lambda.arn)},"request_id":${
      JSON.stringify(m.lambda.requestId)
    }}}`
    : text;
  return `{"message":${message},"status":${
    JSON.stringify(m.status)
  },"timestamp":${m.timestamp},"hostname":${JSON.stringify(m.hostname)},"service":${
    JSON.stringify(m.service)
  },"ddsource":${JSON.stringify(m.source)},"ddtags":${JSON.stringify(m.tags.join(","))}}`;
}

/**
 * Accumulates events up to `maxSize` events and `maxContentSize` bytes (brackets and commas
 * included). An event that cannot fit even an empty batch is refused with `too_large`: the
 * spec drops it rather than truncating.
 *
 * @example
 * ```ts
 * import { LogBatch } from "./_batch.ts";
 * const batch = new LogBatch({ maxSize: 1, maxContentSize: 1000 });
 * const m = {
 *   content: new TextEncoder().encode("x"), status: "info", timestamp: 1, hostname: "h",
 *   service: "", source: "", tags: [], rawBytes: 2,
 *   origin: { source: undefined as never, identifier: "", offset: "", tailingMode: "end" as const, seq: 0 },
 * };
 * console.assert(batch.add(m) === "added");
 * console.assert(batch.add(m) === "full");
 * console.assert(JSON.parse(new TextDecoder().decode(batch.seal()!.body)).length === 1);
 * ```
 */
export class LogBatch {
  readonly #maxSize: number;
  readonly #maxContentSize: number;
  #buf: Uint8Array;
  #used = 0;
  #messages: LogMessage[] = [];
  #oldestMs = Infinity;

  constructor({ maxSize, maxContentSize }: { maxSize: number; maxContentSize: number }) {
    this.#maxSize = maxSize;
    this.#maxContentSize = maxContentSize;
    // Grown on demand: most batches are far below the 5 MB cap.
    this.#buf = new Uint8Array(Math.min(maxContentSize, 64 * 1024));
  }

  /** Events in the open batch. */
  get length(): number {
    return this.#messages.length;
  }

  /** Uncompressed bytes of the open batch once closed. */
  get bytes(): number {
    return this.#used === 0 ? 0 : this.#used + 1;
  }

  /** Adds `m`; `full` means seal first and add again, `too_large` means drop it. */
  add(m: LogMessage): AddResult {
    if (this.#messages.length >= this.#maxSize) return "full";
    const json = eventJson(m);
    // One byte before (`[` or `,`) and the closing `]` after.
    const room = this.#maxContentSize - this.#used - 2;
    // UTF-16 length × 3 bounds the UTF-8 length: a cheap test before encoding.
    if (json.length * 3 > room && json.length > room) {
      return this.#used === 0 ? "too_large" : "full";
    }
    this.#ensure(this.#used + 1 + Math.min(json.length * 3, room));
    const start = this.#used;
    this.#buf[start] = start === 0 ? OPEN : COMMA;
    const { read, written } = encoder.encodeInto(
      json,
      this.#buf.subarray(start + 1, start + 1 + room),
    );
    if (read < json.length) return this.#used === 0 ? "too_large" : "full";
    this.#used = start + 1 + written;
    this.#messages.push(m);
    if (m.timestamp < this.#oldestMs) this.#oldestMs = m.timestamp;
    return "added";
  }

  /** Closes the batch and starts a new one; null when it is empty. */
  seal(): SealedBatch | null {
    if (this.#messages.length === 0) return null;
    this.#ensure(this.#used + 1);
    this.#buf[this.#used] = CLOSE;
    const sealed = {
      body: this.#buf.slice(0, this.#used + 1),
      messages: this.#messages,
      oldestMs: this.#oldestMs,
    };
    this.#used = 0;
    this.#messages = [];
    this.#oldestMs = Infinity;
    return sealed;
  }

  #ensure(n: number): void {
    if (n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < n) size *= 2;
    const next = new Uint8Array(Math.min(Math.max(size, n), this.#maxContentSize + 1));
    next.set(this.#buf.subarray(0, this.#used));
    this.#buf = next;
  }
}
