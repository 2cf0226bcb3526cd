import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  ADAPTIVE_CONTINUOUS_SPAN_MS,
  ADAPTIVE_FREQUENT_MS,
  ADAPTIVE_MIN_INVOCATIONS,
  ADAPTIVE_PERIOD_MS,
  ADAPTIVE_RACE_MS,
  DEFAULT_PERIOD_MS,
  type FlushDecision,
  FlushPlanner,
  MAX_BACKOFF_MS,
  parseFlushStrategy,
  strategyName,
} from "../../../src/serverless/mod.ts";

describe("parseFlushStrategy", () => {
  it("understands end, end,<ms>, periodically[,<ms>] and continuously,<ms>", () => {
    assert.deepEqual(parseFlushStrategy("end"), { strategy: { kind: "end" } });
    assert.deepEqual(parseFlushStrategy(" Periodically "), {
      strategy: { kind: "periodically", intervalMs: DEFAULT_PERIOD_MS },
    });
    assert.deepEqual(parseFlushStrategy("periodically,60000"), {
      strategy: { kind: "periodically", intervalMs: 60_000 },
    });
    assert.deepEqual(parseFlushStrategy("end,1000"), {
      strategy: { kind: "end-periodically", intervalMs: 1_000 },
    });
    assert.deepEqual(parseFlushStrategy("continuously,30000"), {
      strategy: { kind: "continuously", intervalMs: 30_000 },
    });
    assert.deepEqual(parseFlushStrategy(""), { strategy: { kind: "adaptive" } });
    assert.deepEqual(parseFlushStrategy("default"), { strategy: { kind: "adaptive" } });
    for (const v of ["end", "end,1000", "periodically,5", "continuously,20000"]) {
      assert.equal(strategyName(parseFlushStrategy(v).strategy), v);
    }
  });

  it("falls back to adaptive with a warning naming the key", () => {
    for (const v of ["periodically,0", "periodically,x", "continuously", "end,", "never"]) {
      const { strategy, warning } = parseFlushStrategy(v);
      assert.deepEqual(strategy, { kind: "adaptive" }, v);
      assert.match(warning!, /serverless_flush_strategy: expected end, end,<ms>/);
    }
  });
});

/** The decisions of `n` invocations `gapMs` apart, the first `gapMs` after the start. */
function decisions(planner: FlushPlanner, n: number, gapMs: number, t0 = 0): FlushDecision[] {
  return Array.from({ length: n }, (_, i) => planner.decide(t0 + (i + 1) * gapMs));
}

describe("FlushPlanner", () => {
  it("end decides end at every invocation; its race timer is 15 minutes", () => {
    const p = new FlushPlanner({ kind: "end" }, 0);
    assert.deepEqual(decisions(p, 3, 100), ["end", "end", "end"]);
    assert.equal(p.raceMs, 15 * 60_000);
    assert.equal(p.racesWhileWaiting, false);
  });

  it("periodically, continuously and end,<ms> decide once their interval has passed", () => {
    // Invocations every 400 ms, interval 1 s: at 1200 and 2400.
    const expect = (d: FlushDecision) => ["dont", "dont", d, "dont", "dont", d];
    for (
      const [kind, d] of [
        ["periodically", "periodic"],
        ["continuously", "continuous"],
        ["end-periodically", "end"],
      ] as const
    ) {
      const p = new FlushPlanner({ kind, intervalMs: 1_000 }, 0);
      assert.deepEqual(decisions(p, 6, 400), expect(d), kind);
      assert.equal(p.raceMs, 1_000);
    }
  });

  it("adaptive: end until 20 invocations, then continuously (20 s) when 20 fit in 30 s", () => {
    const p = new FlushPlanner({ kind: "adaptive" }, 0);
    assert.equal(p.raceMs, ADAPTIVE_RACE_MS);
    assert.equal(p.racesWhileWaiting, true);
    const d = decisions(p, 30, 1_000);
    assert.deepEqual(d.slice(0, ADAPTIVE_MIN_INVOCATIONS - 1), Array(19).fill("end"));
    // The 20th is at 20 s: the interval (20 s since the start) has passed.
    assert.equal(d[19], "continuous");
    assert.deepEqual(d.slice(20), Array(10).fill("dont"), "20 s have not passed again");
    assert.equal(p.decide(40_000), "continuous");
  });

  it("adaptive: periodically (20 s) when invocations are frequent but 20 span 30 s or more", () => {
    const gap = Math.ceil(ADAPTIVE_CONTINUOUS_SPAN_MS / (ADAPTIVE_MIN_INVOCATIONS - 1));
    const p = new FlushPlanner({ kind: "adaptive" }, 0);
    const d = decisions(p, 21, gap);
    assert.equal(d[18], "end");
    assert.equal(d[19], "periodic");
    assert.equal(d[20], "dont", `${gap} ms later: within ${ADAPTIVE_PERIOD_MS} ms`);
  });

  it("adaptive stays end when invocations come 120 s apart or more on average", () => {
    const p = new FlushPlanner({ kind: "adaptive" }, 0);
    assert.deepEqual(decisions(p, 25, ADAPTIVE_FREQUENT_MS), Array(25).fill("end"));
    // Once the last 20 average under 120 s, it leaves `end`; all 20 fast: continuously.
    const later = decisions(p, 20, 1_000, 25 * ADAPTIVE_FREQUENT_MS);
    assert.equal(later[0], "periodic", "the mean of the last 20 fell just under 120 s");
    assert.equal(later[19], "dont", "continuously now, but 20 s have not passed since");
    assert.equal(p.decide(25 * ADAPTIVE_FREQUENT_MS + 21_000), "continuous");
  });

  it("backs off after failures, doubling up to 300 s, and a success resets it", () => {
    const p = new FlushPlanner({ kind: "end" }, 0, () => 0.5);
    p.flushed(false, 1_000);
    assert.equal(p.skipUntil, 1_000 + 2_000 + 500);
    assert.equal(p.decide(3_000), "dont");
    assert.equal(p.canFlush(3_000), false);
    assert.equal(p.decide(3_500), "end");
    p.flushed(false, 3_500);
    assert.equal(p.skipUntil, 3_500 + 4_000 + 500);
    for (let k = 0; k < 20; k++) p.flushed(false, 10_000);
    assert.equal(p.skipUntil, 10_000 + MAX_BACKOFF_MS);
    p.flushed(true, 10_001);
    assert.equal(p.skipUntil, 0);
    assert.equal(p.decide(10_002), "end");
  });
});
