import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  AgentSketch,
  SKETCH_BIN_LIMIT,
  SKETCH_MAX_BIN_COUNT,
  SKETCH_MAX_COUNT,
  sketchKey,
} from "../../../src/aggregator/sketch.ts";
import { Histogram } from "../../../src/aggregator/_histogram.ts";
import { MAX_TIMESTAMP, MIN_SAMPLE_RATE } from "../../../src/metrics/model.ts";
import { byName, one, sample, setup } from "./_helpers.ts";

describe("AgentSketch numbers at the edge", () => {
  it("insert() refuses NaN, ±Inf and rates below MIN_SAMPLE_RATE, leaving the sketch as it was", () => {
    const s = new AgentSketch();
    assert.equal(s.insert(NaN, 1), false);
    assert.equal(s.insert(Infinity, 1), false);
    assert.equal(s.insert(-Infinity, 0.5), false);
    assert.equal(s.insert(1, 1e-300), false);
    assert.equal(s.insert(1, MIN_SAMPLE_RATE / 2), false);
    assert.deepEqual(s.toPoint(0), { ts: 0, cnt: 0, min: 0, max: 0, avg: 0, sum: 0, k: [], n: [] });
  });

  it("insert() reads a rate outside (0, 1] as 1, as the agent's bounds enforcement", () => {
    const s = new AgentSketch();
    for (const rate of [0, -1, 2, NaN, Infinity]) assert.equal(s.insert(3, rate), true);
    assert.equal(s.toPoint(0).cnt, 5);
  });

  it("insert() at the smallest rate adds a million in a few bins, not a million steps", () => {
    const s = new AgentSketch();
    assert.equal(s.insert(7, MIN_SAMPLE_RATE), true);
    const p = s.toPoint(0);
    const w = Math.trunc(1 / MIN_SAMPLE_RATE);
    assert.equal(p.cnt, w);
    assert.equal(p.n.reduce((a, b) => a + b, 0), w);
    assert.equal(p.k.length, Math.ceil(w / SKETCH_MAX_BIN_COUNT));
    assert.ok(p.k.every((k) => k === sketchKey(7)));
    assert.ok(p.n.every((n) => n > 0 && n <= SKETCH_MAX_BIN_COUNT));
  });

  it("insert() refuses what would count past SKETCH_MAX_COUNT and keeps the bins bounded", () => {
    const s = new AgentSketch();
    let accepted = 0;
    // Each insert weighs ~1e6: the cap is reached after ~268 of them, on distinct keys.
    for (let i = 0; i < 400; i++) if (s.insert(1 + i, MIN_SAMPLE_RATE)) accepted++;
    const p = s.toPoint(0);
    assert.ok(accepted < 400 && accepted > 200, `accepted ${accepted}`);
    assert.ok(p.cnt <= SKETCH_MAX_COUNT);
    assert.equal(p.n.reduce((a, b) => a + b, 0), p.cnt);
    assert.ok(p.k.length <= 2 * SKETCH_BIN_LIMIT, `${p.k.length} bins`);
    assert.equal(s.insert(1, 1), SKETCH_MAX_COUNT - p.cnt >= 1);
  });

  it("insert() refuses a value whose weighted sum or mean would overflow", () => {
    const s = new AgentSketch();
    assert.equal(s.insert(1.7e308, 0.5), false); // 2 × 1.7e308 is past the largest double
    assert.equal(s.insert(1.7e308, 1), true);
    assert.equal(s.insert(1.7e308, 1), false); // the sum would overflow
    assert.equal(s.insert(-1.7e308, 1), false); // the mean's step, v − mean, would overflow
    assert.equal(s.insert(-1, 1), true);
    const p = s.toPoint(0);
    assert.equal(p.cnt, 2);
    assert.ok([p.sum, p.avg, p.min, p.max].every(Number.isFinite));
  });
});

describe("Histogram numbers at the edge", () => {
  it("add() refuses NaN, ±Inf, out-of-range rates and an overflowing sum", () => {
    const h = new Histogram();
    assert.equal(h.add(NaN, 1), false);
    assert.equal(h.add(Infinity, 1), false);
    assert.equal(h.add(1, 0), false);
    assert.equal(h.add(1, 1e-300), false);
    assert.equal(h.add(1, 2), false);
    assert.equal(h.add(1.7e308, 1), true);
    assert.equal(h.add(1.7e308, 1), false);
    assert.equal(h.add(2, MIN_SAMPLE_RATE), true);
    const out: Array<[string, number]> = [];
    h.flush(
      { aggregates: ["count", "sum", "max"], percentiles: [] },
      1,
      (suffix, _t, v) => out.push([suffix, v]),
    );
    assert.deepEqual(out, [
      [".count", 1 + Math.trunc(1 / MIN_SAMPLE_RATE)],
      [".sum", 1.7e308 + 2 / MIN_SAMPLE_RATE],
      [".max", 1.7e308],
    ]);
  });
});

describe("Aggregator numbers at the edge", () => {
  it("addSamples() counts samples whose rate, timestamp or weighted value is out of range", async () => {
    const { agg, sink, clock, registry } = setup();
    agg.addSamples([
      sample("c", "counter", 1, { sampleRate: 1e-300 }),
      sample("d", "distribution", 1, { sampleRate: 1e-9 }),
      sample("h", "histogram", 1e308, { sampleRate: 0.01 }), // × 100 overflows
      sample("c", "counter", 1.5e308),
      sample("c", "counter", 1.5e308), // the bucket's sum would overflow
      sample("g", "gauge", 1.5e308, { sampleRate: 0.01 }), // gauges ignore the rate
      sample("t", "gauge", 1, { timestamp: Infinity }),
    ], 1000);
    clock.t = 1010;
    await agg.flush();
    assert.deepEqual(registry.read("aggregator.Dropped"), {
      invalid_sample_rate: 2,
      invalid_value: 2,
      invalid_timestamp: 1,
    });
    assert.deepEqual(one(sink.received.series, "c").points, [[1000, 1.5e307]]);
    assert.deepEqual(one(sink.received.series, "g").points, [[1000, 1.5e308]]);
    assert.equal(byName(sink.received.series, "h.count").length, 0);
    assert.equal(sink.received.sketches.length, 0);
  });

  it("addSamples() drops a timestamped sample past MAX_TIMESTAMP on the no-aggregation path", async () => {
    const { agg, sink, registry } = setup();
    agg.addSamples([
      sample("late", "gauge", 1, { timestamp: MAX_TIMESTAMP + 1 }),
      sample("ok", "gauge", 1, { timestamp: MAX_TIMESTAMP }),
    ], 1000);
    await agg.flush({ now: 1010 });
    assert.deepEqual(registry.read("aggregator.Dropped"), { invalid_timestamp: 1 });
    assert.equal(byName(sink.received.series, "late").length, 0);
    assert.deepEqual(one(sink.received.series, "ok").points, [[MAX_TIMESTAMP, 1]]);
  });

  it("a check sampler refuses tiny rates, bad timestamps and overflowing counts", async () => {
    const { agg, sink, registry } = setup();
    const cs = agg.checkSampler("c:1");
    cs.addSample(sample("d", "distribution", 1, { sampleRate: 1e-300 }));
    cs.addSample(sample("d2", "distribution", 1e308, { sampleRate: 0.001 }));
    cs.addSample(sample("h", "histogram", 1, { sampleRate: 1e-7 }));
    cs.addSample(sample("t", "gauge", 1, { timestamp: -5 }));
    cs.addSample(sample("t", "gauge", 1, { timestamp: MAX_TIMESTAMP * 2 }));
    cs.addSample(sample("n", "count", 1.5e308));
    cs.addSample(sample("n", "count", 1.5e308));
    cs.addSample(sample("m", "monotonic_count", -1.5e308, { flushFirstValue: true }));
    cs.addSample(sample("m", "monotonic_count", 1.5e308, { flushFirstValue: true }));
    cs.commit(1005);
    await agg.flush({ now: 1010 });
    assert.deepEqual(registry.read("aggregator.Dropped"), { invalid_value: 7 });
    assert.deepEqual(one(sink.received.series, "n").points, [[1005, 1.5e308]]);
    assert.equal(sink.received.sketches.length, 0);
    for (const s of sink.received.series) {
      assert.ok(s.points.every(([ts, v]) => Number.isFinite(ts) && Number.isFinite(v)), s.name);
    }
  });
});
