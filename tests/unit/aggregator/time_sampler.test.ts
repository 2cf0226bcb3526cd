import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { byName, one, sample, setup } from "./_helpers.ts";
import { sketchKey } from "../../../src/aggregator/sketch.ts";

describe("Aggregator time sampler", () => {
  it("flush() turns a counter into a per-second rate stamped with the bucket start", async () => {
    const { agg, sink, clock } = setup();
    clock.t = 1003.5;
    agg.addSamples([
      sample("hits", "counter", 5),
      sample("hits", "counter", 3, { sampleRate: 0.5 }),
    ]);
    clock.t = 1015; // cutoff = 1010: bucket [1000, 1010) is closed
    await agg.flush();
    const s = one(sink.received.series, "hits");
    // sum = 5/1 + 3/0.5 = 11 over a 10 s bucket → 1.1 per second
    assert.deepEqual(s.points, [[1000, 1.1]]);
    assert.equal(s.type, "rate");
    assert.equal(s.interval, 10);
    assert.equal(s.host, "agent-host");
    assert.equal(s.sourceTypeName, "");
  });

  it("flush() leaves open buckets for a later flush", async () => {
    const { agg, sink, clock } = setup();
    clock.t = 1012;
    agg.addSamples([sample("g", "gauge", 4)]);
    clock.t = 1015; // cutoff 1010: [1010, 1020) still open
    await agg.flush();
    assert.equal(byName(sink.received.series, "g").length, 0);
    clock.t = 1020; // cutoff 1020: now closed
    await agg.flush();
    assert.deepEqual(one(sink.received.series, "g").points, [[1010, 4]]);
  });

  it("flush() reports the last gauge value and the number of distinct set members", async () => {
    const { agg, sink, clock } = setup();
    agg.addSamples([
      sample("temp", "gauge", 1),
      sample("temp", "gauge", 7, { sampleRate: 0.1 }), // gauges ignore the rate
      sample("temp", "gauge", 3),
      sample("users", "set", NaN, { rawValue: "alice" }),
      sample("users", "set", NaN, { rawValue: "bob" }),
      sample("users", "set", NaN, { rawValue: "alice" }),
    ]);
    clock.t = 1010;
    await agg.flush();
    assert.deepEqual(one(sink.received.series, "temp").points, [[1000, 3]]);
    assert.equal(one(sink.received.series, "temp").type, "gauge");
    // {alice, bob} → 2
    assert.deepEqual(one(sink.received.series, "users").points, [[1000, 2]]);
    assert.equal(one(sink.received.series, "users").type, "gauge");
  });

  it("flush() computes histogram aggregates and percentiles from weighted samples", async () => {
    const { agg, sink, clock } = setup({
      histogramAggregates: ["max", "min", "median", "avg", "sum", "count"],
      histogramPercentiles: ["0.5", "0.95", "0.29"],
    });
    agg.addSamples([
      sample("lat", "histogram", 3),
      sample("lat", "histogram", 1),
      sample("lat", "histogram", 4, { sampleRate: 0.5 }), // weight trunc(1/0.5) = 2
      sample("lat", "histogram", 10, { sampleRate: 0.3 }), // weight trunc(3.33) = 3
      sample("lat", "histogram", 2),
    ]);
    clock.t = 1010;
    await agg.flush();
    const v = (suffix: string) => one(sink.received.series, `lat${suffix}`).points[0][1];
    // sorted (value, weight): (1,1) (2,1) (3,1) (4,2) (10,3); count = 8
    // sum = 3 + 1 + 4·2 + 10·(1/0.3) + 2 = 14 + 33.333… = 47.333…
    const sum = 3 + 1 + 4 * (1 / 0.5) + 10 * (1 / 0.3) + 2;
    assert.equal(v(".max"), 10);
    assert.equal(v(".min"), 1);
    // median target = trunc((8−1)/2) = 3; cumulative weights 1,2,3,5 → first > 3 is 4
    assert.equal(v(".median"), 4);
    assert.equal(v(".avg"), sum / 8);
    assert.equal(v(".sum"), sum);
    // .count is a rate: 8 / 10 s
    assert.equal(v(".count"), 0.8);
    assert.equal(one(sink.received.series, "lat.count").type, "rate");
    // 29th: target trunc((29·8−1)/100) = 2 → first cumulative > 2 is 3 (value 3)
    assert.equal(v(".29percentile"), 3);
    // 50th: target trunc((50·8−1)/100) = 3 → value 4
    assert.equal(v(".50percentile"), 4);
    // 95th: target trunc((95·8−1)/100) = 7 → cumulative 8 at value 10
    assert.equal(v(".95percentile"), 10);
    assert.equal(one(sink.received.series, "lat.95percentile").type, "gauge");
  });

  it("flush() uses the default aggregates max, median, avg, count and the 95th percentile", async () => {
    const { agg, sink, clock } = setup();
    agg.addSamples([1, 2, 3, 4].map((x) => sample("t", "histogram", x)));
    clock.t = 1010;
    await agg.flush();
    const names = sink.received.series.map((s) => s.name).filter((n) => n.startsWith("t."));
    assert.deepEqual(names, ["t.max", "t.median", "t.avg", "t.count", "t.95percentile"]);
    // median target trunc(3/2) = 1 → second value, 2; avg 10/4; count 4/10; p95 target trunc(379/100) = 3 → 4
    assert.deepEqual(
      sink.received.series.filter((s) => s.name.startsWith("t.")).map((s) => s.points[0][1]),
      [4, 2, 2.5, 0.4, 4],
    );
  });

  it("Aggregator skips unknown histogram aggregates and percentiles outside [0, 1], with a warning each", async () => {
    const { agg, sink, clock, lines } = setup({
      histogramAggregates: ["max", "p99"],
      histogramPercentiles: ["1.5", "abc", "0.99"],
    });
    agg.addSamples([sample("t", "histogram", 2), sample("t", "histogram", 8)]);
    clock.t = 1010;
    await agg.flush();
    const names = sink.received.series.map((s) => s.name).filter((n) => n.startsWith("t."));
    assert.deepEqual(names, ["t.max", "t.99percentile"]);
    assert.equal(
      lines.filter((l) => l.includes("WARN") && l.includes("Cannot use histogram")).length,
      3,
    );
  });

  it("flush() turns distributions into one sketch per context and bucket", async () => {
    const { agg, sink, clock } = setup();
    agg.addSamples([
      sample("d", "distribution", 1, { tags: ["env:prod"] }),
      sample("d", "distribution", 2, { tags: ["env:prod"] }),
      sample("d", "distribution", 2, { tags: ["env:prod"], sampleRate: 0.5 }),
    ]);
    clock.t = 1010;
    await agg.flush();
    assert.equal(sink.received.sketches.length, 1);
    const s = sink.received.sketches[0];
    assert.equal(s.name, "d");
    assert.deepEqual(s.tags, ["env:prod"]);
    assert.equal(s.interval, 10);
    const p = s.points[0];
    // cnt = 1 + 1 + trunc(1/0.5) = 4; sum = 1 + 2 + 2·2 = 7
    assert.deepEqual(
      { ts: p.ts, cnt: p.cnt, min: p.min, max: p.max, sum: p.sum, k: p.k, n: p.n },
      { ts: 1000, cnt: 4, min: 1, max: 2, sum: 7, k: [sketchKey(1), sketchKey(2)], n: [1, 3] },
    );
    assert.equal(p.avg, 7 / 4);
  });

  it("flush() drops NaN and infinite values and counts them", async () => {
    const { agg, sink, clock, registry } = setup();
    agg.addSamples([
      sample("g", "gauge", NaN),
      sample("g", "gauge", Infinity),
      sample("d", "distribution", -Infinity),
    ]);
    clock.t = 1010;
    await agg.flush();
    assert.equal(byName(sink.received.series, "g").length, 0);
    assert.equal(sink.received.sketches.length, 0);
    assert.deepEqual(registry.read("aggregator.Dropped"), { invalid_value: 3 });
  });

  it("addSamples() keys contexts on name, host and the tag set, whatever the order or duplicates", async () => {
    const { agg, sink, clock } = setup();
    agg.addSamples([
      sample("c", "counter", 1, { tags: ["b:2", "a:1", "a:1"] }),
      sample("c", "counter", 2, { tags: ["a:1", "b:2"] }),
      sample("c", "counter", 4, { tags: ["a:1", "b:2"], host: "agent-host" }), // "" is the agent host
      sample("c", "counter", 8, { tags: ["a:1", "b:2"], host: "other" }),
      sample("c", "counter", 16, { tags: ["a:1"] }),
    ]);
    clock.t = 1010;
    await agg.flush();
    const got = byName(sink.received.series, "c")
      .map((s) => ({ host: s.host, tags: s.tags, v: s.points[0][1] }))
      .sort((x, y) => x.v - y.v);
    assert.deepEqual(got, [
      { host: "agent-host", tags: ["a:1", "b:2"], v: (1 + 2 + 4) / 10 },
      { host: "other", tags: ["a:1", "b:2"], v: 8 / 10 },
      { host: "agent-host", tags: ["a:1"], v: 16 / 10 },
    ]);
  });

  it("flush() merges a context's points of several closed buckets into one series", async () => {
    const { agg, sink, clock } = setup();
    clock.t = 1001;
    agg.addSamples([sample("g", "gauge", 1)]);
    clock.t = 1011;
    agg.addSamples([sample("g", "gauge", 2)]);
    clock.t = 1021;
    agg.addSamples([sample("g", "gauge", 3)]);
    clock.t = 1030;
    await agg.flush();
    assert.deepEqual(one(sink.received.series, "g").points, [[1000, 1], [1010, 2], [1020, 3]]);
  });
});

describe("Aggregator counter zero-fill and expiry", () => {
  it("flush() keeps sending rate 0 for a counter until dogstatsd_expiry_seconds, then forgets it", async () => {
    const { agg, sink, clock, registry } = setup();
    clock.t = 1000;
    agg.addSamples([sample("hits", "counter", 10)]);
    const zeros: number[] = [];
    for (clock.t = 1015; clock.t <= 1400; clock.t += 15) {
      sink.clear();
      await agg.flush();
      for (const s of byName(sink.received.series, "hits")) {
        for (const [ts, v] of s.points) if (v === 0) zeros.push(ts);
      }
    }
    // With no other traffic, each flush that passed a bucket width since the previous cutoff
    // zero-fills the bucket just before its cutoff: cutoffs 1030, 1040, 1060, 1070, … give
    // buckets 1020, 1030, 1050, 1060, …. Zero-fill requires lastSample + 300 > bucket, so the
    // last zero is below 1300.
    assert.equal(zeros[0], 1020);
    assert.ok(zeros.length > 15);
    assert.ok(zeros.every((ts) => ts < 1300));
    assert.equal(zeros[zeros.length - 1], 1290);
    // expired: last sample 1000 + 20 + 300 < 1400
    assert.equal(registry.read("aggregator.DogstatsdContexts"), 0);
  });

  it("flush() zero-fills a counter in every flushed bucket that holds other series", async () => {
    const { agg, sink, clock } = setup();
    clock.t = 1000;
    agg.addSamples([sample("hits", "counter", 10)]);
    clock.t = 1015;
    await agg.flush();
    assert.deepEqual(one(sink.received.series, "hits").points, [[1000, 1]]);
    sink.clear();
    clock.t = 1016;
    agg.addSamples([sample("g", "gauge", 1)]);
    clock.t = 1021;
    agg.addSamples([sample("g", "gauge", 2)]);
    clock.t = 1030;
    await agg.flush();
    // buckets 1010 and 1020 are flushed and both get a 0 for the counter
    assert.deepEqual(one(sink.received.series, "hits").points, [[1010, 0], [1020, 0]]);
    assert.equal(one(sink.received.series, "hits").type, "rate");
  });

  it("flush() forgets a gauge context after dogstatsd_context_expiry_seconds without samples", async () => {
    const { agg, clock, registry } = setup();
    clock.t = 1000;
    agg.addSamples([sample("g", "gauge", 1), sample("c", "counter", 1)]);
    clock.t = 1015;
    await agg.flush();
    assert.equal(registry.read("aggregator.DogstatsdContexts"), 2);
    clock.t = 1020; // 1000 + 20 is not yet past
    await agg.flush();
    assert.equal(registry.read("aggregator.DogstatsdContexts"), 2);
    clock.t = 1021; // gauge idle > 20 s: gone; the counter stays for 20 + 300 s
    await agg.flush();
    assert.equal(registry.read("aggregator.DogstatsdContexts"), 1);
    assert.deepEqual(registry.read("aggregator.DogstatsdContextsByMtype"), {
      Gauge: 0,
      Counter: 1,
      Set: 0,
      Histogram: 0,
      Distribution: 0,
    });
  });

  it("flush({ all: true }) also flushes open buckets", async () => {
    const { agg, sink, clock } = setup();
    clock.t = 1004;
    agg.addSamples([sample("g", "gauge", 9)]);
    await agg.flush({ all: true });
    assert.deepEqual(one(sink.received.series, "g").points, [[1000, 9]]);
  });
});

describe("Aggregator context limit", () => {
  it("addSamples() drops samples of new contexts past dogstatsd_context_limit, counts them and tells them as losses", async () => {
    const { agg, sink, clock, registry, lines } = setup({ contextLimit: 2 });
    agg.addSamples([
      sample("a", "gauge", 1),
      sample("b", "gauge", 1),
      sample("c", "gauge", 1), // third context: dropped
      sample("a", "gauge", 2), // existing context: kept
      sample("d", "gauge", 1), // dropped
    ]);
    clock.t = 1030;
    agg.addSamples([sample("e", "gauge", 1), sample("f", "gauge", 1)]);
    assert.deepEqual(registry.read("aggregator.Dropped"), { context_limit: 4 });
    assert.deepEqual(registry.read("losses.Lost"), { "aggregator.context_limit": 4 });
    // The loss reporter writes the first line at once and rate-limits the rest (its own tests).
    const warnings = lines.filter((l) =>
      l.includes("Lost 1 samples (context_limit, dogstatsd_context_limit 2 reached")
    );
    assert.equal(warnings.length, 1);
    clock.t = 1070;
    await agg.flush();
    assert.deepEqual(one(sink.received.series, "a").points, [[1000, 2]]);
    assert.equal(byName(sink.received.series, "c").length, 0);
  });

  it("addSamples() refuses new contexts past dogstatsd_context_bytes_limit, by reason, and keeps existing ones", async () => {
    const { agg, sink, clock, registry, lines } = setup({ contextBytesLimit: 4096 });
    const tags = Array.from({ length: 40 }, (_, i) => `tag${i}:${"v".repeat(20)}`);
    agg.addSamples([sample("small", "counter", 1)]);
    const before = registry.read("aggregator.DogstatsdContextsBytes") as number;
    assert.ok(before > 0 && before < 4096, `charged ${before}`);
    // 40 tags of ~26 characters plus 32 bytes each: over 2 KB per context, so one more fits.
    agg.addSamples([
      sample("wide.a", "counter", 1, { tags }),
      sample("wide.b", "counter", 1, { tags }),
      sample("wide.c", "counter", 1, { tags }),
      sample("small", "counter", 2), // an existing context is never refused
    ]);
    assert.deepEqual(registry.read("aggregator.Dropped"), { context_bytes_limit: 2 });
    assert.ok((registry.read("aggregator.DogstatsdContextsBytes") as number) <= 4096);
    assert.equal(registry.read("aggregator.DogstatsdContexts"), 2);
    assert.ok(
      lines.some((l) =>
        l.includes("(context_bytes_limit, dogstatsd_context_bytes_limit 4096 bytes reached")
      ),
    );
    clock.t = 1015;
    await agg.flush();
    assert.deepEqual(one(sink.received.series, "small").points, [[1000, 0.3]]);
    assert.equal(one(sink.received.series, "wide.a").tags.length, 40);
    assert.equal(byName(sink.received.series, "wide.b").length, 0);
  });

  it("flush() after a burst of single-sample junk counters evicts them, so new metrics get in at once", async () => {
    const limit = 200_000;
    const { agg, sink, clock, registry, lines } = setup({ contextLimit: limit });
    const junk = Array.from({ length: limit }, (_, i) => sample(`junk.${i}`, "counter", 1));
    agg.addSamples(junk);
    agg.addSamples([sample("real.requests", "counter", 5)]); // the limit is full: refused
    assert.deepEqual(registry.read("aggregator.Dropped"), { context_limit: 1 });

    clock.t = 1015; // bucket 1000 closed: the junk's one sample each is flushed…
    await agg.flush();
    assert.equal(byName(sink.received.series, "junk.7").length, 1);
    assert.deepEqual(one(sink.received.series, "junk.7").points, [[1000, 0.1]]);
    // …and the junk is evicted, instead of zero-filling for dogstatsd_expiry_seconds (300 s).
    assert.equal(registry.read("aggregator.DogstatsdContexts"), 0);
    assert.equal(registry.read("aggregator.DogstatsdContextsEvicted"), limit);
    assert.equal(registry.read("aggregator.DogstatsdContextsBytes"), 0);
    assert.ok(lines.some((l) => l.includes(`evicted ${limit} idle contexts`)));

    sink.received.series.length = 0;
    agg.addSamples([sample("real.requests", "counter", 5)]);
    clock.t = 1030;
    await agg.flush();
    assert.deepEqual(one(sink.received.series, "real.requests").points, [[1010, 0.5]]);
    assert.deepEqual(registry.read("aggregator.Dropped"), { context_limit: 1 });
  });

  it("flush() under pressure keeps contexts that got more than one sample, and zero-fills them", async () => {
    const { agg, sink, clock, registry } = setup({ contextLimit: 10 });
    agg.addSamples([sample("steady", "counter", 1), sample("steady", "counter", 1)]);
    agg.addSamples(Array.from({ length: 9 }, (_, i) => sample(`once.${i}`, "counter", 1)));
    agg.addSamples([sample("refused", "counter", 1)]);
    clock.t = 1015;
    await agg.flush();
    assert.equal(registry.read("aggregator.DogstatsdContexts"), 1);
    assert.equal(registry.read("aggregator.DogstatsdContextsEvicted"), 9);
    sink.received.series.length = 0;
    clock.t = 1025;
    await agg.flush();
    // steady is idle but within its expiry: it still reports 0.
    assert.deepEqual(one(sink.received.series, "steady").points, [[1010, 0]]);
  });

  it("flush() without pressure keeps single-sample counters zero-filling for dogstatsd_expiry_seconds", async () => {
    const { agg, sink, clock, registry } = setup({ contextLimit: 100 });
    agg.addSamples([sample("once", "counter", 1)]);
    clock.t = 1015;
    await agg.flush();
    sink.received.series.length = 0;
    clock.t = 1200;
    await agg.flush();
    assert.ok(byName(sink.received.series, "once").length === 1);
    assert.equal(registry.read("aggregator.DogstatsdContextsEvicted"), 0);
  });
});
