/**
 * When an invocation's data is flushed (`DD_SERVERLESS_FLUSH_STRATEGY`), with bottlecap's
 * strategy set, and the Go agent's backoff that skips flushes after repeated failures.
 *
 * A decision is made as each invocation starts:
 * - `end`: flush once the runtime is done with it (blocking: before the extension's `next`);
 * - `periodic`: a blocking flush now, inside the invocation;
 * - `continuous`: a flush started now that the invocation does not wait for;
 * - `dont`.
 * `end` always decides `end`; `end,<ms>`, `periodically,<ms>` and `continuously,<ms>` decide
 * theirs once `ms` have passed since the last such decision, else `dont`. Adaptive (the
 * default) is `end` until 20 invocations were seen; then, while they come less than 120 s
 * apart on average, `continuously` every 20 s when the last 20 fit inside 30 s (bottlecap's
 * `flush_timeout`), else `periodically` every 20 s; otherwise `end`.
 */

/** The parsed strategy. */
export type FlushStrategy =
  | { kind: "adaptive" }
  | { kind: "end" }
  | { kind: "end-periodically"; intervalMs: number }
  | { kind: "periodically"; intervalMs: number }
  | { kind: "continuously"; intervalMs: number };

/** What to do for the invocation that is starting. */
export type FlushDecision = "end" | "periodic" | "continuous" | "dont";

/** `periodically` without an interval (the Go agent's; bottlecap has no such form). */
export const DEFAULT_PERIOD_MS = 10_000;
/** Adaptive flushes at the end of each invocation until it has seen this many. */
export const ADAPTIVE_MIN_INVOCATIONS = 20;
/** Adaptive leaves `end` while invocations come closer than this on average. */
export const ADAPTIVE_FREQUENT_MS = 120_000;
/** Adaptive's `continuously` when the last invocations fit in this span (bottlecap's flush_timeout). */
export const ADAPTIVE_CONTINUOUS_SPAN_MS = 30_000;
/** The interval of adaptive's periodic and continuous phases. */
export const ADAPTIVE_PERIOD_MS = 20_000;
/**
 * The race timer: a flush while an invocation runs this long without one. Adaptive's (the
 * other strategies use their interval, `end` 15 minutes: the longest invocation).
 */
export const ADAPTIVE_RACE_MS = 60_000;
const END_RACE_MS = 15 * 60_000;
/** The longest a failing intake makes the extension skip flushes. */
export const MAX_BACKOFF_MS = 300_000;

const NAMES = "end, end,<ms>, periodically[,<ms>] or continuously,<ms>";

/**
 * Parses `end`, `end,<ms>`, `periodically[,<ms>]` and `continuously,<ms>`; anything else,
 * empty included, is adaptive, with a warning for a value that was given but not understood
 * (a bad value must not fail the function's init).
 */
export function parseFlushStrategy(value: string): { strategy: FlushStrategy; warning?: string } {
  const v = value.trim().toLowerCase();
  if (v === "" || v === "adaptive" || v === "default") return { strategy: { kind: "adaptive" } };
  if (v === "end") return { strategy: { kind: "end" } };
  if (v === "periodically") {
    return { strategy: { kind: "periodically", intervalMs: DEFAULT_PERIOD_MS } };
  }
  const m = /^(end|periodically|continuously),(\d{1,9})$/.exec(v);
  if (m && Number(m[2]) > 0) {
    const intervalMs = Number(m[2]);
    const kind = m[1] === "end" ? "end-periodically" : m[1] as "periodically" | "continuously";
    return { strategy: { kind, intervalMs } };
  }
  return {
    strategy: { kind: "adaptive" },
    warning: `serverless_flush_strategy: expected ${NAMES}, got ${JSON.stringify(value)}: ` +
      "flushing adaptively",
  };
}

/** The strategy's name as configured (logs). */
export function strategyName(s: FlushStrategy): string {
  return s.kind === "adaptive" || s.kind === "end"
    ? s.kind
    : `${s.kind === "end-periodically" ? "end" : s.kind},${s.intervalMs}`;
}

/** Decides, as each invocation starts, whether and how what is buffered is flushed. */
export class FlushPlanner {
  readonly strategy: FlushStrategy;
  readonly #random: () => number;
  /** Start times of the last invocations, oldest first. */
  readonly #starts: number[] = [];
  #lastFlushAt: number;
  #failures = 0;
  #skipUntil = 0;

  /** `now` is when the extension became ready: the first interval counts from there. */
  constructor(strategy: FlushStrategy, now: number, random: () => number = Math.random) {
    this.strategy = strategy;
    this.#lastFlushAt = now;
    this.#random = random;
  }

  /**
   * The decision for an invocation starting at `now`, which it records. During a backoff it
   * is `dont`.
   */
  decide(now: number): FlushDecision {
    this.#starts.push(now);
    if (this.#starts.length > ADAPTIVE_MIN_INVOCATIONS) this.#starts.shift();
    const s = this.#concrete();
    if (!this.canFlush(now)) return "dont";
    if (s.kind === "end") return "end";
    if (now - this.#lastFlushAt < s.intervalMs) return "dont";
    this.#lastFlushAt = now;
    return s.kind === "end-periodically"
      ? "end"
      : s.kind === "periodically"
      ? "periodic"
      : "continuous";
  }

  /** False while a backoff skips flushes (SHUTDOWN's final flush ignores it). */
  canFlush(now: number): boolean {
    return now >= this.#skipUntil;
  }

  /** How long an invocation may run without a flush before the race timer flushes. */
  get raceMs(): number {
    const s = this.strategy;
    return s.kind === "adaptive" ? ADAPTIVE_RACE_MS : s.kind === "end" ? END_RACE_MS : s.intervalMs;
  }

  /**
   * Whether the race timer also flushes while the extension waits for `next` (bottlecap: only
   * the default strategy; the others flush there only by their decision).
   */
  get racesWhileWaiting(): boolean {
    return this.strategy.kind === "adaptive";
  }

  /** The outcome of a flush that ended at `now`: a failure backs off, a success resets it. */
  flushed(ok: boolean, now: number): void {
    if (ok) {
      this.#failures = 0;
      this.#skipUntil = 0;
      return;
    }
    this.#failures++;
    const backoff = 2 ** Math.min(this.#failures, 10) * 1000 + this.#random() * 1000;
    this.#skipUntil = now + Math.min(backoff, MAX_BACKOFF_MS);
  }

  /** Until when flushes are skipped after failures (0: none). */
  get skipUntil(): number {
    return this.#skipUntil;
  }

  /** Adaptive turned into what the recent invocations call for; the others as they are. */
  #concrete(): Exclude<FlushStrategy, { kind: "adaptive" }> {
    if (this.strategy.kind !== "adaptive") return this.strategy;
    const n = this.#starts.length;
    if (n < ADAPTIVE_MIN_INVOCATIONS) return { kind: "end" };
    const span = this.#starts[n - 1] - this.#starts[0];
    if (span / (n - 1) >= ADAPTIVE_FREQUENT_MS) return { kind: "end" };
    const kind = span < ADAPTIVE_CONTINUOUS_SPAN_MS ? "continuously" : "periodically";
    return { kind, intervalMs: ADAPTIVE_PERIOD_MS };
  }
}
