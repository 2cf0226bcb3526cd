import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runtime } from "../../../src/runtime/mod.ts";
import { createLogger } from "../../../src/log/mod.ts";
import { Registry } from "../../../src/telemetry/mod.ts";
import { storageDir } from "../../../src/forwarder/_settings.ts";
import { createSend } from "../../../src/forwarder/_send.ts";
import { withTimeout } from "../../../src/http/mod.ts";
import { makeTransaction } from "../../../src/forwarder/_transaction.ts";
import {
  idPayload,
  quiet,
  Receiver,
  testConfig,
  testForwarder,
  type TestForwarderOptions,
  until,
} from "./_helpers.ts";

function setup(config: Record<string, unknown>, extra: Partial<TestForwarderOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "outpost-fwd-unit-"));
  const registry = new Registry();
  const cfg = testConfig({ forwarder_storage_path: dir, ...config });
  const { component: fwd, healthcheck } = testForwarder(runtime, {
    config: cfg,
    registry,
    logger: quiet(),
    validateApiKeys: false,
    retryIntervalMs: 50,
    env: {},
    ...extra,
  });
  return {
    dir,
    registry,
    fwd,
    healthcheck,
    cfg,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

test("submit() sends one transaction per payload × domain × API key with the spec's headers", async () => {
  const a = await new Receiver(runtime).up();
  const b = await new Receiver(runtime).up();
  const { fwd, registry, cleanup } = setup({
    dd_url: a.url,
    api_key: "k1",
    additional_endpoints: { [b.url]: ["k2", "k3"] },
  }, { version: "7.56.0" });
  await fwd.start();
  const payload = {
    ...idPayload(1),
    headers: { "Content-Type": "application/x-protobuf", "Content-Encoding": "zstd" },
  };
  assert.deepEqual(await fwd.submit(payload).done, { status: "delivered", reason: "delivered" });
  await fwd.stop();
  assert.deepEqual(a.requests.map((r) => r.headers["dd-api-key"]), ["k1"]);
  assert.deepEqual(b.requests.map((r) => r.headers["dd-api-key"]).sort(), ["k2", "k3"]);
  const h = a.requests[0].headers;
  assert.equal(a.requests[0].url, "/api/v1/series");
  assert.equal(a.requests[0].method, "POST");
  assert.equal(h["dd-agent-version"], "7.56.0");
  assert.equal(h["user-agent"], "datadog-agent/7.56.0");
  assert.equal(h["content-type"], "application/x-protobuf");
  assert.equal(h["content-encoding"], "zstd");
  assert.deepEqual(registry.read("forwarder.Transactions.Success"), {
    [`${a.url}/api/v1/series`]: 1,
    [`${b.url}/api/v1/series`]: 2,
  });
  await a.down();
  await b.down();
  cleanup();
});

test("submit() drops 400, 403 and 413 answers for good and counts each reason", async () => {
  const r = await new Receiver(runtime).up();
  const { fwd, registry, cleanup } = setup({ dd_url: r.url, api_key: "k" });
  await fwd.start();
  for (const status of [400, 403, 413]) {
    r.status = status;
    assert.equal((await fwd.submit(idPayload(status)).done).status, "rejected");
  }
  await fwd.stop();
  assert.equal(r.requests.length, 3, "never retried");
  assert.deepEqual(registry.read("forwarder.Transactions.Dropped"), {
    bad_request: 1,
    api_key_invalid: 1,
    payload_too_large: 1,
  });
  assert.deepEqual(registry.read("forwarder.Endpoints"), {
    [`${r.url}/api/v1/series`]: { success: 0, errors: 0, retries: 0, drops: 3 },
  });
  assert.deepEqual(registry.read("forwarder.Transactions.HTTPErrorsByCode"), {
    "400": 1,
    "403": 1,
    "413": 1,
  });
  await r.down();
  cleanup();
});

test("submit() retries a 503 until it is delivered", async () => {
  const r = await new Receiver(runtime).up();
  r.status = 503;
  const { fwd, registry, cleanup } = setup({
    dd_url: r.url,
    api_key: "k",
    forwarder_backoff_base: 0.01,
    forwarder_backoff_max: 0.05,
  });
  await fwd.start();
  const done = fwd.submit(idPayload(5)).done;
  assert.ok(await until(() => r.requests.length >= 2));
  r.status = 202;
  assert.deepEqual(await done, { status: "delivered", reason: "delivered" });
  await fwd.stop();
  const errors = registry.read("forwarder.Transactions.ErrorsByType") as Record<string, number>;
  assert.ok(errors.http_503 >= 1);
  assert.deepEqual(r.ids(), [5]);
  await r.down();
  cleanup();
});

test("payloads that are not storable never reach the disk, and their loss is counted", async () => {
  const r = await new Receiver(runtime).up();
  r.status = 503;
  const { fwd, registry, cfg, cleanup } = setup({
    dd_url: r.url,
    api_key: "k",
    forwarder_retry_queue_payloads_max_size: 1000,
    forwarder_stop_timeout: 0,
  });
  await fwd.start();
  const meta = { ...idPayload(1, 600), storable: false, route: "/intake/" };
  const first = fwd.submit(meta).done;
  assert.ok(await until(() => r.requests.length >= 1));
  const second = fwd.submit({ ...meta, body: idPayload(2, 600).body }).done;
  assert.deepEqual(await first, { status: "errored", reason: "retry_queue_full" });
  const storable = fwd.submit(idPayload(3, 100)).done;
  await fwd.stop();
  assert.deepEqual(await second, { status: "errored", reason: "stopped" });
  assert.deepEqual(await storable, { status: "stored", reason: "stored" });
  assert.deepEqual(registry.read("forwarder.Transactions.Dropped"), {
    retry_queue_full: 1,
    stopped: 1,
  });
  const files = readdirSync(storageDir(cfg, r.url));
  assert.equal(files.length, 1);
  await r.down();
  cleanup();
});

test("forwarder_max_concurrent_requests bounds the requests in flight", async () => {
  const r = await new Receiver(runtime).up();
  r.delayMs = 50;
  const { fwd, cleanup } = setup({
    dd_url: r.url,
    api_key: "k",
    forwarder_max_concurrent_requests: 3,
  });
  await fwd.start();
  const all = Array.from({ length: 10 }, (_, i) => fwd.submit(idPayload(i)).done);
  await Promise.all(all);
  await fwd.stop();
  assert.equal(r.maxConcurrent, 3);
  assert.equal(r.ids().length, 10);
  await r.down();
  cleanup();
});

test("withTimeout() turns a slow answer into a retry with reason timeout", async () => {
  const r = await new Receiver(runtime).up();
  r.delayMs = 300;
  const send = withTimeout(createSend(runtime), 30);
  const tx = makeTransaction({
    domain: r.url,
    route: "/api/v1/series",
    apiKey: "k",
    headers: {},
    body: new Uint8Array(1),
    storable: true,
    kind: "series",
    createdAt: 0,
  });
  assert.deepEqual(await send(tx), { kind: "retry", reason: "timeout" });
  await new Promise((res) => setTimeout(res, 350)); // let the server finish its answer
  await r.down();
});

test("API key validation results are kept for the status page and drive health", async () => {
  const r = await new Receiver(runtime).up();
  r.invalidKeys.add("bad-key-00001");
  const { fwd, healthcheck, registry, cleanup } = setup({
    dd_url: r.url,
    api_key: "good-key-00000",
    additional_endpoints: { [r.url + "/"]: ["bad-key-00001"] },
  }, { validateApiKeys: true });
  await fwd.start();
  const status = () =>
    registry.read("forwarder.APIKeyStatus") as Record<string, Record<string, string>>;
  assert.ok(await until(() => !JSON.stringify(status()).includes("unchecked")));
  assert.deepEqual(status(), {
    [r.url]: { "API key ending with 00000": "valid", "API key ending with 00001": "invalid" },
  });
  assert.equal(healthcheck(), true);
  await fwd.stop();
  r.invalidKeys.add("good-key-00000");
  const only = setup({ dd_url: r.url, api_key: "good-key-00000" }, { validateApiKeys: true });
  await only.fwd.start();
  assert.ok(await until(() => only.healthcheck() === false));
  await only.fwd.stop();
  only.cleanup();
  await r.down();
  cleanup();
});

test("storageDir() is <run_path>/transactions_to_retry/<domain> by default", () => {
  const cfg = testConfig({ run_path: "/run/outpost" });
  assert.equal(
    storageDir(cfg, "https://7-56-0-app.agent.datadoghq.com."),
    "/run/outpost/transactions_to_retry/https_7-56-0-app.agent.datadoghq.com.",
  );
  assert.ok(!existsSync("/run/outpost/transactions_to_retry"));
});

test("retries older than forwarder_storage_spill_after_seconds go to disk and are replayed", async () => {
  const r = await new Receiver(runtime).up();
  r.status = 503;
  const { fwd, cfg, cleanup } = setup({
    dd_url: r.url,
    api_key: "k",
    forwarder_storage_spill_after_seconds: 0.05,
    forwarder_backoff_base: 0.01,
    forwarder_backoff_max: 0.02,
  });
  await fwd.start();
  const deliveries = [1, 2, 3].map((id) => fwd.submit(idPayload(id)).done);
  assert.deepEqual(
    (await Promise.all(deliveries)).map((d) => d.status),
    ["stored", "stored", "stored"],
  );
  const dir = storageDir(cfg, r.url);
  // Replayed into memory while the intake still fails, they stay in their file until delivered.
  assert.ok(readdirSync(dir).length > 0);
  assert.ok(fwd.snapshot()[r.url].diskBytes > 0);
  r.status = 200;
  assert.ok(await until(() => new Set(r.ids()).size === 3));
  assert.ok(await until(() => readdirSync(dir).length === 0));
  await fwd.stop();
  await r.down();
  cleanup();
});

test("disk-cap eviction is logged with its count and reason, once per interval, and counted", async () => {
  const r = await new Receiver(runtime).up();
  r.status = 503;
  const lines: string[] = [];
  const { fwd, registry, cleanup } = setup({
    dd_url: r.url,
    api_key: "k",
    // Memory holds about one payload and the disk about three: most are evicted from disk.
    forwarder_retry_queue_payloads_max_size: 1200,
    forwarder_storage_max_size_in_bytes: 4000,
    forwarder_stop_timeout: 0,
  }, { logger: createLogger({ level: "info", write: (l) => void lines.push(l) }) });
  await fwd.start();
  for (let i = 0; i < 40; i++) fwd.submit(idPayload(i, 1000));
  await fwd.stop();
  const dropped = registry.read("forwarder.Transactions.Dropped") as Record<string, number>;
  assert.ok(dropped.disk_full > 0, JSON.stringify(dropped));
  const told = lines.filter((l) => l.includes("(disk_full)"));
  // The first eviction at once, the rest in one line at stop.
  assert.equal(told.length, 2, lines.join(""));
  const counts = told.map((l) => Number(/Lost (\d+) payloads/.exec(l)![1]));
  assert.equal(counts[0] + counts[1], dropped.disk_full);
  assert.match(told[1], new RegExp(`${dropped.disk_full} in total`));
  assert.equal(
    (registry.read("losses.Lost") as Record<string, number>)["forwarder.disk_full"],
    dropped.disk_full,
  );
  await r.down();
  cleanup();
});

test("a payload goes to its pipeline's domains; pipelines that share a URL share its queue", async () => {
  const metrics = await new Receiver(runtime).up();
  const traces = await new Receiver(runtime).up();
  const { fwd, cleanup } = setup({ dd_url: metrics.url, api_key: "k1" }, {
    pipelines: {
      traces: [{ url: traces.url, apiKeys: ["k1", "k2"] }],
      logs: [{ url: metrics.url, apiKeys: ["k1"] }],
    },
  });
  await fwd.start();
  const sent = [
    fwd.submit({ ...idPayload(1), route: "/api/v2/series" }),
    fwd.submit({ ...idPayload(2), route: "/api/v0.2/traces", pipeline: "traces" }),
    fwd.submit({ ...idPayload(3), route: "/api/v2/logs", pipeline: "logs" }),
  ];
  for (const d of sent) assert.equal((await d.done).status, "delivered");
  const unknown = await fwd.submit({ ...idPayload(4), pipeline: "nowhere" }).done;
  await fwd.stop();
  assert.deepEqual(metrics.requests.map((r) => r.url).sort(), ["/api/v2/logs", "/api/v2/series"]);
  assert.deepEqual(traces.requests.map((r) => [r.url, r.headers["dd-api-key"]]).sort(), [
    ["/api/v0.2/traces", "k1"],
    ["/api/v0.2/traces", "k2"],
  ]);
  assert.deepEqual(unknown, { status: "rejected", reason: "no_endpoint" });
  await metrics.down();
  await traces.down();
  cleanup();
});
