import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hono } from "hono";
import { runtime } from "../../../src/runtime/mod.ts";
import { loadConfig } from "../../../src/config/mod.ts";
import { createLogger } from "../../../src/log/mod.ts";
import { type Agent, buildAgent } from "../../../src/agent.ts";
import { readAuthToken } from "../../../src/api/mod.ts";

let dir: string;
let agent: Agent;
let app: Hono;
let auth: Record<string, string>;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "outpost-status-api-"));
  const { config } = await loadConfig(runtime, {
    searchPaths: [],
    env: {},
    defaults: {
      run_path: dir,
      hostname: "edge-api-test",
      api_key: "0123456789abcdef0123456789abcdef",
      tags: ["b:2", "a:1"],
    },
  });
  agent = await buildAgent({
    runtime,
    config,
    configFile: null,
    logger: createLogger({ console: false }),
  });
  app = agent.component<{ name: string; app: Hono } & any>("api")!.app;
  auth = { Authorization: `Bearer ${readAuthToken(join(dir, "auth_token"))}` };
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Every route of the API, with `:params` filled in, skipping the `*` auth middleware. */
function routes(): Array<{ method: string; path: string }> {
  const seen = new Set<string>();
  return app.routes
    .filter((r) => !r.path.includes("*"))
    .map((r) => ({
      method: r.method === "ALL" ? "GET" : r.method,
      path: r.path.replace(/:[^/]+/g, "dogstatsd"),
    }))
    .filter((r) => !seen.has(`${r.method} ${r.path}`) && !!seen.add(`${r.method} ${r.path}`));
}

describe("agent API routes", () => {
  it("the route table holds the status, metadata and config routes", () => {
    const paths = routes().map((r) => r.path);
    for (
      const p of [
        "/agent/status",
        "/agent/status/sections",
        "/agent/dogstatsd/status",
        "/agent/config",
        "/agent/hostname",
        "/agent/metadata/v5",
        "/agent/version",
      ]
    ) assert.ok(paths.includes(p), `${p} in ${paths.join(", ")}`);
  });

  it("every route answers 401 without the token", async () => {
    const all = routes();
    assert.ok(all.length >= 9);
    for (const { method, path } of all) {
      const res = await app.request(path, { method });
      assert.equal(res.status, 401, `${method} ${path} answered ${res.status}`);
      await res.body?.cancel();
    }
  });

  it("GET /agent/status?format=json has the header and every built-in section", async () => {
    const res = await app.request("/agent/status?format=json", { headers: auth });
    const s = await res.json();
    for (const k of ["version", "flavor", "pid", "runtime", "runtime_version", "build_arch"]) {
      assert.ok(k in s, k);
    }
    assert.equal(s.runtime, runtime.name);
    assert.equal(s.pid, process.pid);
    assert.deepEqual(s.hostnameStats, {
      hostname: "edge-api-test",
      provider: "configuration",
      errors: {},
    });
    assert.deepEqual(
      s.dogstatsdStats.packets,
      { udp: 0, uds: 0 },
      "DogStatsD is built, nothing received",
    );
  });

  it("GET /agent/status with an unknown format falls back to text", async () => {
    const res = await app.request("/agent/status?format=xml", { headers: auth });
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    assert.match(await res.text(), /^=+\nOutpost \(v/);
  });

  it("GET /agent/status/sections lists the sections in order", async () => {
    const res = await app.request("/agent/status/sections", { headers: auth });
    assert.deepEqual(await res.json(), [
      "collector",
      "aggregator",
      "apm",
      "dogstatsd",
      "forwarder",
      "logs",
      "metadata",
    ]);
  });

  it("GET /agent/{section}/status answers one section, 404 for an unknown one", async () => {
    const ok = await app.request("/agent/metadata/status", { headers: auth });
    assert.match(await ok.text(), /^=+\nHost Metadata\n=+\n {2}Hostname: edge-api-test\n/);
    const bad = await app.request("/agent/nope/status", { headers: auth });
    assert.equal(bad.status, 404);
    assert.match(
      (await bad.json()).error,
      /Unknown status section "nope": expected one of collector, aggregator/,
    );
  });

  it("GET /agent/hostname answers a JSON string", async () => {
    const res = await app.request("/agent/hostname", { headers: auth });
    assert.equal(await res.text(), '"edge-api-test"');
  });

  it("GET /agent/config and /agent/metadata/v5 never show the API key", async () => {
    const config = await (await app.request("/agent/config", { headers: auth })).json();
    assert.equal(config.api_key, "****************************cdef");
    assert.equal(config.hostname, "edge-api-test");
    const md = await (await app.request("/agent/metadata/v5", { headers: auth })).json();
    assert.equal(md.apiKey, "****************************cdef");
    assert.deepEqual(md["host-tags"], { system: ["a:1", "b:2"] });
  });
});
