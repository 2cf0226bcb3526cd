import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runtime } from "../../src/runtime/mod.ts";
import { Registry } from "../../src/telemetry/mod.ts";
import {
  idPayload,
  quiet,
  Receiver,
  testConfig,
  testForwarder,
  until,
} from "../unit/forwarder/_helpers.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function outageConfig(url: string, dir: string) {
  return testConfig({
    dd_url: url,
    api_key: "k1",
    forwarder_storage_path: dir,
    // Small enough that the outage spills to disk, short backoff so the test stays short.
    forwarder_retry_queue_payloads_max_size: 16 * 1024,
    forwarder_backoff_base: 0.05,
    forwarder_backoff_max: 0.2,
    forwarder_timeout: 2,
  });
}

test("forwarder delivers every payload after a 503 and connection-refused outage", async () => {
  const dir = mkdtempSync(join(tmpdir(), "outpost-fwd-"));
  const receiver = await new Receiver(runtime).up();
  const registry = new Registry();
  const fwd = testForwarder(runtime, {
    config: outageConfig(receiver.url, dir),
    registry,
    logger: quiet(),
    retryIntervalMs: 50,
  }).component;
  await fwd.start();
  let id = 0;
  const send = async (ms: number) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      fwd.submit(idPayload(id++, 500));
      await sleep(5);
    }
  };
  await send(300);
  receiver.status = 503;
  await send(700);
  await receiver.down();
  await send(700);
  receiver.status = 200;
  await receiver.up();
  await send(300);

  const all = () => new Set(receiver.ids()).size === id;
  assert.ok(await until(all, 20_000), `received ${new Set(receiver.ids()).size} of ${id}`);
  const ids = receiver.ids();
  const lost = id - new Set(ids).size;
  const duplicates = ids.length - new Set(ids).size;
  console.log(
    `outage: sent ${id}, lost ${lost}, duplicates ${duplicates}, stored on disk ${
      JSON.stringify(registry.read("forwarder.DiskQueue.Stored"))
    }`,
  );
  assert.equal(lost, 0);
  const stored = registry.read("forwarder.DiskQueue.Stored") as Record<string, number>;
  assert.ok(Object.values(stored)[0] > 0, "the outage should have spilled to disk");
  assert.deepEqual(registry.read("forwarder.Transactions.Dropped"), {});
  await fwd.stop();
  assert.equal(fwd.snapshot()[receiver.url].diskFiles, 0);
  await receiver.down();
  rmSync(dir, { recursive: true, force: true });
});
