import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { unzipSync } from "fflate";
import { parse } from "yaml";
import { runtime } from "../../../src/runtime/mod.ts";
import { loadConfig } from "../../../src/config/mod.ts";
import { createApiApp } from "../../../src/api/mod.ts";
import { flareApiArea } from "../../../src/flare/mod.ts";
import { MAX_FLARE_REQUEST_BYTES } from "../../../src/flare/_api.ts";
import { tempDir } from "../../_temp.ts";

const TOKEN = "ab".repeat(32);
const API_KEY = "5ec2e7a95ec2e7a95ec2e7a95ec2e7a9";
const PROXY_PASSWORD = "hunter2-proxy";
const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function app() {
  const outDir = tempDir("flare-api-");
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

test("POST /agent/flare refuses a body that is not a JSON object, and unknown fields", async () => {
  for (
    const [body, want] of [
      ["[1,2]", /expected a JSON object such as \{"profile": 30\}, got an array/],
      ["null", /got null/],
      ["3", /got number/],
      ['{"profile":1,"extra":true}', /unknown field "extra" \(expected "profile"\)/],
      ['{"profile":"x"}', /"profile" Invalid type: Expected number/],
      ["{", /expected a JSON object/],
    ] as const
  ) {
    const res = await post(body);
    assert.equal(res.status, 400, body);
    assert.match((await res.json()).error, want, body);
  }
});

test("POST /agent/flare stops reading a body over the cap and answers 413", async () => {
  const chunk = new Uint8Array(64 * 1024).fill(0x20);
  let pulled = 0;
  const hundredMegabytes = 100 * 1024 * 1024;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= hundredMegabytes) return controller.close();
      pulled += chunk.length;
      controller.enqueue(chunk);
    },
  });
  const res = await (await app()).request("/agent/flare", {
    method: "POST",
    headers: { Authorization: `Bearer ${TOKEN}` },
    body,
    duplex: "half",
  } as RequestInit);
  assert.equal(res.status, 413);
  assert.match(
    (await res.json()).error,
    new RegExp(`the body is larger than ${MAX_FLARE_REQUEST_BYTES} bytes`),
  );
  // A few chunks past the cap at most, not the 100 MB offered.
  assert.ok(pulled <= MAX_FLARE_REQUEST_BYTES + 4 * chunk.length, `read ${pulled} bytes`);
});

test("POST /agent/flare refuses a Content-Length over the cap without reading the body", async () => {
  const res = await (await app()).request("/agent/flare", {
    method: "POST",
    headers: { Authorization: `Bearer ${TOKEN}`, "Content-Length": String(100 * 1024 * 1024) },
    body: "{}",
  });
  assert.equal(res.status, 413);
  assert.match((await res.json()).error, /larger than/);
});
