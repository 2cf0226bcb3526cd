/**
 * The whole pipeline on compiled binaries: the real hot-shots client → `outpost run` (DogStatsD,
 * aggregator, serializer, forwarder) → a separate `outpost intake`. Every count the client sent
 * must sum exactly at the intake.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import StatsD from "hot-shots";
import { BIN } from "./_binary.ts";
import { freePort, freeUdpPort, waitFor } from "../../scripts/bench/_agent.ts";
import { tempDir } from "../_temp.ts";

const dir = tempDir("outpost-pipeline-");
let intakeUrl = "";
let intake: ReturnType<typeof Bun.spawn>;
let agent: ReturnType<typeof Bun.spawn>;
let agentStderr = "";
const get = async (path: string) => (await fetch(`${intakeUrl}${path}`)).json();

const COUNTS = 600;
const DISTRIBUTION = Array.from({ length: 200 }, (_, i) => i + 1); // 1..200, sum 20100
const HISTOGRAM = Array.from({ length: 120 }, (_, i) => (i % 12) * 5);

before(async () => {
  const intakePort = await freePort();
  intake = Bun.spawn({
    cmd: [BIN, "intake", "--port", String(intakePort), "--data-dir", join(dir, "intake")],
    stdout: "ignore",
    stderr: "pipe",
  });
  intakeUrl = `http://127.0.0.1:${intakePort}`;
  await waitFor(
    "the intake",
    async () => (await fetch(`${intakeUrl}/outpost/intake/stats`)).ok || undefined,
  );

  const dsdPort = await freeUdpPort();
  const config = join(dir, "datadog.yaml");
  writeFileSync(
    config,
    [
      "api_key: 0123456789abcdef0123456789abcdef",
      `dd_url: ${intakeUrl}`,
      "hostname: e2e-host",
      `cmd_port: ${await freePort()}`,
      "expvar_port: 0",
      "gui_port: -1",
      `dogstatsd_port: ${dsdPort}`,
      `run_path: ${join(dir, "run")}`,
      // Shutdown flushes the open buckets too, so everything sent is accounted for.
      "dogstatsd_flush_incomplete_buckets: true",
      "",
    ].join("\n"),
  );
  agent = Bun.spawn({ cmd: [BIN, "run", "-c", config], stdout: "ignore", stderr: "pipe" });
  (async () => {
    for await (const c of agent.stderr as ReadableStream<Uint8Array>) {
      agentStderr += new TextDecoder().decode(c);
    }
  })();
  await waitFor("the agent's DogStatsD", async () => /started on/.test(agentStderr) || undefined);

  const client = new StatsD({
    host: "127.0.0.1",
    port: dsdPort,
    maxBufferSize: 1400,
    bufferFlushInterval: 5,
  });
  for (let i = 0; i < COUNTS; i++) {
    client.increment("e2e.requests", i % 2 === 0 ? 1 : 3, ["route:/a"]);
    if (i % 50 === 49) await new Promise((r) => setTimeout(r, 5)); // keep the socket buffer drained
  }
  for (const v of DISTRIBUTION) client.distribution("e2e.size", v, ["unit:b"]);
  for (const v of HISTOGRAM) client.histogram("e2e.latency", v);
  for (let i = 1; i <= 10; i++) client.gauge("e2e.temperature", i);
  for (let i = 0; i < 3; i++) {
    client.event(`deploy ${i}`, "rolled out", { alert_type: "success" }, ["team:edge"]);
  }
  for (let i = 0; i < 4; i++) {
    client.check("e2e.can_connect", i % 2 === 0 ? 0 : 2, { message: `try ${i}` });
  }
  await new Promise<void>((r) => client.close(() => r()));
  await new Promise((r) => setTimeout(r, 300)); // the last datagrams reach the agent

  agent.kill("SIGTERM");
  assert.equal(await agent.exited, 0, agentStderr);
});

after(async () => {
  intake?.kill("SIGTERM");
  await intake?.exited;
});

describe("hot-shots → outpost run → outpost intake (compiled binaries)", () => {
  it("counters sum exactly: rate points × 10 s = what was sent", async () => {
    const s = await get("/outpost/intake/series?metric=e2e.requests");
    assert.ok(s.count > 0, "the counter arrived");
    // 300 increments of 1 and 300 of 3.
    assert.equal(Math.round(s.total * 10), 300 * 1 + 300 * 3);
    assert.ok(
      s.points.every((p: any) => p.type === "rate" && p.interval === 10 && p.host === "e2e-host"),
    );
    assert.deepEqual(s.points[0].tags, ["route:/a"]);
  });

  it("distributions arrive as sketches with every sample counted", async () => {
    const s = await get("/outpost/intake/sketches?metric=e2e.size");
    assert.equal(s.count, DISTRIBUTION.length);
    assert.equal(s.sum, 20100);
  });

  it("histograms arrive with their aggregates; .count sums to the samples sent", async () => {
    const count = await get("/outpost/intake/series?metric=e2e.latency.count");
    assert.equal(Math.round(count.total * 10), HISTOGRAM.length);
    const max = await get("/outpost/intake/series?metric=e2e.latency.max");
    assert.equal(Math.max(...max.points.map((p: any) => p.value)), 55);
    for (const suffix of ["avg", "median", "95percentile"]) {
      assert.ok(
        (await get(`/outpost/intake/series?metric=e2e.latency.${suffix}`)).count > 0,
        suffix,
      );
    }
  });

  it("gauges keep the last value", async () => {
    const g = await get("/outpost/intake/series?metric=e2e.temperature");
    assert.equal(g.points.at(-1).value, 10);
  });

  it("events and service checks arrive one for one", async () => {
    const events = await get("/outpost/intake/events");
    const deploys = events.events.filter((e: any) => String(e.msg_title).startsWith("deploy "));
    assert.equal(deploys.length, 3);
    assert.equal(deploys[0].alert_type, "success");
    const checks = await get("/outpost/intake/check_runs?check=e2e.can_connect");
    assert.equal(checks.count, 4);
    assert.deepEqual(checks.check_runs.map((c: any) => c.status).sort(), [0, 0, 2, 2]);
  });

  it("the agent reports itself: datadog.agent.running and datadog.agent.up", async () => {
    const running = await get("/outpost/intake/series?metric=datadog.agent.running");
    assert.ok(running.count > 0);
    assert.ok(running.points[0].tags.some((t: string) => t.startsWith("version:")));
    const up = await get("/outpost/intake/check_runs?check=datadog.agent.up");
    assert.ok(up.count > 0);
    assert.equal(up.check_runs[0].status, 0);
  });

  it("host metadata arrived at start", async () => {
    const md = await get("/outpost/intake/payloads?route=/intake/&kind=host_metadata");
    assert.equal(md.count, 1);
    assert.equal(md.payloads[0].content.internalHostname, "e2e-host");
  });
});
