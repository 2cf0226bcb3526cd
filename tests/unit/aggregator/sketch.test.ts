import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  AgentSketch,
  SKETCH_BIAS,
  SKETCH_BIN_LIMIT,
  SKETCH_GAMMA,
  sketchKey,
  sketchKeyValue,
  sketchQuantile,
} from "../../../src/aggregator/sketch.ts";

const LN_GAMMA = Math.log1p(1 / 64);

/** The spec's key formula, written out independently of the implementation. */
function specKey(v: number): number {
  if (v < 0) return -specKey(-v);
  if (v === 0) return 0;
  const x = Math.log(v) / LN_GAMMA;
  let r = Math.round(x);
  if (r - x === 0.5 && r % 2 !== 0) r -= 1; // half to even
  return r + 1338;
}

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The rank the sketch reads: q·(n−1) rounded half to even. */
function halfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

describe("sketch parameters", () => {
  it("SKETCH_BIAS is -floor(ln(1e-9)/ln γ) + 1 = 1338 and γ = 1 + 2/128", () => {
    // ln(1e-9) = -20.7233, ln γ = log1p(1/64) = 0.0155042 → ratio -1336.6 → floor -1337 → 1338
    assert.equal(SKETCH_BIAS, 1338);
    assert.equal(SKETCH_GAMMA, 1.015625);
  });
});

describe("sketchKey", () => {
  it("sketchKey(1) is the bias and each power of γ is one key up", () => {
    assert.equal(sketchKey(1), 1338);
    assert.equal(sketchKey(SKETCH_GAMMA), 1339);
    assert.equal(sketchKey(Math.pow(SKETCH_GAMMA, 100)), 1438);
    assert.equal(sketchKey(Math.pow(SKETCH_GAMMA, -100)), 1238);
  });

  it("sketchKey maps negatives to -key(-v), tiny magnitudes to 0, huge ones to 32767", () => {
    assert.equal(sketchKey(-1), -1338);
    assert.equal(sketchKey(-250), -sketchKey(250));
    assert.equal(sketchKey(0), 0);
    assert.equal(sketchKey(1e-10), 0); // below the minimum value 1e-9
    assert.equal(Object.is(sketchKey(-1e-10), 0), true); // 0, not -0
    assert.equal(sketchKey(1e-9), 1); // ln(1e-9)/ln γ = -1336.6 → -1337 + 1338
    assert.equal(sketchKey(1e300), 32767); // 690.8/0.0155 + 1338 ≫ 32766
  });

  it("sketchKey equals round-half-even(ln v / ln γ) + 1338 on 20,000 random values", () => {
    const r = rng(7);
    for (let i = 0; i < 20_000; i++) {
      // magnitudes from 2e-9 to 5e8, a fifth negative
      const v = Math.exp((r() - 0.5) * 40) * (r() < 0.2 ? -1 : 1);
      assert.equal(sketchKey(v), specKey(v), `v=${v}`);
    }
  });

  it("sketchKeyValue(key(v)) is within 1/128 relative error of v", () => {
    const r = rng(11);
    for (let i = 0; i < 5_000; i++) {
      const v = Math.exp((r() - 0.5) * 40);
      const back = sketchKeyValue(sketchKey(v));
      assert.ok(Math.abs(back - v) / v <= 1 / 128, `v=${v} back=${back}`);
    }
  });
});

describe("AgentSketch", () => {
  it("AgentSketch keeps count, min, max, sum and the incremental average", () => {
    const s = new AgentSketch();
    for (const v of [3, 1, 4, 1, 5]) s.insert(v, 1);
    const p = s.toPoint(100);
    // cnt 5, sum 3+1+4+1+5 = 14, avg 14/5 = 2.8
    assert.equal(p.ts, 100);
    assert.equal(p.cnt, 5);
    assert.equal(p.min, 1);
    assert.equal(p.max, 5);
    assert.equal(p.sum, 14);
    assert.ok(Math.abs(p.avg - 2.8) < 1e-12);
    assert.deepEqual(p.k, [sketchKey(1), sketchKey(3), sketchKey(4), sketchKey(5)]);
    assert.deepEqual(p.n, [2, 1, 1, 1]);
  });

  it("AgentSketch counts a sampled value trunc(1/rate) times", () => {
    const s = new AgentSketch();
    s.insert(10, 0.25); // 1/0.25 = 4
    s.insert(10, 0.3); // trunc(3.33) = 3 in the count; sum adds 10 * 3.33
    const p = s.toPoint(0);
    assert.equal(p.cnt, 7);
    assert.ok(Math.abs(p.sum - (40 + 10 / 0.3)) < 1e-9);
    assert.deepEqual(p.n, [7]);
  });

  it("AgentSketch splits a count past 65535 into several bins of the same key", () => {
    const s = new AgentSketch();
    for (let i = 0; i < 70_000; i++) s.insert(2, 1);
    const p = s.toPoint(0);
    // 70000 = 4465 + 65535: the remainder first, then the full bin
    assert.deepEqual(p.k, [sketchKey(2), sketchKey(2)]);
    assert.deepEqual(p.n, [4465, 65535]);
  });

  it("AgentSketch keeps at most 4096 bins, folding the lowest keys into the lowest kept", () => {
    const s = new AgentSketch();
    for (let i = 0; i < 5000; i++) s.insert(Math.pow(SKETCH_GAMMA, i), 1); // 5000 distinct keys
    const p = s.toPoint(0);
    assert.equal(p.k.length, SKETCH_BIN_LIMIT);
    // 5000 - 4096 = 904 lowest keys fold into key #904, which then counts 905
    assert.equal(p.n[0], 905);
    assert.equal(p.k[0], sketchKey(Math.pow(SKETCH_GAMMA, 904)));
    assert.equal(p.n.reduce((a, b) => a + b, 0), 5000);
    assert.equal(p.k[p.k.length - 1], sketchKey(Math.pow(SKETCH_GAMMA, 4999)));
  });

  it("sketchQuantile is within 1/128 relative error of the exact quantile", () => {
    const r = rng(42);
    const shapes: Record<string, () => number> = {
      uniform: () => 1 + r() * 1000,
      lognormal: () =>
        Math.exp(3 + 2 * Math.sqrt(-2 * Math.log(r() || 1e-12)) * Math.cos(6.283 * r())),
      negative: () => -(1 + r() * 50),
      latency_ms: () => 0.5 + -Math.log(r() || 1e-12) * 40,
    };
    for (const [shape, draw] of Object.entries(shapes)) {
      const s = new AgentSketch();
      const values: number[] = [];
      for (let i = 0; i < 10_000; i++) {
        const v = draw();
        values.push(v);
        s.insert(v, 1);
      }
      values.sort((a, b) => a - b);
      const p = s.toPoint(0);
      for (const q of [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99]) {
        // rank = round-half-even(q·(n−1)), the same rank the sketch reads
        const exact = values[halfEven(q * (values.length - 1))];
        const got = sketchQuantile(p, q);
        assert.ok(
          Math.abs(got - exact) / Math.abs(exact) <= 1 / 128,
          `${shape} q=${q}: got ${got}, exact ${exact}`,
        );
      }
    }
  });
});
