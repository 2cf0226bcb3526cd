import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { byName, one, sample, setup } from "./_helpers.ts";

describe("Aggregator check sampler", () => {
  it("commit() stamps every metric with the run time and source type System", async () => {
    const { agg, sink } = setup();
    const cs = agg.checkSampler("cpu:1");
    cs.addSample(sample("system.cpu.user", "gauge", 3, { tags: ["b", "a", "a"] }));
    cs.addSample(sample("system.cpu.user", "gauge", 4, { tags: ["a", "b"] }));
    cs.addSample(sample("jobs", "count", 2));
    cs.addSample(sample("jobs", "count", 5));
    cs.commit(1005);
    await agg.flush({ now: 1010 });
    assert.deepEqual(one(sink.received.series, "system.cpu.user"), {
      name: "system.cpu.user",
      points: [[1005, 4]], // last value
      tags: ["a", "b"],
      host: "agent-host",
      type: "gauge",
      interval: 0,
      sourceTypeName: "System",
    });
    // count: 2 + 5, no rate applied
    assert.deepEqual(one(sink.received.series, "jobs").points, [[1005, 7]]);
    assert.equal(one(sink.received.series, "jobs").type, "count");
  });

  it("commit() reports a rate as (v2 − v1)/(t2 − t1) and drops negative rates", async () => {
    const { agg, sink, clock } = setup();
    const cs = agg.checkSampler("net");
    clock.t = 1000;
    cs.addSample(sample("bytes", "rate", 100));
    cs.commit(1000); // one sample: nothing yet
    clock.t = 1015;
    cs.addSample(sample("bytes", "rate", 400));
    cs.commit(1015); // (400 − 100) / (1015 − 1000) = 20
    clock.t = 1030;
    cs.addSample(sample("bytes", "rate", 100));
    cs.commit(1030); // (100 − 400) / 15 < 0: dropped
    await agg.flush({ now: 1030 });
    assert.deepEqual(byName(sink.received.series, "bytes").map((s) => s.points), [[[1015, 20]]]);
    assert.equal(one(sink.received.series, "bytes").type, "gauge");
  });

  it("commit() sums positive deltas of a monotonic_count, the first sample being a baseline", async () => {
    const { agg, sink } = setup();
    const cs = agg.checkSampler("mc");
    for (const v of [10, 12, 15]) cs.addSample(sample("reqs", "monotonic_count", v));
    cs.commit(1000); // (12 − 10) + (15 − 12) = 5
    for (const v of [3, 4]) cs.addSample(sample("reqs", "monotonic_count", v));
    cs.commit(1015); // 3 < 15 is a reset (ignored), then 4 − 3 = 1
    await agg.flush({ now: 1020 });
    assert.deepEqual(byName(sink.received.series, "reqs").map((s) => s.points[0]), [[1000, 5], [
      1015,
      1,
    ]]);
    assert.equal(byName(sink.received.series, "reqs")[0].type, "count");
  });

  it("commit() flushes the first monotonic_count value and resets from 0 with flushFirstValue", async () => {
    const { agg, sink } = setup();
    const cs = agg.checkSampler("om");
    cs.addSample(sample("reqs", "monotonic_count", 10, { flushFirstValue: true }));
    cs.commit(1000); // first value as is: 10 − 0
    cs.addSample(sample("reqs", "monotonic_count", 4, { flushFirstValue: true }));
    cs.commit(1015); // 4 < 10: the counter restarted from 0, so 4
    await agg.flush({ now: 1020 });
    assert.deepEqual(byName(sink.received.series, "reqs").map((s) => s.points[0]), [[1000, 10], [
      1015,
      4,
    ]]);
  });

  it("commit() computes check histograms with .count divided by an interval of 1", async () => {
    const { agg, sink } = setup();
    const cs = agg.checkSampler("h");
    for (const v of [5, 1, 3]) cs.addSample(sample("q", "histogram", v));
    cs.commit(1000);
    await agg.flush({ now: 1010 });
    // max 5, median target trunc(2/2)=1 → 3, avg 9/3, count 3/1, p95 target trunc(284/100)=2 → 5
    assert.deepEqual(
      ["q.max", "q.median", "q.avg", "q.count", "q.95percentile"].map((n) =>
        one(sink.received.series, n).points[0][1]
      ),
      [5, 3, 3, 3, 5],
    );
  });

  it("commit() turns a historate into a histogram of the rates between samples", async () => {
    const { agg, sink, clock } = setup({
      histogramAggregates: ["max", "min", "count"],
      histogramPercentiles: [],
    });
    const cs = agg.checkSampler("hr");
    clock.t = 1000;
    cs.addSample(sample("x", "historate", 10));
    clock.t = 1010;
    cs.addSample(sample("x", "historate", 30)); // (30 − 10)/10 = 2
    clock.t = 1015;
    cs.addSample(sample("x", "historate", 60)); // (60 − 30)/5 = 6
    cs.commit(1015);
    await agg.flush({ now: 1020 });
    assert.deepEqual(
      ["x.max", "x.min", "x.count"].map((n) => one(sink.received.series, n).points[0][1]),
      [6, 2, 2],
    );
  });

  it("commit() forgets a context after 2 runs without samples", async () => {
    const { agg, sink } = setup();
    const cs = agg.checkSampler("exp");
    cs.addSample(sample("g", "gauge", 1));
    cs.commit(1000);
    cs.commit(1015);
    cs.addSample(sample("other", "gauge", 1));
    cs.commit(1030); // g: second run without samples → gone
    await agg.flush({ now: 1040 });
    assert.deepEqual(one(sink.received.series, "g").points, [[1000, 1]]);
    // A gauge that is not resampled is not re-sent
    assert.equal(byName(sink.received.series, "g").length, 1);
  });

  it("commit() turns check distributions into sketches at the run time", async () => {
    const { agg, sink } = setup();
    const cs = agg.checkSampler("d");
    cs.addSample(sample("lat", "distribution", 2));
    cs.addSample(sample("lat", "distribution", 4));
    cs.commit(1003);
    await agg.flush({ now: 1010 });
    assert.equal(sink.received.sketches.length, 1);
    assert.deepEqual(
      [sink.received.sketches[0].points[0].ts, sink.received.sketches[0].points[0].cnt],
      [1003, 2],
    );
  });
});
