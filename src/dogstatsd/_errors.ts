/** The most recent parse errors, kept for the status page. */

/** Which kind of message failed. */
export type MessageKind = "metric" | "event" | "service_check";

/** Why a message was rejected; doubles as a telemetry label. */
export type ParseErrorCode =
  | "no_pipe"
  | "no_colon"
  | "empty_name"
  | "empty_value"
  | "unknown_type"
  | "bad_value"
  /** A value is NaN or ±Inf (`nan`, `inf`; an overflowing literal is a `bad_value`). */
  | "non_finite_value"
  | "no_values"
  | "bad_sample_rate"
  /** A rate in (0, MIN_SAMPLE_RATE): one sample would count more than a million times. */
  | "sample_rate_too_small"
  | "bad_timestamp"
  /** A `|T` or `d:` timestamp past MAX_TIMESTAMP, or a negative `d:`. */
  | "timestamp_out_of_range"
  /** A metric or service check name longer than MAX_NAME_BYTES. */
  | "name_too_long"
  /** A tag longer than MAX_TAG_BYTES. */
  | "tag_too_long"
  /** More tags than the parser's `maxTags`. */
  | "too_many_tags"
  | "no_event_colon"
  | "bad_event_header"
  | "empty_event_title"
  | "short_event_body"
  | "short_service_check"
  | "empty_service_check_name"
  | "bad_service_check_status"
  | "unterminated";

/** One remembered error. */
export interface RecentParseError {
  kind: MessageKind;
  code: ParseErrorCode;
  /** The first bytes of the message, decoded leniently. */
  message: string;
  /** Unix seconds. */
  time: number;
}

/** How many bytes of a bad message are kept. */
export const ERROR_PREFIX_BYTES = 64;

const lenient = new TextDecoder();

/** A ring of the last `capacity` parse errors, oldest overwritten first. */
export class ErrorRing {
  readonly #items: RecentParseError[] = [];
  readonly #capacity: number;
  #next = 0;
  readonly #now: () => number;

  constructor(capacity = 16, now: () => number = () => Date.now() / 1000) {
    this.#capacity = capacity;
    this.#now = now;
  }

  /** Remembers the first bytes of `buf[from, to)`. */
  add(kind: MessageKind, code: ParseErrorCode, buf: Uint8Array, from: number, to: number): void {
    const item: RecentParseError = {
      kind,
      code,
      message: lenient.decode(buf.subarray(from, Math.min(to, from + ERROR_PREFIX_BYTES))),
      time: Math.floor(this.#now()),
    };
    if (this.#items.length < this.#capacity) this.#items.push(item);
    else this.#items[this.#next] = item;
    this.#next = (this.#next + 1) % this.#capacity;
  }

  /** The remembered errors, oldest first. */
  list(): RecentParseError[] {
    if (this.#items.length < this.#capacity) return this.#items.slice();
    return [...this.#items.slice(this.#next), ...this.#items.slice(0, this.#next)];
  }
}
