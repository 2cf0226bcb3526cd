import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { contextKey } from "../../../src/aggregator/_context.ts";
import { Histogram } from "../../../src/aggregator/_histogram.ts";
import { AgentSketch, sketchQuantile } from "../../../src/aggregator/sketch.ts";

const tag = fc.string({ minLength: 1, maxLength: 12 });

/** The rank the sketch reads: q·(n−1) rounded half to even. */
function halfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

describe("aggregator properties", () => {
  it("contextKey is the same for any order and repetition of the same tags", () => {
    fc.assert(
      fc.property(fc.uniqueArray(tag, { maxLength: 8 }), fc.nat(), (tags, seed) => {
        const shuffled = [...tags, ...tags.slice(0, seed % (tags.length + 1))];
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = (seed + i * 7) % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
        }
        assert.equal(contextKey("m", "h", shuffled), contextKey("m", "h", tags));
      }),
    );
  });

  it("Histogram aggregates equal the same statistics over the samples expanded by weight", () => {
    const weighted = fc.record({
      v: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
      rate: fc.constantFrom(1, 0.5, 0.3, 0.25, 0.1),
    });
    fc.assert(
      fc.property(
        fc.array(weighted, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 100 }),
        (
          samples,
          pct,
        ) => {
          const h = new Histogram();
          for (const s of samples) h.add(s.v, s.rate);
          const got: Record<string, number> = {};
          h.flush(
            {
              aggregates: ["max", "min", "median", "sum", "count"],
              percentiles: [pct],
            },
            10,
            (suffix, _type, value) => (got[suffix] = value),
          );
          // Each sample stands for trunc(1/rate) identical samples.
          const expanded = samples.flatMap((s) => Array(Math.trunc(1 / s.rate)).fill(s.v)).sort((
            a,
            b,
          ) => a - b);
          const n = expanded.length;
          assert.equal(got[".max"], expanded[n - 1]);
          assert.equal(got[".min"], expanded[0]);
          assert.equal(got[".median"], expanded[Math.trunc((n - 1) / 2)]);
          assert.equal(got[".count"], n / 10);
          assert.equal(
            got[`.${pct}percentile`],
            expanded[Math.max(0, Math.trunc((pct * n - 1) / 100))],
          );
        },
      ),
    );
  });

  it("sketchQuantile stays within 1/128 relative error for any positive sample", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1e-6, max: 1e9, noNaN: true }), { minLength: 1, maxLength: 300 }),
        fc.double({ min: 0.01, max: 0.99, noNaN: true }),
        (values, q) => {
          const s = new AgentSketch();
          for (const v of values) s.insert(v, 1);
          const sorted = [...values].sort((a, b) => a - b);
          const exact = sorted[halfEven(q * (sorted.length - 1))];
          const got = sketchQuantile(s.toPoint(0), q);
          assert.ok(Math.abs(got - exact) / exact <= 1 / 128, `q=${q} got=${got} exact=${exact}`);
        },
      ),
    );
  });
});
