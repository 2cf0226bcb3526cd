import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DB_FILE, IntakeStore, type StoredRecord } from "../../../src/intake/_store.ts";
import { querySeries } from "../../../src/intake/_queries.ts";
import { runtime, tempDir } from "./_support.ts";

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

/** A v2 series payload as the decoder gives it: `n` series of `points` points each. */
const seriesRec = (i: number, n: number, points: number) => ({
  ...rec(i),
  route: "/api/v2/series",
  kind: "series",
  content: {
    series: Array.from({ length: n }, (_, s) => ({
      metric: `m.${s % 7}`,
      type: "gauge",
      interval: 10,
      tags: [`s:${s}`, "env:test"],
      resources: [{ type: "host", name: "h" }],
      points: Array.from({ length: points }, (_, p) => ({ timestamp: i * 100 + p, value: p })),
      unit: "",
      source_type_name: "",
    })),
  },
});

const open = (dir: string, maxBytes?: number) => new IntakeStore({ dir, runtime, maxBytes });
const fileBytes = (dir: string) =>
  readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);

describe("IntakeStore", () => {
  it("keeps under the byte cap, removing the oldest records first and counting them", () => {
    const dir = tempDir();
    const store = open(dir, 100_000);
    for (let i = 1; i <= 1000; i++) store.append(rec(i, 300));
    const stats = store.stats();
    assert.ok(stats.bytes <= 100_000, `the store counts ${stats.bytes} bytes`);
    assert.ok(stats.evicted_records > 0);
    assert.equal(stats.records + stats.evicted_records, 1000);
    const seqs = [...store.records()].map((r) => r.seq);
    // What is left is the newest records, in order, without gaps.
    assert.equal(seqs.at(-1), 1000);
    assert.deepEqual(seqs, seqs.map((_, i) => seqs[0] + i));
    assert.equal(seqs[0], stats.evicted_records + 1);
    store.close();
  });

  it("bounds the database files by the cap under a stream of series points", () => {
    const dir = tempDir();
    const cap = 2 * 1024 ** 2;
    const store = open(dir, cap);
    // About 20 times the cap in points.
    for (let i = 1; i <= 400; i++) store.append(seriesRec(i, 20, 50));
    const stats = store.stats();
    assert.ok(stats.evicted_records > 300, `evicted ${stats.evicted_records}`);
    assert.ok(stats.db_bytes <= 2 * cap, `the database takes ${stats.db_bytes} bytes`);
    assert.ok(fileBytes(dir) <= 2 * cap + 64 * 1024, `the directory holds ${fileBytes(dir)}`);
    // The points index lost exactly the evicted payloads' points.
    const all = querySeries(store, {});
    assert.equal(all.count, stats.records * 20 * 50);
    assert.equal(all.points[0].seq, stats.evicted_records + 1);
    store.close();
  });

  it("drops the tag sets no stored series has any more once the cap has turned the store over", () => {
    const store = open(tempDir(), 20_000);
    const one = (i: number, metric: string) => {
      const r = seriesRec(i, 1, 1);
      r.content.series[0].metric = metric;
      return r;
    };
    store.append(one(0, "gone.metric"));
    for (let i = 1; i <= 1200; i++) store.append(one(i, "kept.metric"));
    assert.ok(store.stats().evicted_records > 1000);
    assert.deepEqual(store.seriesContexts("gone.metric"), []);
    assert.equal(store.seriesContexts("kept.metric").length, 1);
    // A swept tag set that reports again gets a new context.
    store.append(one(1201, "gone.metric"));
    assert.equal(querySeries(store, { metric: "gone.metric" }).count, 1);
    store.close();
  });

  it("continues numbering and finds old records after a restart", () => {
    const dir = tempDir();
    const first = open(dir);
    first.append(rec(1));
    first.append(rec(2));
    first.close();
    const second = open(dir);
    const stored: StoredRecord = second.append(rec(3));
    assert.equal(stored.seq, 3);
    assert.deepEqual([...second.records()].map((r) => r.seq), [1, 2, 3]);
    assert.equal(second.stats().records, 3);
    second.close();
  });

  it("counts blobs against the cap and evicts them oldest first", () => {
    const dir = tempDir();
    const store = open(dir, 10_000);
    const a = store.writeBlob("flare a.zip", new Uint8Array(6_000).fill(1));
    assert.ok(store.hasBlob(a));
    assert.deepEqual(store.readBlob(a), new Uint8Array(6_000).fill(1));
    const b = store.writeBlob("flare-b.zip", new Uint8Array(6_000));
    assert.equal(store.hasBlob(a), false);
    assert.equal(store.readBlob(a), null);
    assert.ok(store.hasBlob(b));
    assert.match(a, /^blob-\d{10}-flare_a\.zip$/);
    assert.equal(store.stats().evicted_files, 1);
    assert.equal(store.stats().files, 1);
    store.close();
  });

  it("reads records by kind, route, name and the last n", () => {
    const store = open(tempDir());
    store.append(rec(1));
    store.append({ ...rec(2), route: "/api/v1/series", kind: "series_v1", content: {} });
    store.append(rec(3));
    const seqs = (f: Parameters<IntakeStore["records"]>[0]) =>
      [...store.records(f)].map((r) => r.seq);
    assert.deepEqual(seqs({ kind: "series_v1" }), [2]);
    assert.deepEqual(seqs({ route: "/api/v1/check_run" }), [1, 3]);
    assert.deepEqual(seqs({ route: "/api/v1/check_run", name: "c3" }), [3]);
    assert.deepEqual(seqs({ last: 2 }), [2, 3]);
    store.close();
  });

  it("answers series by metric, tag and time range from the points index", () => {
    const store = open(tempDir());
    store.append(seriesRec(1, 14, 10)); // timestamps 100..109
    store.append(seriesRec(2, 14, 10)); // timestamps 200..209
    const m0 = querySeries(store, { metric: "m.0" });
    assert.equal(m0.series, 4); // series 0 and 7 in each payload
    assert.equal(m0.count, 40);
    const tagged = querySeries(store, { metric: "m.0", tags: ["s:7"] });
    assert.equal(tagged.series, 2);
    assert.deepEqual(tagged.points.map((p) => p.seq), [...Array(10).fill(1), ...Array(10).fill(2)]);
    const ranged = querySeries(store, { metric: "m.0", from: 205, to: 300 });
    assert.equal(ranged.series, 2);
    assert.equal(ranged.count, 10);
    assert.equal(ranged.total, 2 * (5 + 6 + 7 + 8 + 9));
    assert.deepEqual(ranged.points[0], {
      metric: "m.0",
      type: "gauge",
      interval: 10,
      host: "h",
      tags: ["s:0", "env:test"],
      source_type_name: "",
      value: 5,
      timestamp: 205,
      route: "/api/v2/series",
      seq: 2,
    });
    assert.equal(querySeries(store, { metric: "nope" }).series, 0);
    store.close();
  });

  it("imports a JSON-lines store once, keeping sequence numbers and flare archives", () => {
    const dir = tempDir();
    const line = (seq: number, r: object) => JSON.stringify({ v: 1, seq, ...r }) + "\n";
    writeFileSync(
      join(dir, "payloads-0000000001.jsonl"),
      line(1, rec(1)) + line(2, seriesRec(2, 2, 3)),
    );
    writeFileSync(join(dir, "blob-0000000002-flare-7-f.zip"), new Uint8Array([1, 2, 3]));
    // The last line was cut short by a crash.
    writeFileSync(
      join(dir, "payloads-0000000003.jsonl"),
      line(3, rec(3)) + line(4, rec(4)).slice(0, 30),
    );
    const store = open(dir);
    assert.deepEqual([...store.records()].map((r) => r.seq), [1, 2, 3]);
    assert.deepEqual(store.readBlob("blob-0000000002-flare-7-f.zip"), new Uint8Array([1, 2, 3]));
    assert.equal(querySeries(store, { metric: "m.1" }).count, 3);
    assert.deepEqual(readdirSync(dir).filter((f) => !f.startsWith(DB_FILE)), []);
    assert.equal(store.append(rec(5)).seq, 4);
    store.close();
    // Once: opening again finds nothing to import and keeps what it has.
    const again = open(dir);
    assert.equal(again.stats().records, 4);
    assert.equal(again.stats().files, 1);
    assert.match(again.writeBlob("x", new Uint8Array(1)), /^blob-0000000003-x$/);
    again.close();
  });

  it("refuses a database it cannot read with a message naming it", () => {
    const dir = tempDir();
    writeFileSync(join(dir, DB_FILE), "not a database, just text ".repeat(200));
    assert.throws(() => open(dir), /Cannot open the intake store .*intake\.sqlite: /);
    const newer = tempDir();
    const db = runtime.openSqlite(join(newer, DB_FILE));
    db.exec("PRAGMA user_version = 99");
    db.close();
    assert.throws(() => open(newer), /schema version 99 is newer than this outpost's \(1\)/);
  });
});
