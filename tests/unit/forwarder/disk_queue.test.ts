import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  decodeFile,
  DISK_FORMAT_VERSION,
  DiskQueue,
  encodeFile,
} from "../../../src/forwarder/_disk_queue.ts";
import { writeFileAtomic } from "../../../src/fs/mod.ts";
import { makeTransaction, type Transaction } from "../../../src/forwarder/_transaction.ts";

const KEY = "abcdef0123456789abcdef0123456789";

function tx(createdAt: number, text = `body-${createdAt}`, apiKey = KEY): Transaction {
  return makeTransaction({
    domain: "http://d",
    route: "/api/v2/series",
    apiKey,
    headers: { "DD-Api-Key": apiKey, "Content-Encoding": "zstd" },
    body: new TextEncoder().encode(text),
    storable: true,
    kind: "series",
    createdAt,
  });
}

function setup(options: { maxBytes?: number; keys?: string[] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "outpost-disk-"));
  const drops: Record<string, number> = {};
  const queue = new DiskQueue({
    dir,
    domain: "http://d",
    apiKeys: options.keys ?? [KEY],
    maxBytes: options.maxBytes ?? 1024 * 1024,
    onDrop: (reason, n) => (drops[reason] = (drops[reason] ?? 0) + n),
  });
  queue.open();
  return { dir, drops, queue, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const text = (t: Transaction) => new TextDecoder().decode(t.body);

test("encodeFile() round-trips through decodeFile() with a version and without the API key", () => {
  const data = encodeFile([tx(1), tx(2, "second")]);
  assert.equal(new TextDecoder().decode(data.subarray(0, 8)), "OUTPOSTQ");
  assert.equal(new DataView(data.buffer).getUint32(8), DISK_FORMAT_VERSION);
  assert.ok(!new TextDecoder().decode(data).includes(KEY));
  const decoded = decodeFile(data);
  assert.ok(decoded.ok);
  assert.deepEqual(decoded.entries.map((e) => new TextDecoder().decode(e.body)), [
    "body-1",
    "second",
  ]);
  assert.deepEqual(decoded.entries[0].meta.headers, { "Content-Encoding": "zstd" });
});

test("decodeFile() rejects another version and torn files", () => {
  const data = encodeFile([tx(1)]);
  const other = data.slice();
  new DataView(other.buffer).setUint32(8, 99);
  assert.deepEqual(decodeFile(other), { ok: false, reason: "disk_format_version" });
  assert.deepEqual(decodeFile(data.subarray(0, data.length - 1)), {
    ok: false,
    reason: "disk_corrupt",
  });
  assert.deepEqual(decodeFile(new Uint8Array(3)), { ok: false, reason: "disk_corrupt" });
});

test("writeFileAtomic() leaves only the final file", () => {
  const { dir, cleanup } = setup();
  writeFileAtomic(join(dir, "a.retry"), new Uint8Array([1, 2, 3]));
  writeFileAtomic(join(dir, "a.retry"), new Uint8Array([4]));
  assert.deepEqual(readdirSync(dir), ["a.retry"]);
  assert.deepEqual([...readFileSync(join(dir, "a.retry"))], [4]);
  cleanup();
});

test("DiskQueue replays files oldest first and deletes a file only when all of it is delivered", () => {
  const { dir, queue, cleanup } = setup();
  assert.equal(queue.store([tx(30), tx(40)]), null);
  assert.equal(queue.store([tx(10), tx(20)]), null);
  assert.equal(queue.files, 2);
  assert.equal(queue.waiting, 4);
  const first = queue.loadOldest(Infinity);
  assert.deepEqual(first.map(text), ["body-10", "body-20"]);
  assert.equal(first[0].apiKey, KEY);
  assert.equal(first[0].headers["DD-Api-Key"], KEY);
  assert.deepEqual(queue.loadOldest(Infinity).map(text), ["body-30", "body-40"]);
  queue.settle(first[0].origin!, "done");
  assert.equal(queue.files, 2, "half delivered: still there");
  queue.settle(first[1].origin!, "done");
  assert.equal(queue.files, 1);
  assert.equal(readdirSync(dir).length, 1);
  cleanup();
});

test("DiskQueue rewrites a partly delivered file with what is left, and a new run replays it", () => {
  const { dir, queue, drops, cleanup } = setup();
  queue.store([tx(1), tx(2), tx(3)]);
  const loaded = queue.loadOldest(Infinity);
  queue.settle(loaded[0].origin!, "done");
  queue.settle(loaded[1].origin!, "evicted");
  queue.persistLoaded(); // the agent stops with loaded[2] still in memory
  assert.equal(queue.waiting, 2);
  const next = new DiskQueue({
    dir,
    domain: "http://d",
    apiKeys: [KEY],
    maxBytes: 1 << 20,
    onDrop: () => {},
  });
  next.open();
  assert.deepEqual(next.loadOldest(Infinity).map(text), ["body-2", "body-3"]);
  assert.deepEqual(drops, {});
  cleanup();
});

test("DiskQueue.loadOldest() loads at most its budget and leaves the rest loadable", () => {
  const { queue, cleanup } = setup();
  queue.store([tx(1, "x".repeat(100)), tx(2, "y".repeat(100)), tx(3, "z".repeat(100))]);
  const part = queue.loadOldest(150);
  assert.equal(part.length, 1);
  assert.equal(queue.loadOldest(150).length, 0, "the file is loaded until settled");
  queue.settle(part[0].origin!, "done");
  assert.equal(queue.waiting, 2);
  assert.equal(queue.loadOldest(250).length, 2);
  cleanup();
});

test("DiskQueue makes room by removing the oldest files and counts them", () => {
  const big = "b".repeat(400);
  const { queue, drops, cleanup } = setup({ maxBytes: 1500 });
  assert.equal(queue.store([tx(1, big)]), null);
  assert.equal(queue.store([tx(2, big)]), null);
  assert.equal(queue.store([tx(3, big)]), null);
  assert.equal(drops.disk_full, 1);
  assert.deepEqual(queue.loadOldest(Infinity).map((t) => t.createdAt), [2]);
  assert.equal(queue.store([tx(4, "c".repeat(5000))]), "disk_full");
  cleanup();
});

test("DiskQueue.open() removes temp leftovers and outdated files, counting the transactions", () => {
  const { dir, cleanup } = setup();
  const q = new DiskQueue({
    dir,
    domain: "http://d",
    apiKeys: [KEY],
    maxBytes: 1 << 20,
    onDrop: () => {},
  });
  q.open();
  q.store([tx(1), tx(2)]);
  q.store([tx(5)]);
  const [old] = readdirSync(dir).sort();
  const past = new Date(Date.now() - 11 * 86_400_000);
  utimesSync(join(dir, old), past, past);
  writeFileSync(join(dir, ".tmp-000000000000009-aaaa-1.retry"), "torn");
  const drops: Record<string, number> = {};
  const again = new DiskQueue({
    dir,
    domain: "http://d",
    apiKeys: [KEY],
    maxBytes: 1 << 20,
    onDrop: (r, n) => (drops[r] = n),
  });
  again.open();
  assert.deepEqual(drops, { disk_outdated: 2 });
  assert.equal(readdirSync(dir).length, 1);
  assert.equal(again.waiting, 1);
  cleanup();
});

test("DiskQueue drops transactions whose API key is no longer configured", () => {
  const { dir, queue, cleanup } = setup();
  queue.store([tx(1), tx(2, "other", "another-key")]);
  const drops: Record<string, number> = {};
  const next = new DiskQueue({
    dir,
    domain: "http://d",
    apiKeys: [KEY],
    maxBytes: 1 << 20,
    onDrop: (r, n) => (drops[r] = n),
  });
  next.open();
  assert.deepEqual(next.loadOldest(Infinity).map(text), ["body-1"]);
  assert.deepEqual(drops, { api_key_unknown: 1 });
  cleanup();
});

test("DiskQueue with maxBytes 0 is disabled and stores nothing", () => {
  const { queue, cleanup } = setup({ maxBytes: 0 });
  assert.equal(queue.enabled, false);
  assert.equal(queue.store([tx(1)]), "disk_disabled");
  cleanup();
});
