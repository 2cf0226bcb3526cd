import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RUN_RECORD_VERSION, RunRecord } from "../../../src/forwarder/_run_record.ts";
import { tempDir } from "../../_temp.ts";

function setup() {
  const path = join(tempDir("outpost-run-"), "run", "outpost_run.json");
  let now = Date.UTC(2026, 0, 1);
  const open = (pid: number) => new RunRecord({ path, now: () => now, pid });
  return { path, open, advance: (ms: number) => (now += ms), at: () => now };
}

const read = (path: string) => JSON.parse(readFileSync(path, "utf8"));

describe("RunRecord", () => {
  it("open() finds nothing to tell on a first start, and records this run as running", () => {
    const { path, open } = setup();
    assert.equal(open(10).open(), null);
    assert.equal(read(path).state, "running");
    assert.equal(read(path).version, RUN_RECORD_VERSION);
  });

  it("open() finds nothing to tell after a clean stop", () => {
    const { open } = setup();
    const first = open(10);
    first.open();
    first.update({ transactions: 3, bytes: 300, oldestMs: 1 }, 2);
    first.close();
    assert.equal(open(11).open(), null);
  });

  it("open() tells what a run killed during an outage held in memory", () => {
    const { open, advance, at } = setup();
    const first = open(10);
    first.open();
    const started = at();
    advance(40_000);
    const oldest = at() - 38_000;
    const flushed = at() - 5_000;
    first.update({ transactions: 4, bytes: 4096, oldestMs: oldest }, flushed);
    const seen = at();
    advance(3_000); // SIGKILL: no close()
    assert.deepEqual(open(11).open(), {
      pid: 10,
      startedMs: started,
      lastSeenMs: seen,
      transactions: 4,
      bytes: 4096,
      lostSinceMs: oldest,
    });
  });

  it("open() dates the loss from the last flush when memory held no payload", () => {
    const { open, advance, at } = setup();
    const first = open(10);
    first.open();
    advance(20_000);
    first.update({ transactions: 0, bytes: 0, oldestMs: null }, at() - 1000);
    const u = open(11).open();
    assert.equal(u?.transactions, 0);
    assert.equal(u?.lostSinceMs, at() - 1000);
  });

  it("open() dates the loss from the start when nothing was ever flushed", () => {
    const { open, advance } = setup();
    const first = open(10);
    first.open();
    const started = Date.UTC(2026, 0, 1);
    advance(5_000);
    assert.equal(open(11).open()?.lostSinceMs, started);
  });

  it("update() writes only when a figure changed or the record is a minute old", () => {
    const { path, open, advance } = setup();
    const r = open(10);
    r.open();
    const held = { transactions: 1, bytes: 10, oldestMs: 5 };
    r.update(held, 6);
    const written = read(path).updatedMs;
    advance(30_000);
    r.update(held, 6);
    assert.equal(read(path).updatedMs, written, "unchanged figures are not rewritten");
    advance(30_000);
    r.update(held, 6);
    assert.equal(read(path).updatedMs, written + 60_000);
  });

  it("open() ignores a record of another version or shape", () => {
    const { path, open } = setup();
    open(10).open();
    const stale = read(path);
    writeFileSync(path, JSON.stringify({ ...stale, version: RUN_RECORD_VERSION + 1 }));
    assert.equal(open(11).open(), null);
    writeFileSync(path, JSON.stringify({ ...stale, state: "running", updatedMs: "soon" }));
    assert.equal(open(12).open(), null);
    writeFileSync(path, "{not json");
    assert.equal(open(13).open(), null);
  });

  it("open() throws when the record cannot be written", () => {
    const dir = tempDir("outpost-run-");
    writeFileSync(join(dir, "file"), "");
    const r = new RunRecord({ path: join(dir, "file", "outpost_run.json") });
    assert.throws(() => r.open(), /ENOTDIR|EEXIST|not a directory/i);
  });
});
