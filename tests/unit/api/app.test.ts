import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createApiApp } from "../../../src/api/mod.ts";
import { BUILD } from "../../../src/version.ts";

const token = "ab".repeat(32);
let stops = 0;
const app = createApiApp({
  token,
  agent: {
    health: () => ({ Healthy: ["api", "dogstatsd"], Unhealthy: ["forwarder"] }),
    requestStop: () => stops++,
  },
});
const auth = { Authorization: `Bearer ${token}` };

describe("createApiApp()", () => {
  for (
    const [method, path] of [["GET", "/agent/version"], ["GET", "/agent/status/health"], [
      "POST",
      "/agent/stop",
    ], ["GET", "/nope"]]
  ) {
    it(`answers 401 with a JSON error on ${method} ${path} without the token`, async () => {
      const res = await app.request(path, { method });
      assert.equal(res.status, 401);
      assert.deepEqual(await res.json(), {
        error: "missing bearer token in the Authorization header",
      });
    });
  }

  it("answers 401 for a wrong token of the right length", async () => {
    const res = await app.request("/agent/version", {
      headers: { Authorization: `Bearer ${"cd".repeat(32)}` },
    });
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { error: "invalid bearer token" });
  });

  it("GET /agent/version answers in the Datadog Agent's shape", async () => {
    const res = await app.request("/agent/version", { headers: auth });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.deepEqual(Object.keys(body), ["Major", "Minor", "Patch", "Pre", "Meta", "Commit"]);
    assert.equal(`${body.Major}.${body.Minor}.${body.Patch}`, BUILD.version.split("-")[0]);
  });

  it("GET /agent/status/health lists healthy and unhealthy components", async () => {
    const res = await app.request("/agent/status/health", { headers: auth });
    assert.deepEqual(await res.json(), { Healthy: ["api", "dogstatsd"], Unhealthy: ["forwarder"] });
  });

  it("POST /agent/stop answers, then asks the agent to stop", async () => {
    const res = await app.request("/agent/stop", { method: "POST", headers: auth });
    assert.equal(res.status, 200);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(stops, 1);
  });

  it("answers 404 with a JSON error for an unknown route", async () => {
    const res = await app.request("/agent/nope", { headers: auth });
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { error: "no route for GET /agent/nope" });
  });
});
