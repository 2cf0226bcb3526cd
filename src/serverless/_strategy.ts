/**
 * When an invocation's data is flushed (`DD_SERVERLESS_FLUSH_STRATEGY`), and the backoff that
 * skips flushes after repeated failures.
 *
 * Flushes happen only when an event arrives (the sandbox is frozen between invocations, so a
 * timer would not run): `end` flushes at every one; `periodically[,ms]` once `ms` (10 s by
 * default) have passed since the last flush; adaptive, the default, acts as `end` for the first
 * invocations and as `periodically` while invocations come more often than every 5 minutes.
 */

/** The parsed strategy. */
export type FlushStrategy =
  | { kind: "adaptive" }
  | { kind: "end" }
  | { kind: "periodically"; intervalMs: number };

/** The interval of `periodically` without one, and of adaptive's periodic phase. */
export const DEFAULT_PERIOD_MS = 10_000;
/** Adaptive flushes at every event until it has seen this many invocations. */
export const ADAPTIVE_MIN_INVOCATIONS = 3;
/** Adaptive turns periodic while invocations come at least this often on average. */
export const ADAPTIVE_FREQUENT_MS = 5 * 60_000;
/** How many invocation start times adaptive averages over. */
export const ADAPTIVE_WINDOW = 10;
/** The longest a failing intake makes the extension skip flushes. */
export const MAX_BACKOFF_MS = 300_000;

/**
 * Parses `end`, `periodically` or `periodically,<ms>`; anything else, empty included, is
 * adaptive, with a warning for a value that was given but not understood (a bad value must not
 * fail the function's init).
 */
export function parseFlushStrategy(value: string): { strategy: FlushStrategy; warning?: string } {
  const v = value.trim().toLowerCase();
  if (v === "" || v === "adaptive" || v === "default") return { strategy: { kind: "adaptive" } };
  if (v === "end") return { strategy: { kind: "end" } };
  if (v === "periodically") {
    return { strategy: { kind: "periodically", intervalMs: DEFAULT_PERIOD_MS } };
  }
  const m = /^periodically,(\d{1,9})$/.exec(v);
  if (m && Number(m[1]) > 0) {
    return { strategy: { kind: "periodically", intervalMs: Number(m[1]) } };
  }
  return {
    strategy: { kind: "adaptive" },
    warning: `serverless_flush_strategy: expected end, periodically or periodically,<ms>, got ` +
      `${JSON.stringify(value)}: flushing adaptively`,
  };
}

/** Decides, at each event, whether what is buffered is flushed now. */
export class FlushPlanner {
  readonly #strategy: FlushStrategy;
  readonly #random: () => number;
  readonly #starts: number[] = [];
  #seen = 0;
  #lastFlushAt: number;
  #failures = 0;
  #skipUntil = 0;

  /** `now` is when the extension became ready: the first period counts from there. */
  constructor(strategy: FlushStrategy, now: number, random: () => number = Math.random) {
    this.#strategy = strategy;
    this.#lastFlushAt = now;
    this.#random = random;
  }

  /** Records that an invocation started at `now`. */
  invoked(now: number): void {
    this.#seen++;
    this.#starts.push(now);
    if (this.#starts.length > ADAPTIVE_WINDOW) this.#starts.shift();
  }

  /** Whether to flush at an event arriving at `now` (SHUTDOWN always flushes: not asked). */
  shouldFlush(now: number): boolean {
    if (now < this.#skipUntil) return false;
    const periodic = (ms: number) => now - this.#lastFlushAt >= ms;
    switch (this.#strategy.kind) {
      case "end":
        return true;
      case "periodically":
        return periodic(this.#strategy.intervalMs);
      case "adaptive":
        return this.#frequent() ? periodic(DEFAULT_PERIOD_MS) : true;
    }
  }

  /** The outcome of a flush that ended at `now`: a failure backs off, a success resets it. */
  flushed(ok: boolean, now: number): void {
    this.#lastFlushAt = now;
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

  #frequent(): boolean {
    if (this.#seen < ADAPTIVE_MIN_INVOCATIONS || this.#starts.length < 2) return false;
    const span = this.#starts[this.#starts.length - 1] - this.#starts[0];
    return span / (this.#starts.length - 1) < ADAPTIVE_FREQUENT_MS;
  }
}
