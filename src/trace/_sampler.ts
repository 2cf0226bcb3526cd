/**
 * Sampling (logs-apmstats B.6, lambda-trace-logs 2.1): the priority sampler that computes
 * `rate_by_service` for tracers, and the errors sampler that keeps a few auto-dropped traces
 * with errors.
 */

/** Seconds per bucket of the traffic ring. */
const BUCKET_SECONDS = 5;
/** Buckets in the ring: the last 30 s of traffic. */
const BUCKETS = 6;
/** A rate may grow at most this much per update, so a burst cannot swing it at once. */
const MAX_RATE_INCREASE = 1.2;
const MAX_SIGNATURES = 5000;
/** The key of the rate for services not seen yet. */
export const DEFAULT_RATE_KEY = "service:,env:";

interface Signature {
  counts: number[];
  rate: number;
}

/**
 * Aims at `targetTPS` kept traces per second across (service, env) signatures, from the
 * weights of the automatically sampled traces it is shown.
 *
 * @example An idle sampler keeps everything
 * ```ts
 * import { PrioritySampler } from "./_sampler.ts";
 * const s = new PrioritySampler(10);
 * console.assert(s.rates()["service:,env:"] === 1);
 * ```
 */
export class PrioritySampler {
  readonly #target: number;
  /** Key `service:<s>,env:<e>` → its ring; a Map keeps least recently used first. */
  readonly #sigs = new Map<string, Signature>();
  readonly #total = new Array<number>(BUCKETS).fill(0);
  #bucket = -1;
  #defaultRate = 1;

  constructor(targetTPS: number) {
    this.#target = targetTPS;
  }

  /** Counts a trace of `weight` (1 / client rate, plus client-dropped P0s) for its signature. */
  count(service: string, env: string, weight: number, nowMs: number): void {
    this.#rotate(nowMs);
    const key = `service:${service},env:${env}`;
    let sig = this.#sigs.get(key);
    if (sig === undefined) {
      sig = { counts: new Array<number>(BUCKETS).fill(0), rate: this.#defaultRate };
      if (this.#sigs.size >= MAX_SIGNATURES) this.#sigs.delete(this.#sigs.keys().next().value!);
    } else this.#sigs.delete(key);
    this.#sigs.set(key, sig);
    const slot = this.#bucket % BUCKETS;
    sig.counts[slot] += weight;
    this.#total[slot] += weight;
  }

  /** Moves the ring to `nowMs`; each 5 s boundary crossed updates the rates. */
  #rotate(nowMs: number): void {
    const b = Math.floor(nowMs / 1000 / BUCKET_SECONDS);
    if (this.#bucket < 0) {
      this.#bucket = b;
      return;
    }
    if (b <= this.#bucket) return;
    this.#update();
    const steps = Math.min(b - this.#bucket, BUCKETS);
    for (let i = 1; i <= steps; i++) {
      const slot = (this.#bucket + i) % BUCKETS;
      this.#total[slot] = 0;
      for (const sig of this.#sigs.values()) sig.counts[slot] = 0;
    }
    this.#bucket = b;
  }

  /** Water-filling: signatures under their share give the rest to the others. */
  #update(): void {
    const seen = [...this.#sigs].map(([key, sig]) => ({
      key,
      sig,
      tps: Math.max(...sig.counts) / BUCKET_SECONDS,
    }));
    seen.sort((a, b) => a.tps - b.tps);
    let budget = this.#target;
    let lowest = 1;
    for (let i = 0; i < seen.length; i++) {
      const { key, sig, tps } = seen[i];
      const share = budget / (seen.length - i);
      if (tps === 0) {
        // No traffic: recover towards 1, then forget the signature.
        sig.rate = Math.min(1, sig.rate * MAX_RATE_INCREASE);
        if (sig.rate >= 1) this.#sigs.delete(key);
        continue;
      }
      const target = Math.min(tps, share);
      budget -= target;
      const rate = Math.min(1, target / tps);
      sig.rate = Math.min(rate, sig.rate * MAX_RATE_INCREASE);
      lowest = Math.min(lowest, sig.rate);
    }
    const totalTps = Math.max(...this.#total) / BUCKET_SECONDS;
    const byTotal = totalTps > 0 ? Math.min(1, this.#target / totalTps) : 1;
    this.#defaultRate = Math.min(byTotal, lowest);
  }

  /** The rate of a signature (the default one when unknown). */
  rate(service: string, env: string): number {
    return this.#sigs.get(`service:${service},env:${env}`)?.rate ?? this.#defaultRate;
  }

  /** `rate_by_service` as tracers read it, the default key included. */
  rates(nowMs?: number): Record<string, number> {
    if (nowMs !== undefined) this.#rotate(nowMs);
    const out: Record<string, number> = {};
    for (const [key, sig] of this.#sigs) out[key] = sig.rate;
    out[DEFAULT_RATE_KEY] = this.#defaultRate;
    return out;
  }
}

/**
 * A token bucket allowing `perSecond` events a second, with a burst of one second's worth.
 *
 * @example
 * ```ts
 * import { RateLimiter } from "./_sampler.ts";
 * const l = new RateLimiter(2);
 * console.assert(l.allow(0) && l.allow(0) && !l.allow(0) && l.allow(500));
 * ```
 */
export class RateLimiter {
  readonly #perSecond: number;
  #tokens: number;
  #last = -1;

  constructor(perSecond: number) {
    this.#perSecond = perSecond;
    this.#tokens = perSecond;
  }

  allow(nowMs: number): boolean {
    if (this.#last >= 0) {
      this.#tokens = Math.min(
        this.#perSecond,
        this.#tokens + ((nowMs - this.#last) / 1000) * this.#perSecond,
      );
    }
    this.#last = nowMs;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
