/**
 * Line handlers (A.2.3, A.3.2, A.3.3): single lines as they come, or lines grouped into events
 * by a `multi_line` rule or by auto multi-line detection. Grouped lines are joined with the two
 * bytes `\` `n`, as the Go agent joins them; an event's offset is the offset after its last line.
 *
 * @module
 */
import { concat, type DecodedLine, trim, TRUNCATED } from "./_decoder.ts";
import type { LogsConfig, SourceInfo } from "./_message.ts";

/** A line or a group of lines, ready for the processing rules. */
export interface LogEvent {
  content: Uint8Array;
  /** Raw bytes of every line in it. */
  rawLen: number;
  /** Offset in the stream after its last line. */
  offset: number;
  truncated: boolean;
}

/** Takes decoded lines, gives events. */
export interface LineHandler {
  add(line: DecodedLine, offset: number): void;
  /** Sends a pending group now (end of a file, a closed connection, stop). */
  flush(): void;
}

/** Options of {@linkcode createLineHandler}. */
export interface LineHandlerOptions {
  maxMessageSize: number;
  /** Silence in ms after which a pending group is sent. */
  aggregationTimeoutMs: number;
  /** Auto detection: JSON lines are never grouped. @default true */
  jsonDetection?: boolean;
  /** Auto detection: more patterns (anchored) that start an event. @default [] */
  extraPatterns?: readonly RegExp[];
  onEvent: (e: LogEvent) => void;
  /** Where "MultiLine matches" and "Lines Combined" are counted. */
  info: SourceInfo;
}

const ESCAPED_LF = new Uint8Array([0x5c, 0x6e]);
const UTF8 = new TextDecoder();

/**
 * Timestamps that start an event for auto detection: ISO 8601 / RFC 3339, `YYYY/MM/DD hh:mm`,
 * syslog `Mmm dd hh:mm:ss` and Java's `dd Mmm yyyy hh:mm:ss`, optionally after `[`.
 */
const LEADING_TIMESTAMP = new RegExp(
  "^\\[?(?:" + [
    "\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}",
    "\\d{4}/\\d{2}/\\d{2}[T ]\\d{2}:\\d{2}",
    "[A-Z][a-z]{2} [ \\d]\\d \\d{2}:\\d{2}:\\d{2}",
    "\\d{1,2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2}",
  ].join("|") + ")",
);

/** The first bytes of a line as Latin-1 text: enough for the timestamp test, no UTF-8 decoding. */
function head(b: Uint8Array): string {
  return String.fromCharCode(...b.subarray(0, 32));
}

type Kind = "start" | "aggregate" | "alone";

/** The handler the source's rules ask for: the last `multi_line` rule, else auto, else single. */
export function createLineHandler(config: LogsConfig, o: LineHandlerOptions): LineHandler {
  const rule = config.rules.findLast((r) => r.type === "multi_line");
  if (rule) {
    return new GroupingHandler(o, (line) => {
      if (rule.regex.test(UTF8.decode(line))) {
        o.info.multiLineMatches++;
        return "start";
      }
      return "aggregate";
    });
  }
  if (config.autoMultiLine) {
    const json = o.jsonDetection ?? true;
    const extra = o.extraPatterns ?? [];
    return new GroupingHandler(o, (line, grouping) => {
      if (json && trim(line)[0] === 0x7b) return "alone";
      if (LEADING_TIMESTAMP.test(head(line))) return "start";
      if (extra.length > 0) {
        const text = UTF8.decode(line);
        if (extra.some((r) => r.test(text))) return "start";
      }
      return grouping ? "aggregate" : "alone";
    });
  }
  return {
    add(line, offset) {
      const content = trim(line.content);
      if (content.length === 0) return;
      o.onEvent({ content, rawLen: line.rawLen, offset, truncated: line.truncated });
    },
    flush() {},
  };
}

class GroupingHandler implements LineHandler {
  readonly #o: LineHandlerOptions;
  readonly #classify: (line: Uint8Array, grouping: boolean) => Kind;
  #parts: Uint8Array[] = [];
  #bytes = 0;
  #rawLen = 0;
  #lines = 0;
  #offset = 0;
  #truncated = false;
  /** The next group starts with the marker: the previous one was cut at the size limit. */
  #continued = false;
  #lastAdd = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(o: LineHandlerOptions, classify: (line: Uint8Array, grouping: boolean) => Kind) {
    this.#o = o;
    this.#classify = classify;
  }

  add(line: DecodedLine, offset: number): void {
    const c = line.content;
    if (trim(c).length === 0) {
      // Nothing to show, but a group must still account for the bytes.
      if (this.#parts.length > 0) this.#rawLen += line.rawLen, this.#offset = offset;
      return;
    }
    const kind = this.#classify(c, this.#parts.length > 0);
    if (kind !== "aggregate") this.flush();
    if (kind === "alone") {
      this.#o.onEvent({ content: trim(c), rawLen: line.rawLen, offset, truncated: line.truncated });
      return;
    }
    if (this.#parts.length > 0 && this.#bytes + 2 + c.length > this.#o.maxMessageSize) {
      this.#parts.push(TRUNCATED);
      this.#truncated = true;
      this.flush();
      this.#continued = true;
    }
    if (this.#parts.length === 0 && this.#continued) {
      this.#parts.push(TRUNCATED);
      this.#bytes += TRUNCATED.length;
      this.#truncated = true;
      this.#continued = false;
    } else if (this.#parts.length > 0) {
      this.#parts.push(ESCAPED_LF);
      this.#bytes += 2;
    }
    this.#parts.push(c);
    this.#lines++;
    this.#bytes += c.length;
    this.#rawLen += line.rawLen;
    this.#offset = offset;
    this.#truncated ||= line.truncated;
    this.#lastAdd = Date.now();
    this.#arm(this.#o.aggregationTimeoutMs);
  }

  /** One timer per group, re-armed for what is left rather than reset on every line. */
  #arm(ms: number): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const idle = Date.now() - this.#lastAdd;
      if (idle >= this.#o.aggregationTimeoutMs) this.flush();
      else if (this.#parts.length > 0) this.#arm(this.#o.aggregationTimeoutMs - idle);
    }, ms);
  }

  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer), this.#timer = undefined;
    if (this.#parts.length === 0) return;
    if (this.#lines > 1) this.#o.info.linesCombined += this.#lines - 1;
    const content = trim(this.#parts.length === 1 ? this.#parts[0] : concat(...this.#parts));
    const e = { content, rawLen: this.#rawLen, offset: this.#offset, truncated: this.#truncated };
    this.#parts = [];
    this.#bytes = 0;
    this.#rawLen = 0;
    this.#lines = 0;
    this.#truncated = false;
    this.#o.onEvent(e);
  }
}
