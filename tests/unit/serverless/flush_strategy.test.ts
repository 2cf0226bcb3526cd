import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  ADAPTIVE_FREQUENT_MS,
  DEFAULT_PERIOD_MS,
  FlushPlanner,
  MAX_BACKOFF_MS,
  parseFlushStrategy,
} from "../../../src/serverless/mod.ts";

describe("parseFlushStrategy", () => {
  it("understands end, periodically and periodically,<ms>", () => {
    assert.deepEqual(parseFlushStrategy("end"), { strategy: { kind: "end" } });
    assert.deepEqual(parseFlushStrategy(" Periodically "), {
      strategy: { kind: "periodically", intervalMs: DEFAULT_PERIOD_MS },
    });
    assert.deepEqual(parseFlushStrategy("periodically,60000"), {
      strategy: { kind: "periodically", intervalMs: 60_000 },
    });
    assert.deepEqual(parseFlushStrategy(""), { strategy: { kind: "adaptive" } });
  });

  it("falls back to adaptive with a warning naming the key", () => {
    for (const v of ["periodically,0", "periodically,x", "end,100", "never"]) {
      const { strategy, warning } = parseFlushStrategy(v);
      assert.deepEqual(strategy, { kind: "adaptive" }, v);
      assert.match(warning!, /serverless_flush_strategy: expected/);
    }
  });
});

/** Drives a planner through invocations `gapMs` apart; returns which ones would flush. */
function run(planner: FlushPlanner, n: number, gapMs: number, t0 = 0): boolean[] {
  const flushed: boolean[] = [];
  for (let i = 1; i <= n; i++) {
    const t = t0 + i * gapMs;
    const flush = i > 1 && planner.shouldFlush(t);
    if (flush) planner.flushed(true, t);
    flushed.push(flush);
    planner.invoked(t);
  }
  return flushed;
}

describe("FlushPlanner", () => {
  it("end flushes at every event", () => {
    assert.deepEqual(run(new FlushPlanner({ kind: "end" }, 0), 4, 100), [
      false,
      true,
      true,
      true,
    ]);
  });

  it("periodically flushes once the interval has passed since the last flush", () => {
    const p = new FlushPlanner({ kind: "periodically", intervalMs: 1_000 }, 0);
    // Events every 400 ms: flushes at 1200 and 2400 (the first event has nothing to flush).
    assert.deepEqual(run(p, 6, 400), [false, false, true, false, false, true]);
  });

  it("adaptive acts as end for the first invocations, then periodically while they are frequent", () => {
    const p = new FlushPlanner({ kind: "adaptive" }, 0);
    const fast = run(p, 25, 100);
    // Invocations 2 and 3 flush (fewer than 3 seen), then one flush per 10 s of invocations.
    assert.deepEqual(fast.slice(0, 4), [false, true, true, false]);
    assert.equal(fast.filter(Boolean).length, 2, "no 10 s passed after the third");
    const rare = new FlushPlanner({ kind: "adaptive" }, 0);
    assert.ok(run(rare, 6, ADAPTIVE_FREQUENT_MS + 1).slice(1).every(Boolean), "rare: end");
  });

  it("backs off after failures, doubling up to 300 s, and a success resets it", () => {
    const p = new FlushPlanner({ kind: "end" }, 0, () => 0.5);
    p.flushed(false, 1_000);
    assert.equal(p.skipUntil, 1_000 + 2_000 + 500);
    assert.equal(p.shouldFlush(3_000), false);
    assert.equal(p.shouldFlush(3_500), true);
    p.flushed(false, 3_500);
    assert.equal(p.skipUntil, 3_500 + 4_000 + 500);
    for (let k = 0; k < 20; k++) p.flushed(false, 10_000);
    assert.equal(p.skipUntil, 10_000 + MAX_BACKOFF_MS);
    p.flushed(true, 10_001);
    assert.equal(p.skipUntil, 0);
    assert.equal(p.shouldFlush(10_002), true);
  });
});
