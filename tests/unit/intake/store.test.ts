import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { IntakeStore, type StoredRecord } from "../../../src/intake/_store.ts";
import { tempDir } from "./_support.ts";

const rec = (i: number, padding = 0) => ({
  route: "/api/v1/check_run",
  kind: "check_run",
  method: "POST",
  received_at: new Date(i * 1000).toISOString(),
  received_ms: i * 1000,
  headers: {},
  api_key_masked: "",
  wire_bytes: 0,
  decoded_bytes: 0,
  content: [{ check: `c${i}`, pad: "x".repeat(padding) }],
});

const dirBytes = (dir: string) =>
  readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);

describe("IntakeStore", () => {
  it("keeps the directory under the byte cap, removing the oldest files first and counting them", () => {
    const dir = tempDir();
    const store = new IntakeStore({ dir, maxBytes: 20_000, segmentBytes: 2_000 });
    for (let i = 0; i < 200; i++) store.append(rec(i, 300));
    const stats = store.stats();
    assert.ok(dirBytes(dir) <= 20_000 + 2_000, `dir holds ${dirBytes(dir)} bytes`);
    assert.equal(stats.bytes, dirBytes(dir));
    assert.ok(stats.evicted_files > 0);
    assert.equal(stats.records + stats.evicted_records, 200);
    const seqs = [...store.records()].map((r) => r.seq);
    // What is left is the newest records, in order, without gaps.
    assert.equal(seqs.at(-1), 200);
    assert.deepEqual(seqs, seqs.map((_, i) => seqs[0] + i));
    assert.equal(seqs[0], stats.evicted_records + 1);
  });

  it("continues numbering and finds old records after a restart", () => {
    const dir = tempDir();
    const first = new IntakeStore({ dir });
    first.append(rec(1));
    first.append(rec(2));
    const second = new IntakeStore({ dir });
    const stored: StoredRecord = second.append(rec(3));
    assert.equal(stored.seq, 3);
    assert.deepEqual([...second.records()].map((r) => r.seq), [1, 2, 3]);
    assert.equal(second.stats().records, 3);
  });

  it("counts blobs against the cap and evicts them oldest first", () => {
    const dir = tempDir();
    const store = new IntakeStore({ dir, maxBytes: 10_000, segmentBytes: 1_000 });
    const a = store.writeBlob("flare a.zip", new Uint8Array(6_000));
    assert.ok(store.hasBlob(a));
    assert.equal(store.readBlob(a)?.length, 6_000);
    const b = store.writeBlob("flare-b.zip", new Uint8Array(6_000));
    assert.equal(store.hasBlob(a), false);
    assert.equal(store.readBlob(a), null);
    assert.ok(store.hasBlob(b));
    assert.match(a, /^blob-\d{10}-flare_a\.zip$/);
    assert.equal(store.stats().evicted_files, 1);
  });

  it("skips lines without the hint before parsing", () => {
    const store = new IntakeStore({ dir: tempDir() });
    store.append(rec(1));
    store.append({ ...rec(2), route: "/api/v1/series", kind: "series_v1" });
    assert.deepEqual([...store.records('"kind":"series_v1"')].map((r) => r.seq), [2]);
  });
});
