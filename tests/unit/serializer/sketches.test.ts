import { test } from "node:test";
import assert from "node:assert/strict";
import type { SketchPoint, SketchSeries } from "../../../src/metrics/model.ts";
import { decodeSketches, decompress } from "./_decode.ts";
import { makeSerializer } from "./_fixtures.ts";

// Agent sketch parameters (spec §3.5).
const GAMMA = 1 + 2 / 128;
const LN_GAMMA = Math.log1p(1 / 64);
const BIAS = 1338;
const MIN_VALUE = 1e-9;

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function key(v: number): number {
  if (Math.abs(v) < MIN_VALUE) return 0;
  if (v < 0) return -key(-v);
  return roundHalfEven(Math.log(v) / LN_GAMMA) + BIAS;
}

function valueOf(k: number): number {
  if (k === 0) return 0;
  if (k < 0) return -valueOf(-k);
  return GAMMA ** (k - BIAS);
}

/** A sketch point of `values` with the agent's key mapping (test-side, for round trips). */
function sketchOf(ts: number, values: number[]): SketchPoint {
  const bins = new Map<number, number>();
  for (const v of values) bins.set(key(v), (bins.get(key(v)) ?? 0) + 1);
  const k = [...bins.keys()].sort((a, b) => a - b);
  const sum = values.reduce((a, b) => a + b, 0);
  return {
    ts,
    cnt: values.length,
    min: Math.min(...values),
    max: Math.max(...values),
    avg: sum / values.length,
    sum,
    k,
    n: k.map((x) => bins.get(x)!),
  };
}

/** The value at rank q from decoded bins. */
function quantile(d: { k: number[]; n: number[]; cnt: number }, q: number): number {
  const rank = Math.floor(q * (d.cnt - 1));
  let seen = 0;
  for (let i = 0; i < d.k.length; i++) {
    seen += d.n[i];
    if (seen > rank) return valueOf(d.k[i]);
  }
  throw new Error("rank beyond the sketch");
}

// A deterministic spread of values over several decades, both signs.
function values(n: number, seed: number): number[] {
  let x = seed;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const u = x / 2 ** 31;
    out.push((i % 7 === 0 ? -1 : 1) * Math.exp(u * 20 - 5));
  }
  return out;
}

const INPUT: SketchSeries[] = [
  {
    name: "request.latency",
    tags: ["env:prod", "service:api"],
    host: "h1",
    interval: 10,
    points: [sketchOf(1_700_000_000, values(500, 1)), sketchOf(1_700_000_010, values(300, 2))],
  },
  {
    name: "payload.size",
    tags: [],
    host: "",
    interval: 10,
    points: [sketchOf(1_700_000_000, [0, 1e-12, 1, 2, 2, 2, 1e9])],
  },
];

function toSketches(decoded: any): SketchSeries[] {
  return decoded.sketches.map((s: any) => ({
    name: s.metric,
    tags: s.tags,
    host: s.host,
    interval: 10, // not on the wire: the intake takes it from the bucket width
    points: s.dogsketches.map((d: any) => ({
      ts: d.ts,
      cnt: d.cnt,
      min: d.min,
      max: d.max,
      avg: d.avg,
      sum: d.sum,
      k: d.k,
      n: d.n,
    })),
  }));
}

test("sketchPayloads() decodes with protobufjs to exactly the input sketches", () => {
  const { serializer } = makeSerializer();
  const payloads = serializer.sketchPayloads(INPUT);
  assert.equal(payloads.length, 1);
  const decoded = decodeSketches(payloads[0]);
  assert.deepEqual(toSketches(decoded), INPUT);
  assert.deepEqual(decoded.sketches[0].distributions, []);
  assert.deepEqual(decoded.sketches[0].metadata.origin.origin_product, 10);
  assert.equal(payloads[0].route, "/api/beta/sketches");
  assert.equal(payloads[0].headers["Content-Type"], "application/x-protobuf");
  assert.equal(payloads[0].items, 2);
  assert.equal(payloads[0].points, 3);
});

test("sketchPayloads() ends the body with an empty metadata message", () => {
  const { serializer } = makeSerializer();
  const raw = decompress(serializer.sketchPayloads(INPUT)[0]);
  assert.deepEqual([...raw.subarray(raw.length - 2)], [0x12, 0x00]);
});

test("sketchPayloads() decoded quantiles are within 1/128 of exact quantiles", () => {
  const { serializer } = makeSerializer();
  const input = values(2000, 7);
  const sketch: SketchSeries = {
    name: "q",
    tags: [],
    host: "h",
    interval: 10,
    points: [sketchOf(1_700_000_000, input)],
  };
  const [d] = decodeSketches(serializer.sketchPayloads([sketch])[0]).sketches[0].dogsketches;
  const sorted = [...input].sort((a, b) => a - b);
  for (const q of [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1]) {
    const exact = sorted[Math.floor(q * (sorted.length - 1))];
    const got = quantile(d, q);
    assert.ok(
      Math.abs(got - exact) <= Math.abs(exact) / 128,
      `q${q}: got ${got}, exact ${exact}`,
    );
  }
});

test("sketchPayloads() with enable_payloads.sketches false builds nothing", () => {
  const { serializer } = makeSerializer({ enable_payloads: { sketches: false } });
  assert.deepEqual(serializer.sketchPayloads(INPUT), []);
});
