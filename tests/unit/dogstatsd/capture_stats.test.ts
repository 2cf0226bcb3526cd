/** Capture files (round trip, bad files) and the per-context sample counts (the cap). */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CaptureWriter, MetricStats, readCapture } from "../../../src/dogstatsd/mod.ts";
import type { MetricSample } from "../../../src/metrics/model.ts";
import { tempDir } from "../../_temp.ts";

const dir = tempDir("outpost-capture-unit-");

const sample = (name: string, tags: string[] = []): MetricSample => ({
  name,
  value: 1,
  type: "counter",
  tags,
  host: "",
  sampleRate: 1,
  timestamp: 0,
});

describe("capture files", () => {
  it("keep every datagram's bytes (any byte, empty too) and arrival time, in order", () => {
    const path = join(dir, "sub", "a.bin");
    const w = new CaptureWriter(path);
    const datagrams = [
      { at: 1_700_000_000_123.5, data: new TextEncoder().encode("a:1|c\nb:2|g") },
      { at: 1_700_000_000_124, data: new Uint8Array([0, 255, 10, 13]) },
      { at: 1_700_000_000_125, data: new Uint8Array() },
    ];
    for (const d of datagrams) w.write(d.data, d.at);
    w.close();
    assert.equal(w.datagrams, 3);
    assert.equal(w.bytes, 15);
    assert.deepEqual(
      readCapture(readFileSync(path)).map((d) => ({ at: d.at, data: [...d.data] })),
      datagrams.map((d) => ({ at: d.at, data: [...d.data] })),
    );
  });

  it("refuses a file without the header and one cut inside a record", () => {
    assert.throws(
      () => readCapture(new TextEncoder().encode("a:1|c\n")),
      /Not a capture file: it does not start with the outpost capture header/,
    );
    const path = join(dir, "cut.bin");
    const w = new CaptureWriter(path);
    w.write(new TextEncoder().encode("abcdef"), 1);
    w.close();
    const whole = readFileSync(path);
    writeFileSync(path, whole.subarray(0, whole.length - 2));
    assert.throws(() => readCapture(readFileSync(path)), /the record at byte \d+ is cut short/);
    assert.throws(
      () => readCapture(whole.subarray(0, whole.length - 10)),
      /a record header is cut at byte \d+/,
    );
  });
});

describe("MetricStats", () => {
  it("counts one context per name and tag set, whatever the tags' order or repeats", () => {
    const s = new MetricStats();
    s.record([sample("a", ["y", "x"]), sample("a", ["x", "y", "x"]), sample("a"), sample("b")]);
    assert.deepEqual(s.snapshot().stats.map((x) => [x.Name, x.Tags, x.Count]), [
      ["a", "x,y", 2],
      ["a", "", 1],
      ["b", "", 1],
    ]);
  });

  it("past the cap, counts new contexts as untracked and keeps counting the known ones", () => {
    const s = new MetricStats(2);
    s.record([sample("a"), sample("b"), sample("c"), sample("d"), sample("a")]);
    const snap = s.snapshot();
    assert.deepEqual(snap.stats.map((x) => [x.Name, x.Count]), [["a", 2], ["b", 1]]);
    assert.equal(snap.untrackedSamples, 2);
  });
});
