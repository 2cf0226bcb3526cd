import { test } from "node:test";
import assert from "node:assert/strict";
import { classifyError, classifyStatus } from "../../../src/http/_outcome.ts";

test("classifyStatus() delivers 2xx and 3xx", () => {
  for (const s of [200, 202, 204, 301, 307]) assert.equal(classifyStatus(s).kind, "ok");
});

test("classifyStatus() drops 400, 403 and 413 with their reason", () => {
  assert.deepEqual(classifyStatus(400), { kind: "drop", reason: "bad_request", status: 400 });
  assert.deepEqual(classifyStatus(403), { kind: "drop", reason: "api_key_invalid", status: 403 });
  assert.deepEqual(classifyStatus(413), { kind: "drop", reason: "payload_too_large", status: 413 });
});

test("classifyStatus() retries every other error, 404 included", () => {
  for (const s of [401, 404, 408, 429, 500, 502, 503, 504]) {
    assert.deepEqual(classifyStatus(s), { kind: "retry", reason: `http_${s}`, status: s });
  }
});

test("classifyError() retries timeouts and network errors, drops invalid URLs", () => {
  assert.deepEqual(classifyError(new DOMException("t", "TimeoutError")), {
    kind: "retry",
    reason: "timeout",
  });
  assert.equal(classifyError(new DOMException("a", "AbortError")).reason, "aborted");
  const refused = Object.assign(new Error("Unable to connect"), { code: "ECONNREFUSED" });
  assert.deepEqual(classifyError(refused), { kind: "retry", reason: "connection_refused" });
  assert.deepEqual(
    classifyError(new Error("error sending request: Connection refused (os error 111)")),
    {
      kind: "retry",
      reason: "connection_refused",
    },
  );
  const denoStyle = new TypeError("fetch failed", {
    cause: new Error("tcp connect error: Connection refused (os error 111)"),
  });
  assert.equal(classifyError(denoStyle).reason, "connection_refused");
  assert.deepEqual(classifyError(new Error("something odd")), { kind: "retry", reason: "network" });
  assert.equal(classifyError(new TypeError("Invalid URL: 'nope'")).kind, "drop");
});
