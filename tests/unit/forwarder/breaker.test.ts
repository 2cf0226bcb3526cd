import { test } from "node:test";
import assert from "node:assert/strict";
import {
  backoffMs,
  CircuitBreaker,
  DEFAULT_BACKOFF,
  maxErrors,
  normalizeBackoff,
} from "../../../src/forwarder/_breaker.ts";

test("backoffMs() waits base·2^n, at least t/factor, capped at max", () => {
  const low = () => 0;
  const high = () => 1;
  assert.equal(backoffMs(0, DEFAULT_BACKOFF, high), 0);
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffMs(n, DEFAULT_BACKOFF, low)), [
    2000,
    4000,
    8000,
    16000,
    32000,
  ]);
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffMs(n, DEFAULT_BACKOFF, high)), [
    4000,
    8000,
    16000,
    32000,
    64000,
  ]);
  assert.equal(backoffMs(6, DEFAULT_BACKOFF, low), 64000);
  assert.equal(backoffMs(20, DEFAULT_BACKOFF, low), 64000);
});

test("maxErrors() is floor(log2(max/base)) + 1 and normalizeBackoff() applies fallbacks", () => {
  assert.equal(maxErrors(DEFAULT_BACKOFF), 6);
  const n = normalizeBackoff({ ...DEFAULT_BACKOFF, base: 0, factor: 1, max: -1 });
  assert.deepEqual([n.base, n.factor, n.max], [2, 2, 64]);
});

function clockedBreaker(policy = DEFAULT_BACKOFF) {
  const clock = { t: 1_000_000 };
  const breaker = new CircuitBreaker({ policy, now: () => clock.t, random: () => 0 });
  return { clock, breaker };
}

test("CircuitBreaker blocks a failed endpoint for one backoff, then lets one probe through", () => {
  const { clock, breaker } = clockedBreaker();
  const url = "http://a/api/v2/series";
  assert.equal(breaker.tryAcquire(url), true);
  breaker.failure(url);
  assert.equal(breaker.isBlocked(url), true);
  assert.equal(breaker.tryAcquire(url), false);
  assert.equal(breaker.tryAcquire("http://a/api/beta/sketches"), true, "per endpoint");
  clock.t += 1999;
  assert.equal(breaker.tryAcquire(url), false);
  clock.t += 1;
  assert.equal(breaker.tryAcquire(url), true, "the probe");
  assert.equal(breaker.tryAcquire(url), false, "only one probe");
  breaker.failure(url);
  assert.equal(breaker.errors(url), 2);
  clock.t += 3999;
  assert.equal(breaker.isBlocked(url), true);
  clock.t += 1;
  assert.equal(breaker.tryAcquire(url), true);
  breaker.success(url);
  assert.equal(breaker.isBlocked(url), false);
  assert.equal(breaker.errors(url), 0, "recovery interval 2 forgives both errors");
});

test("CircuitBreaker counts failures of concurrent requests once and caps the error count", () => {
  const { clock, breaker } = clockedBreaker();
  const url = "http://a/x";
  for (let i = 0; i < 10; i++) breaker.failure(url);
  assert.equal(breaker.errors(url), 1);
  for (let i = 0; i < 20; i++) {
    clock.t += 100_000;
    breaker.tryAcquire(url);
    breaker.failure(url);
  }
  assert.equal(breaker.errors(url), 6);
});

test("CircuitBreaker success lowers errors by the recovery interval, or resets them", () => {
  const { clock, breaker } = clockedBreaker({ ...DEFAULT_BACKOFF, recoveryInterval: 1 });
  const url = "http://a/x";
  for (let i = 0; i < 3; i++) {
    clock.t += 100_000;
    breaker.tryAcquire(url);
    breaker.failure(url);
  }
  breaker.success(url);
  assert.equal(breaker.errors(url), 2);
  const reset = clockedBreaker({ ...DEFAULT_BACKOFF, recoveryReset: true }).breaker;
  reset.failure(url);
  reset.success(url);
  assert.equal(reset.errors(url), 0);
});
