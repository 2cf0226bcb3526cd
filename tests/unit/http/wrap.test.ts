import { test } from "node:test";
import assert from "node:assert/strict";
import {
  classifyError,
  classifyStatus,
  isTransient,
  withRetry,
  withTimeout,
} from "../../../src/http/mod.ts";

test("withRetry() stops at the first outcome that is not retriable", async () => {
  const answers = [503, 502, 200, 503];
  const sleeps: number[] = [];
  const send = withRetry(async () => classifyStatus(answers.shift()!), {
    attempts: 5,
    delayMs: 100,
    backoff: 2,
    isRetriable: isTransient,
    sleep: async (ms) => void sleeps.push(ms),
  });
  assert.deepEqual(await send(undefined), { kind: "ok", status: 200, reason: "delivered" });
  assert.deepEqual(sleeps, [100, 200]);
  assert.deepEqual(answers, [503]);
});

test("withRetry() returns the last outcome once the attempts are spent, pauses capped", async () => {
  let calls = 0;
  const sleeps: number[] = [];
  const send = withRetry(async () => (calls++, classifyStatus(500)), {
    attempts: 4,
    delayMs: 100,
    backoff: 3,
    maxDelayMs: 500,
    isRetriable: isTransient,
    sleep: async (ms) => void sleeps.push(ms),
  });
  assert.equal((await send(undefined)).reason, "http_500");
  assert.equal(calls, 4);
  assert.deepEqual(sleeps, [100, 300, 500]);
  assert.throws(
    () => withRetry(send, { attempts: 0, delayMs: 0, isRetriable: () => true }),
    RangeError,
  );
});

test("withTimeout() aborts a slow attempt with a TimeoutError, which the table retries", async () => {
  const slow = (_: string, signal?: AbortSignal) =>
    new Promise<never>((_, reject) =>
      signal?.addEventListener("abort", () => reject(signal.reason))
    );
  const error = await withTimeout(slow, 20)("x").catch((e) => e);
  assert.equal(error.name, "TimeoutError");
  assert.deepEqual(classifyError(error), { kind: "retry", reason: "timeout" });
});

test("isTransient() retries network failures, 5xx, 408 and 429, not a certificate or another 4xx", () => {
  for (const s of [500, 503, 408, 429]) assert.equal(isTransient(classifyStatus(s)), true, `${s}`);
  for (const s of [200, 400, 401, 403, 404, 413]) {
    assert.equal(isTransient(classifyStatus(s)), false, `${s}`);
  }
  const refused = Object.assign(new Error("Unable to connect"), { code: "ECONNREFUSED" });
  assert.equal(isTransient(classifyError(refused)), true);
  const cert = Object.assign(new Error("unable to verify the first certificate"), {
    code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  });
  assert.deepEqual(classifyError(cert), { kind: "retry", reason: "tls" });
  assert.equal(isTransient(classifyError(cert)), false);
});
