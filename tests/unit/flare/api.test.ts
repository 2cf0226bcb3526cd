import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { unzipSync } from "fflate";
import { parse } from "yaml";
import { MAX_FLARE_REQUEST_BYTES } from "../../../src/flare/_api.ts";
import { runtime } from "../../../src/runtime/mod.ts";
import { tempDir } from "../../_temp.ts";
import { API_KEY, app as flareApp, postFlare, PROXY_PASSWORD, TOKEN } from "./_api_app.ts";
import { profiledFlare } from "./_profiled_flare.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const app = () => flareApp(tempDir("flare-api-"));
const post = (body: string, token = TOKEN) => postFlare(tempDir("flare-api-"), body, token);

test("POST /agent/flare answers with the zip path of a flare built from the agent's sources", async () => {
  const res = await post("");
  assert.equal(res.status, 200);
  const files = unzipSync(readFileSync((await res.text()).trim()));
  assert.equal(files["api-host/local"], undefined);
  assert.deepEqual(parse(text(files["api-host/health.yaml"])), { Healthy: ["api"], Unhealthy: [] });
  assert.deepEqual(parse(text(files["api-host/expvar/dogstatsd"])), { packets: 3 });
  assert.match(text(files["api-host/flare_creation.log"]), /profiles: not requested/);
});

// The flare is built in a fresh process (see _profiled_flare.ts): a heap snapshot of this runner,
// which may have loaded the whole suite, takes a minute to scrub.
test("POST /agent/flare with a profile adds heap snapshots and a CPU profile from the runtime", {
  timeout: 60_000,
}, async () => {
  const files = unzipSync(readFileSync(await profiledFlare("api", tempDir("flare-api-"))));
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
