/**
 * The disk queue on a real, tiny filesystem (a 64 KiB tmpfs, mounted by the test: it runs as
 * root): a write that runs out of space leaves no temp file behind, and the payloads it could
 * not store are counted, logged with the error, and shown in status.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runtime } from "../../src/runtime/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { Registry } from "../../src/telemetry/mod.ts";
import { storageDir } from "../../src/forwarder/_settings.ts";
import { DiskQueue } from "../../src/forwarder/_disk_queue.ts";
import { writeFileAtomic } from "../../src/fs/mod.ts";
import { makeTransaction } from "../../src/forwarder/_transaction.ts";
import { forwarderStatusProvider, PLAIN } from "../../src/status/mod.ts";
import { idPayload, Receiver, testConfig, testForwarder } from "../unit/forwarder/_helpers.ts";

const KEY = "enospc-test-key-123456";
const parent = mkdtempSync(join(tmpdir(), "outpost-enospc-"));
const small = join(parent, "small");

before(() => {
  mkdirSync(small);
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", small]);
});

after(() => {
  execFileSync("umount", [small]);
  rmSync(parent, { recursive: true, force: true });
});

/** Every file under `dir`, recursively, by name. */
function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile()).map((e) => e.name);
}

test("writeFileAtomic() removes its temp file when the disk is full, and throws ENOSPC", () => {
  const path = join(small, "big.retry");
  assert.throws(() => writeFileAtomic(path, new Uint8Array(256 * 1024)), { code: "ENOSPC" });
  assert.deepEqual(readdirSync(small), []);
  writeFileAtomic(path, new Uint8Array(1024)); // the space is back
  assert.deepEqual(readdirSync(small), ["big.retry"]);
  rmSync(path);
});

test("DiskQueue.store() on a full disk returns disk_write_failed, reports ENOSPC, leaves nothing", () => {
  const dir = join(small, "queue");
  const errors: string[] = [];
  const queue = new DiskQueue({
    dir,
    domain: "http://d",
    apiKeys: [KEY],
    maxBytes: 10 * 1024 * 1024,
    maxDiskRatio: 1, // only the real write may fail
    onDrop: () => {},
    onWriteError: (code) => void errors.push(code),
  });
  queue.open();
  const tx = makeTransaction({
    domain: "http://d",
    route: "/api/v2/series",
    apiKey: KEY,
    headers: {},
    body: new Uint8Array(200 * 1024),
    storable: true,
    kind: "series",
    createdAt: 1,
  });
  assert.equal(queue.store([tx]), "disk_write_failed");
  assert.deepEqual(errors, ["ENOSPC"]);
  assert.deepEqual(readdirSync(dir), []);
  assert.equal(queue.files, 0);
  assert.equal(queue.bytes, 0);
  rmSync(dir, { recursive: true });
});

test("a forwarder stopped during an outage with a full disk counts, logs and shows its losses", async () => {
  const receiver = await new Receiver(runtime).up();
  receiver.status = 503;
  const lines: string[] = [];
  const registry = new Registry();
  const config = testConfig({
    dd_url: receiver.url,
    api_key: KEY,
    forwarder_storage_path: join(small, "fwd"),
    forwarder_storage_max_disk_ratio: 1,
    forwarder_stop_timeout: 1,
  });
  const forwarder = testForwarder(runtime, {
    config,
    registry,
    logger: createLogger({ level: "info", write: (l) => void lines.push(l) }),
    validateApiKeys: false,
  }).component;
  await forwarder.start();
  const deliveries = Array.from({ length: 40 }, (_, i) => forwarder.submit(idPayload(i, 4096)));
  await forwarder.stop(); // 160 KB to persist into 64 KiB
  const results = await Promise.all(deliveries.map((d) => d.done));
  const lost = results.filter((r) => r.reason === "disk_write_failed").length;
  assert.ok(lost > 0, JSON.stringify(results.slice(0, 3)));
  const writeErrors = registry.read("forwarder.DiskQueue.WriteErrors") as Record<string, number>;
  assert.deepEqual(Object.keys(writeErrors), ["ENOSPC"]);
  const dropped = registry.read("forwarder.Transactions.Dropped") as Record<string, number>;
  assert.equal(dropped.disk_write_failed, lost);
  const told = lines.filter((l) => l.includes("(disk_write_failed"));
  assert.equal(told.length, 1, lines.join(""));
  assert.match(told[0], new RegExp(`Lost ${lost} payloads .*last error: .*ENOSPC`));
  const status = forwarderStatusProvider(registry);
  const text = status.text(await status.data(), PLAIN);
  assert.match(text, new RegExp(`Lost by reason: ${lost} \\(disk_write_failed=${lost}\\)`));
  assert.match(text, /Disk write errors: \d+ \(ENOSPC=\d+\)/);
  assert.ok(
    allFiles(storageDir(config, receiver.url)).every((f) => !f.startsWith(".tmp-")),
    "no temp file left",
  );
  await receiver.down();
});
