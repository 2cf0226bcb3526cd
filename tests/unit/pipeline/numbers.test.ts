import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decoded, NOW, numbers, pipeline, seriesNamed } from "./_pipeline.ts";

const nines = "9".repeat(385);

describe("numbers at the edge, parser → aggregator → serializer", () => {
  // Issue 10, item 1: this 21-byte datagram made one sketch insert loop ~1e300/65535 times.
  test("datagram `x:1|d|@1e-300` is refused at parse and counted; the flush sends the rest", async () => {
    const p = pipeline();
    p.feed("x:1|d|@1e-300\nok:2|d\n");
    await p.flush();
    assert.deepEqual(p.registry.read("dogstatsd.ParseErrorsByReason"), {
      sample_rate_too_small: 1,
    });
    const sketches = decoded(p.sent).filter((d) => d.kind === "sketches")
      .flatMap((d) => (d.body as { sketches: any[] }).sketches);
    assert.deepEqual(sketches.map((s) => [s.metric, s.dogsketches[0].cnt]), [["ok", 1]]);
    const recent = p.registry.read("dogstatsd.RecentParseErrors") as Array<{ message: string }>;
    assert.equal(recent[0].message, "x:1|d|@1e-300");
  });

  // Issue 10, item 2: the timestamp parsed to Infinity and the varint writer looped forever.
  for (const noAggregation of [true, false]) {
    test(`datagram \`ts.inf:1|g|T\` + 385 nines is refused and counted (no-aggregation ${noAggregation})`, async () => {
      const p = pipeline({ noAggregation });
      p.feed(`ts.inf:1|g|T${nines}\nok:3|g|T${NOW - 5}\n`);
      await p.flush();
      assert.deepEqual(p.registry.read("dogstatsd.ParseErrorsByReason"), {
        timestamp_out_of_range: 1,
      });
      const all = decoded(p.sent);
      assert.equal(seriesNamed(all, "ts.inf").length, 0);
      const ok = seriesNamed(all, "ok");
      assert.deepEqual(ok.map((s) => s.points[0].value), [3]);
      for (const [path, n] of numbers(all)) assert.ok(Number.isFinite(n), path);
    });
  }

  test("extreme numbers in every field are refused by reason, and what is sent is finite", async () => {
    const p = pipeline();
    p.feed([
      "v:nan|g",
      "v:1:inf:2|h",
      `v:${nines}|c`,
      "r:1|c|@0.0000001",
      "r:1|h|@0", // unsampled, as the agent
      "r:1|d|@-3",
      "big:1e308|c|@0.001", // 1e308 × 1000 overflows: refused by the aggregator
      "big:1.7976931348623157e308|g",
      "_e{1,1}:a|b|d:-1",
      `_e{1,1}:a|b|d:${nines}`,
      "_sc|s|0|d:1700000000000",
      "_sc|s|1|d:1700000000",
    ].join("\n"));
    await p.flush();
    assert.deepEqual(p.registry.read("dogstatsd.ParseErrorsByReason"), {
      non_finite_value: 2,
      bad_value: 1,
      sample_rate_too_small: 1,
      timestamp_out_of_range: 3,
    });
    assert.deepEqual(p.registry.read("aggregator.Dropped"), { invalid_value: 1 });
    const all = decoded(p.sent);
    assert.deepEqual(seriesNamed(all, "big").map((s) => s.points[0].value), [
      1.7976931348623157e308,
    ]);
    // @0 and @-3 weigh 1: one sample in 10 s.
    assert.deepEqual(seriesNamed(all, "r.count").map((s) => s.points[0].value), [0.1]);
    const sketches = all.filter((d) => d.kind === "sketches")
      .flatMap((d) => (d.body as { sketches: any[] }).sketches);
    assert.deepEqual(sketches.map((s) => [s.metric, s.dogsketches[0].cnt]), [["r", 1]]);
    const checks = all.filter((d) => d.kind === "service_checks").flatMap((d) => d.body as any[]);
    assert.deepEqual(checks.map((c) => [c.check, c.status, c.timestamp]), [
      ["s", 1, 1700000000],
      ["datadog.agent.up", 0, NOW + 60],
    ]);
    for (const [path, n] of numbers(all)) assert.ok(Number.isFinite(n), path);
  });
});
