/**
 * Backoff and the per-endpoint circuit breaker. An endpoint that fails is blocked for one
 * backoff period; then one probe is let through (half-open); a success unblocks it and lowers
 * its error count, a failure blocks it again for longer.
 */
import { configDefaults } from "../config/mod.ts";
import { backoffSettings } from "./_settings.ts";

/** Backoff settings, in seconds as in the config. */
export interface BackoffPolicy {
  base: number;
  factor: number;
  max: number;
  /** Errors forgiven per success. */
  recoveryInterval: number;
  /** A success forgives every error. */
  recoveryReset: boolean;
}

/** The Datadog Agent's defaults, as the config schema gives them (`forwarder_backoff_*`, `forwarder_recovery_*`). */
export const DEFAULT_BACKOFF: BackoffPolicy = backoffSettings(configDefaults());

/** Applies the Datadog Agent's fallbacks for out-of-range values. */
export function normalizeBackoff(p: BackoffPolicy): BackoffPolicy {
  return {
    ...p,
    base: p.base > 0 ? p.base : 2,
    factor: p.factor >= 2 ? p.factor : 2,
    max: p.max > 0 ? p.max : 64,
  };
}

/** The largest error count that still changes the wait: floor(log2(max/base)) + 1. */
export function maxErrors(p: BackoffPolicy): number {
  return Math.max(1, Math.floor(Math.log2(p.max / p.base)) + 1);
}

/**
 * Milliseconds to wait after `errors` consecutive errors: t = base·2^errors; past `max` the
 * wait is `max`, else a random time in [t/factor, t]. 0 errors means no wait.
 *
 * @example
 * ```ts
 * import { backoffMs, DEFAULT_BACKOFF } from "./_breaker.ts";
 * backoffMs(1, DEFAULT_BACKOFF, () => 1); // 4000
 * ```
 */
export function backoffMs(errors: number, p: BackoffPolicy, random = Math.random): number {
  if (errors <= 0) return 0;
  const t = p.base * 2 ** errors;
  if (t > p.max) return p.max * 1000;
  const min = t / p.factor;
  return Math.round((min + (t - min) * random()) * 1000);
}

interface EndpointState {
  errors: number;
  /** Epoch ms until which the endpoint is blocked. */
  until: number;
  /** A half-open probe is in flight. */
  probing: boolean;
}

/** Options of {@linkcode CircuitBreaker}. */
export interface BreakerOptions {
  policy?: BackoffPolicy;
  /** @default Date.now */
  now?: () => number;
  /** @default Math.random */
  random?: () => number;
}

/** Per-endpoint blocking with backoff. Endpoints are keyed by URL (domain + route). */
export class CircuitBreaker {
  readonly #states = new Map<string, EndpointState>();
  readonly #policy: BackoffPolicy;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #maxErrors: number;

  constructor({ policy = DEFAULT_BACKOFF, now = Date.now, random = Math.random }: BreakerOptions) {
    this.#policy = normalizeBackoff(policy);
    this.#now = now;
    this.#random = random;
    this.#maxErrors = maxErrors(this.#policy);
  }

  /** True while `url` must not be sent to (blocked, or its half-open probe is out). */
  isBlocked(url: string): boolean {
    const s = this.#states.get(url);
    return s !== undefined && (s.probing || this.#now() < s.until);
  }

  /**
   * Asks to send to `url` now. False while blocked; after the block expires, true exactly once
   * (the probe) until that probe's result is recorded.
   */
  tryAcquire(url: string): boolean {
    const s = this.#states.get(url);
    if (s === undefined) return true;
    if (s.probing || this.#now() < s.until) return false;
    if (s.errors > 0) s.probing = true;
    return true;
  }

  /** Records a failed send: blocks the endpoint for the next backoff period. */
  failure(url: string): void {
    const s = this.#states.get(url) ?? { errors: 0, until: 0, probing: false };
    // Requests already in flight when the endpoint was blocked fail together; one outage
    // counts as one error, not as one per concurrent request.
    if (!s.probing && this.#now() < s.until) return;
    s.errors = Math.min(s.errors + 1, this.#maxErrors);
    s.until = this.#now() + backoffMs(s.errors, this.#policy, this.#random);
    s.probing = false;
    this.#states.set(url, s);
  }

  /** Records a successful send: unblocks the endpoint and forgives errors. */
  success(url: string): void {
    const s = this.#states.get(url);
    if (s === undefined) return;
    s.errors = this.#policy.recoveryReset
      ? 0
      : Math.max(0, s.errors - this.#policy.recoveryInterval);
    s.probing = false;
    s.until = 0;
    if (s.errors === 0) this.#states.delete(url);
  }

  /** Consecutive-error count of `url` (0 when healthy). */
  errors(url: string): number {
    return this.#states.get(url)?.errors ?? 0;
  }
}
