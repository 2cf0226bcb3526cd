import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runtime } from "../../src/runtime/mod.ts";
import { Registry } from "../../src/telemetry/mod.ts";
import { storageDir } from "../../src/forwarder/_settings.ts";
import {
  idPayload,
  quiet,
  Receiver,
  testConfig,
  testForwarder,
  until,
} from "../unit/forwarder/_helpers.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("forwarder stopped during an outage persists to disk and a new instance replays it all", async () => {
  const dir = mkdtempSync(join(tmpdir(), "outpost-fwd-"));
  const receiver = await new Receiver(runtime).up();
  const config = testConfig({
    dd_url: receiver.url,
    api_key: "secret-key-12345",
    forwarder_storage_path: dir,
    forwarder_retry_queue_payloads_max_size: 16 * 1024,
    forwarder_backoff_base: 0.05,
    forwarder_backoff_max: 0.2,
    forwarder_stop_timeout: 1,
    // One request at a time, so arrival order is send order.
    forwarder_max_concurrent_requests: 1,
  });
  const options = { config, logger: quiet(), retryIntervalMs: 50 };

  const first = testForwarder(runtime, { ...options, registry: new Registry() }).component;
  await first.start();
  let id = 0;
  const deliveries = [];
  for (let i = 0; i < 50; i++) deliveries.push(first.submit(idPayload(id++, 400)));
  assert.ok(await until(() => receiver.ids().length === 50));
  receiver.status = 503;
  for (let i = 0; i < 150; i++) {
    deliveries.push(first.submit(idPayload(id++, 400)));
    await sleep(2);
  }
  await first.stop();
  const statuses = new Set((await Promise.all(deliveries.map((d) => d.done))).map((r) => r.status));
  assert.deepEqual([...statuses].sort(), ["delivered", "stored"]);

  // Nothing on disk carries the API key.
  const domainDir = storageDir(config, receiver.url);
  const files = readdirSync(domainDir);
  assert.ok(files.length > 0);
  for (const f of files) {
    assert.ok(!readFileSync(join(domainDir, f)).toString("latin1").includes("secret-key-12345"));
  }

  receiver.status = 200;
  const registry = new Registry();
  const second = testForwarder(runtime, { ...options, registry }).component;
  await second.start();
  const all = () => new Set(receiver.ids()).size === id;
  assert.ok(await until(all, 20_000), `received ${new Set(receiver.ids()).size} of ${id}`);
  const ids = receiver.ids();
  console.log(
    `restart: sent ${id}, lost ${id - new Set(ids).size}, duplicates ${
      ids.length - new Set(ids).size
    }, replayed ${JSON.stringify(registry.read("forwarder.DiskQueue.Replayed"))}`,
  );
  // Replayed oldest first: the first replayed id is the oldest one not delivered before.
  const replayed = receiver.requests.filter((r) => r.status === 200).slice(50);
  const order = replayed.map((r) => JSON.parse(new TextDecoder().decode(r.body)).id);
  assert.deepEqual(order, [...order].sort((a, b) => a - b));
  assert.equal(replayed[0].headers["dd-api-key"], "secret-key-12345");
  assert.ok(await until(() => readdirSync(domainDir).length === 0), "files deleted once delivered");
  await second.stop();
  await receiver.down();
  rmSync(dir, { recursive: true, force: true });
});
