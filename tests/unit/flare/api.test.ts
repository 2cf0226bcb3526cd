import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unzipSync } from "fflate";
import { parse } from "yaml";
import { runtime } from "../../../src/runtime/mod.ts";
import { loadConfig } from "../../../src/config/mod.ts";
import { createApiApp } from "../../../src/api/mod.ts";
import { flareApiArea } from "../../../src/flare/mod.ts";

const TOKEN = "ab".repeat(32);
const API_KEY = "5ec2e7a95ec2e7a95ec2e7a95ec2e7a9";
const PROXY_PASSWORD = "hunter2-proxy";
const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function app() {
  const outDir = mkdtempSync(join(tmpdir(), "flare-api-"));
  const { config } = await loadConfig(runtime, {
    searchPaths: [],
    env: {
      DD_HOSTNAME: "api-host",
      DD_API_KEY: API_KEY,
      DD_PROXY_HTTPS: `http://bob:${PROXY_PASSWORD}@127.0.0.1:3128`,
    },
  });
  const health = { Healthy: ["api"], Unhealthy: [] };
  const area = flareApiArea({
    runtime,
    config,
    configFile: null,
    env: {},
    sources: { healthYaml: () => health, expvars: () => ({ dogstatsd: { packets: 3 } }) },
    outDir,
  });
  return createApiApp({
    token: TOKEN,
    agent: { health: () => health, requestStop() {} },
    areas: [area],
  });
}

const post = async (body: string, token = TOKEN) =>
  (await app()).request("/agent/flare", {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body,
  });

test("POST /agent/flare answers with the zip path of a flare built from the agent's sources", async () => {
  const res = await post("");
  assert.equal(res.status, 200);
  const files = unzipSync(readFileSync((await res.text()).trim()));
  assert.equal(files["api-host/local"], undefined);
  assert.deepEqual(parse(text(files["api-host/health.yaml"])), { Healthy: ["api"], Unhealthy: [] });
  assert.deepEqual(parse(text(files["api-host/expvar/dogstatsd"])), { packets: 3 });
  assert.match(text(files["api-host/flare_creation.log"]), /profiles: not requested/);
});

// Scrubbing a heap snapshot walks every string of the process: in a test process that has loaded
// the whole suite that takes seconds, more than node:test's default per-test timeout.
test("POST /agent/flare with a profile adds heap snapshots and a CPU profile from the runtime", {
  timeout: 120_000,
}, async () => {
  // Keep the CPU busy while profiling: an idle process gives a profile without samples.
  let spin = 0;
  const busy = setInterval(() => {
    const end = performance.now() + 15;
    while (performance.now() < end) spin += Math.sqrt(spin + 1);
  }, 20);
  const res = await post(JSON.stringify({ profile: 1 })).finally(() => clearInterval(busy));
  assert.equal(res.status, 200);
  const files = unzipSync(readFileSync((await res.text()).trim()));
  const cpu = JSON.parse(text(files["api-host/profiles/core-cpu.cpuprofile"]));
  assert.ok(Array.isArray(cpu.nodes) && cpu.nodes.length > 1);
  assert.ok(cpu.samples.length > 0);
  const heap = JSON.parse(text(files["api-host/profiles/core-1st-heap.heapsnapshot"]));
  assert.ok(heap.snapshot && Array.isArray(heap.nodes));
  assert.ok(files["api-host/profiles/core-2nd-heap.heapsnapshot"].length > 0);
  // A heap snapshot holds every string in memory: its strings are scrubbed too.
  for (const [name, data] of Object.entries(files)) {
    for (const secret of [API_KEY, PROXY_PASSWORD]) {
      assert.ok(!text(data).includes(secret), `${name} holds ${secret}`);
    }
  }
  assert.ok(heap.strings.some((s: string) => s.includes("*".repeat(28) + "e7a9")));
  // Profiles are scrubbed too: nothing is added as is.
  const report = JSON.parse(text(files["api-host/non_scrubbed_files.json"]));
  assert.deepEqual(report.files, []);
  assert.match(
    text(files["api-host/flare_creation.log"]),
    new RegExp(`added core-cpu.cpuprofile \\(${runtime.name}`),
  );
});

test("POST /agent/flare refuses a bad body and a missing token", async () => {
  const bad = await post(JSON.stringify({ profile: -1 }));
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).error, /Cannot parse the flare request: "profile"/);
  assert.equal((await post("", "0".repeat(64))).status, 401);
});
