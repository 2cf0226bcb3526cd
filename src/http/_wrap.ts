/**
 * Wrappers around a send: one attempt at something, given an abort signal, resolving to a
 * typed outcome. Timeout and retry are layered around it instead of written into each sender:
 *
 * ```
 * withRetry(withTimeout(send, ms), policy)
 * ```
 */

/** One attempt at `arg`. `signal` aborts it (a timeout, or the caller stopping). */
export type Send<A, R> = (arg: A, signal?: AbortSignal) => Promise<R>;

/**
 * Bounds each attempt to `ms` by aborting its signal with a `TimeoutError` (which
 * `classifyError` reads as a `retry` with reason `timeout`). The caller's own signal still
 * aborts it.
 *
 * @example
 * ```ts
 * import { withTimeout } from "./_wrap.ts";
 * const slow = (_: string, signal?: AbortSignal) =>
 *   new Promise<string>((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason)));
 * await withTimeout(slow, 10)("x").catch((e) => e.name); // "TimeoutError"
 * ```
 */
export function withTimeout<A, R>(send: Send<A, R>, ms: number): Send<A, R> {
  return function sendWithTimeout(arg, signal) {
    const timeout = AbortSignal.timeout(ms);
    return send(arg, signal ? AbortSignal.any([signal, timeout]) : timeout);
  };
}

/** What {@linkcode withRetry} does between attempts. */
export interface RetryPolicy<R> {
  /** Attempts in all, the first included (≥ 1). */
  attempts: number;
  /** Pause before the second attempt, ms. */
  delayMs: number;
  /** Each later pause is the previous one times this. @default 1 */
  backoff?: number;
  /** Longest pause, ms. @default Infinity */
  maxDelayMs?: number;
  /** Whether an outcome is worth another attempt. */
  isRetriable: (outcome: R) => boolean;
  /** @default a setTimeout-based sleep */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Runs `send` until its outcome is not retriable or `policy.attempts` are spent, pausing
 * between attempts, and returns the last outcome. A throw ends the loop: a sender whose
 * failures are worth retrying returns them as outcomes.
 *
 * @example
 * ```ts
 * import { withRetry } from "./_wrap.ts";
 * let calls = 0;
 * const flaky = async (_: string) => ++calls < 3 ? "busy" : "done";
 * await withRetry(flaky, { attempts: 5, delayMs: 1, isRetriable: (o) => o === "busy" })("x"); // "done"
 * ```
 */
export function withRetry<A, R>(send: Send<A, R>, policy: RetryPolicy<R>): Send<A, R> {
  const {
    attempts,
    delayMs,
    backoff = 1,
    maxDelayMs = Infinity,
    isRetriable,
    sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
  } = policy;
  if (!(attempts >= 1)) throw new RangeError(`Cannot retry: attempts must be ≥ 1, got ${attempts}`);
  return async function sendWithRetry(arg, signal) {
    let pause = delayMs;
    for (let attempt = 1;; attempt++) {
      const outcome = await send(arg, signal);
      if (attempt >= attempts || signal?.aborted || !isRetriable(outcome)) return outcome;
      await sleep(Math.min(pause, maxDelayMs));
      pause *= backoff;
    }
  };
}
