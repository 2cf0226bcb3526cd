/**
 * The logs sender through the real forwarder to the real local intake on 127.0.0.1: batches,
 * headers, compression, ordered acks, drops and retries driven by the intake's fault queue.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runtime } from "../../src/runtime/mod.ts";
import { Registry } from "../../src/telemetry/mod.ts";
import { buildIntake, pointAtIntake } from "../../src/intake/mod.ts";
import type { LogMessage, LogSource, Origin } from "../../src/logs/mod.ts";
import { LOGS_PIPELINE, LOGS_UNRELIABLE_PIPELINE, logsSenderSettings } from "../../src/logs/mod.ts";
import { LogsSender } from "../../src/logs/_sender.ts";
import { emptyInfo } from "../../src/logs/_message.ts";
import { quiet, testConfig, testForwarder, until } from "../unit/forwarder/_helpers.ts";
import { tempDir } from "../_temp.ts";

const encoder = new TextEncoder();

function fileSource(path: string): LogSource {
  return {
    name: "app",
    type: "file",
    config: { path, service: "web", source: "nginx" } as LogSource["config"],
    status: { state: "ok" },
    info: emptyInfo(),
  };
}

function message(source: LogSource, text: string, offset: number): LogMessage {
  return {
    content: encoder.encode(text),
    status: "info",
    timestamp: Date.now(),
    hostname: "edge-1",
    service: "web",
    source: "nginx",
    tags: ["env:test", `filename:${source.config.path}`],
    origin: {
      source,
      identifier: `file:${source.config.path}`,
      offset: String(offset),
      tailingMode: "end",
      seq: offset,
    },
    rawBytes: text.length + 1,
  };
}

async function setup(overrides: Record<string, unknown> = {}) {
  const intake =
    buildIntake({ dataDir: tempDir("outpost-logs-intake-"), maxBytes: 256 * 1024 ** 2 }, {
      runtime,
    }).component;
  await intake.start();
  const base = testConfig({
    api_key: "k1",
    forwarder_storage_path: tempDir("outpost-logs-fwd-"),
    forwarder_backoff_base: 0.05,
    forwarder_backoff_max: 0.2,
    ...overrides,
  });
  const config = pointAtIntake({ ...base, api_key: "k1" }, intake.url);
  const settings = { ...logsSenderSettings(config, "7.60.0"), batchWaitMs: 50 };
  const registry = new Registry();
  const forwarder = testForwarder(runtime, {
    config,
    registry,
    logger: quiet(),
    retryIntervalMs: 50,
    validateApiKeys: false,
    pipelines: {
      [LOGS_PIPELINE]: settings.reliable,
      [LOGS_UNRELIABLE_PIPELINE]: settings.unreliable,
    },
  }).component;
  await forwarder.start();
  const acks: Origin[][] = [];
  const sender = new LogsSender(settings, {
    runtime,
    registry,
    logger: quiet(),
    submit: (p) => forwarder.submit(p),
    ack: (o) => acks.push(o),
  });
  sender.start();
  const query = async (params: string) =>
    await (await fetch(`${intake.url}/outpost/intake/logs?${params}`)).json();
  const fault = (f: Record<string, unknown>) =>
    fetch(`${intake.url}/outpost/intake/faults`, {
      method: "POST",
      body: JSON.stringify({ route: "/api/v2/logs", ...f }),
    });
  const clearFaults = () => fetch(`${intake.url}/outpost/intake/faults`, { method: "DELETE" });
  const close = async () => {
    await sender.stop(1000);
    await forwarder.stop();
    await intake.stop();
  };
  return { intake, sender, registry, acks, query, fault, clearFaults, close };
}

test("LogsSender delivers batches of at most 1000 in order, with the intake's headers", async () => {
  const { sender, registry, acks, query, intake, close } = await setup();
  const src = fileSource("/var/log/app.log");
  for (let i = 0; i < 2500; i++) sender.add(message(src, `line ${i}`, (i + 1) * 10));
  await sender.flush();
  const got = await query("service=web&limit=5000");
  assert.equal(got.count, 2500);
  assert.deepEqual(got.logs.map((l: { message: string }) => l.message), [
    ...Array.from({ length: 2500 }, (_, i) => `line ${i}`),
  ]);
  const first = got.logs[0];
  assert.equal(first.ddsource, "nginx");
  assert.equal(first.hostname, "edge-1");
  assert.equal(first.ddtags, "env:test,filename:/var/log/app.log");
  // Three batches, acked in order, each with the last offset it holds.
  assert.deepEqual(acks.map((a) => a.map((o) => o.offset)), [["10000"], ["20000"], ["25000"]]);
  const payloads = await (await fetch(`${intake.url}/outpost/intake/payloads?route=/api/v2/logs`))
    .json();
  const h = payloads.payloads[0].headers;
  assert.equal(h["content-encoding"], "zstd");
  assert.equal(h["content-type"], "application/json");
  assert.equal(h["dd-protocol"], "agent-json");
  assert.equal(h["dd-evp-origin"], "agent");
  assert.equal(h["dd-evp-origin-version"], "7.60.0");
  assert.match(h["dd-message-timestamp"], /^\d{13}$/);
  assert.match(h["dd-current-timestamp"], /^\d{13}$/);
  assert.equal(registry.read("logs-agent.LogsSent"), 2500);
  assert.ok((registry.read("logs-agent.EncodedBytesSent") as number) > 0);
  await close();
});

test("LogsSender sends gzip when compression_kind is gzip, and drops an event over the content cap", async () => {
  const { sender, registry, query, intake, close } = await setup({
    logs_config: {
      ...testConfig().logs_config,
      compression_kind: "gzip",
      batch_max_content_size: 1000,
    },
  });
  const src = fileSource("/var/log/g.log");
  sender.add(message(src, "small", 6));
  sender.add(message(src, "x".repeat(2000), 2007));
  sender.add(message(src, "after", 2013));
  await sender.flush();
  const got = await query("q=");
  assert.deepEqual(got.logs.map((l: { message: string }) => l.message), ["small", "after"]);
  assert.deepEqual(registry.read("logs-agent.DestinationLogsDropped"), { too_large: 1 });
  const payloads = await (await fetch(`${intake.url}/outpost/intake/payloads?route=/api/v2/logs`))
    .json();
  assert.equal(payloads.payloads[0].headers["content-encoding"], "gzip");
  await close();
});

test("LogsSender: a 400 is dropped and counted, a 503 is retried in place, order kept", async () => {
  const { sender, registry, acks, query, fault, close } = await setup();
  const src = fileSource("/var/log/f.log");
  await fault({ status: 400, count: 1 });
  sender.add(message(src, "refused", 1));
  await sender.flush();
  await fault({ status: 503, count: 3 });
  for (let i = 0; i < 5; i++) sender.add(message(src, `kept ${i}`, 10 + i));
  await sender.flush();
  const got = await query("q=kept");
  assert.deepEqual(got.logs.map((l: { message: string }) => l.message), [
    "kept 0",
    "kept 1",
    "kept 2",
    "kept 3",
    "kept 4",
  ]);
  assert.deepEqual(registry.read("logs-agent.DestinationLogsDropped"), { bad_request: 1 });
  // The refused batch is acked too: the registry moves past what can never be sent.
  assert.deepEqual(acks.map((a) => a[0].offset), ["1", "14"]);
  const retried = registry.read("forwarder.Transactions.Retried") as Record<string, number>;
  assert.ok(Object.values(retried).reduce((a, b) => a + b, 0) >= 3);
  await close();
});

test("LogsSender.canAccept() turns false while the intake fails, and nothing is lost after", async () => {
  const { sender, query, fault, clearFaults, close } = await setup({
    logs_config: { ...testConfig().logs_config, batch_max_size: 10 },
  });
  const src = fileSource("/var/log/slow.log");
  await fault({ status: 503, count: 1_000_000 });
  let i = 0;
  while (sender.canAccept() && i < 1000) sender.add(message(src, `m ${i}`, ++i));
  assert.ok(i < 1000, `the sender should push back while the intake fails (took ${i})`);
  await clearFaults();
  assert.ok(await until(() => sender.canAccept(), 10_000), "accepts again after recovery");
  await sender.flush();
  const got = await query("q=m%20&limit=5000");
  assert.deepEqual(
    got.logs.map((l: { message: string }) => l.message),
    Array.from({ length: i }, (_, n) => `m ${n}`),
  );
  await close();
});

test("an unreliable endpoint that is down never holds back delivery or the acks", async () => {
  const { sender, acks, query, registry, close } = await setup({
    logs_config: {
      ...testConfig().logs_config,
      // Nothing listens on port 9 of 127.0.0.1: every attempt is refused.
      additional_endpoints: [{ api_key: "u", Host: "127.0.0.1", Port: 9, is_reliable: false }],
    },
  });
  const src = fileSource("/var/log/dual.log");
  for (let i = 0; i < 3; i++) sender.add(message(src, `dual ${i}`, i + 1));
  await sender.flush();
  assert.equal((await query("q=dual")).count, 3);
  assert.deepEqual(acks.map((a) => a[0].offset), ["3"]);
  const triedUnreliable = () =>
    Object.keys(registry.read("forwarder.Transactions.Errors") as Record<string, number>)
      .some((label) => label === "http://127.0.0.1:9/api/v2/logs");
  assert.ok(await until(triedUnreliable, 5000), "the unreliable endpoint got the batch too");
  await close();
});

test("the intake's /api/v2/logs refuses what the real intake refuses, with the reason", async () => {
  const { intake, close } = await setup();
  const post = (body: string) =>
    fetch(`${intake.url}/api/v2/logs`, { method: "POST", body, headers: { "DD-API-KEY": "k" } });
  const notArray = await post('{"message":"x"}');
  assert.equal(notArray.status, 400);
  assert.match((await notArray.json()).errors[0], /JSON array/);
  const badField = await post('[{"message":"x","status":3}]');
  assert.equal(badField.status, 400);
  assert.match((await badField.json()).errors[0], /event 0: "status" must be a string/);
  const tooMany = await post(
    JSON.stringify(Array.from({ length: 1001 }, () => ({ message: "m" }))),
  );
  assert.equal(tooMany.status, 413);
  const ok = await post('[{"message":{"message":"lambda","lambda":{"arn":"a"}},"service":"fn"}]');
  assert.equal(ok.status, 202);
  const got = await (await fetch(`${intake.url}/outpost/intake/logs?service=fn`)).json();
  assert.equal(got.count, 1);
  assert.match(got.logs[0].message, /"lambda"/);
  await close();
});
