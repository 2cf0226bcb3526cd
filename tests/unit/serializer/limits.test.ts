import { test } from "node:test";
import assert from "node:assert/strict";
import type { Serie } from "../../../src/metrics/model.ts";
import type { EncodedPayload } from "../../../src/serializer/mod.ts";
import { decodeJson, decodeSeries, decompress } from "./_decode.ts";
import { makeSerializer, serie } from "./_fixtures.ts";

/** Deterministic pseudo-random hex, so payloads compress like real, varied tag values. */
function hexStream(seed: number) {
  let x = seed;
  return (len: number) => {
    let s = "";
    while (s.length < len) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      s += x.toString(16);
    }
    return s.slice(0, len);
  };
}

function workload(n: number): Serie[] {
  const hex = hexStream(42);
  const out: Serie[] = [];
  for (let i = 0; i < n; i++) {
    // Every 10th series carries 6 points so the point budget is not just the series count.
    const points: Array<[number, number]> = i % 10 === 0
      ? Array.from({ length: 6 }, (_, j) => [1_700_000_000 + 10 * j, i + j / 10])
      : [[1_700_000_000, i]];
    out.push(serie(`app.metric.${i % 500}.${hex(6)}`, {
      points,
      tags: [`env:prod`, `pod:${hex(12)}`, `series:${i}`].sort(),
      type: i % 3 === 0 ? "count" : "gauge",
    }));
  }
  return out;
}

/** Checks every limit on every payload and returns the decoded series names, in order. */
function checkV2(
  payloads: EncodedPayload[],
  limits: { compressed: number; uncompressed: number; points: number },
): string[] {
  const names: string[] = [];
  for (const p of payloads) {
    assert.ok(p.body.length <= limits.compressed, `compressed ${p.body.length}`);
    assert.ok(decompress(p).length <= limits.uncompressed, `uncompressed`);
    const decoded = decodeSeries(p);
    const points = decoded.series.reduce((n: number, s: any) => n + s.points.length, 0);
    assert.ok(points <= limits.points, `points ${points}`);
    assert.equal(p.points, points);
    assert.equal(p.items, decoded.series.length);
    for (const s of decoded.series) names.push(s.tags.find((t: string) => t.startsWith("series:")));
  }
  return names;
}

const expected = (series: Serie[]) =>
  series.map((s) => s.tags.find((t) => t.startsWith("series:")));

test("seriesPayloads() splits 50,000 series into payloads within every default limit, none lost", () => {
  const { serializer, registry } = makeSerializer();
  const input = workload(50_000);
  const payloads = serializer.seriesPayloads(input);
  // 75,000 points: the 10,000-point budget needs at least 8 payloads.
  assert.ok(payloads.length >= 8, `${payloads.length} payloads`);
  const names = checkV2(payloads, { compressed: 512_000, uncompressed: 5_242_880, points: 10_000 });
  assert.deepEqual(names, expected(input));
  assert.deepEqual(registry.read("serializer.items_too_big"), {});
});

test("seriesPayloads() closes payloads on the compressed limit (zlib)", () => {
  const { serializer } = makeSerializer({
    serializer_compressor_kind: "zlib",
    serializer_max_series_payload_size: 40_000,
  });
  const input = workload(20_000);
  const payloads = serializer.seriesPayloads(input);
  assert.ok(payloads.length > 10, `${payloads.length} payloads`);
  const names = checkV2(payloads, { compressed: 40_000, uncompressed: 5_242_880, points: 10_000 });
  assert.deepEqual(names, expected(input));
  // Filled close to the limit, not cut at the worst case.
  const full = payloads.slice(0, -1).map((p) => p.body.length);
  assert.ok(Math.min(...full) > 30_000, `smallest full payload ${Math.min(...full)} B`);
});

test("seriesPayloads() closes payloads on the uncompressed limit (zstd)", () => {
  const { serializer } = makeSerializer({
    serializer_max_series_uncompressed_payload_size: 100_000,
  });
  const input = workload(10_000);
  const payloads = serializer.seriesPayloads(input);
  assert.ok(payloads.length > 5);
  const names = checkV2(payloads, { compressed: 512_000, uncompressed: 100_000, points: 10_000 });
  assert.deepEqual(names, expected(input));
});

test("seriesPayloads() v1 JSON splits within the payload limits, none lost", () => {
  const { serializer } = makeSerializer({
    use_v2_api: { series: false },
    serializer_max_payload_size: 50_000,
    serializer_max_uncompressed_payload_size: 200_000,
  });
  const input = workload(10_000);
  const payloads = serializer.seriesPayloads(input);
  assert.ok(payloads.length > 5);
  const names: string[] = [];
  for (const p of payloads) {
    assert.ok(p.body.length <= 50_000);
    assert.ok(decompress(p).length <= 200_000);
    for (const s of decodeJson(p).series) {
      names.push(s.tags.find((t: string) => t.startsWith("series:")));
    }
  }
  assert.deepEqual(names, expected(input));
});

test("seriesPayloads() drops and counts a serie with more points than a payload may hold", () => {
  const { serializer, registry } = makeSerializer();
  const tooMany = serie("too.many", {
    points: Array.from({ length: 10_001 }, (_, i) => [1_700_000_000 + i, i] as [number, number]),
  });
  const payloads = serializer.seriesPayloads([serie("before"), tooMany, serie("after")]);
  const names = payloads.flatMap((p) => decodeSeries(p).series.map((s: any) => s.metric));
  assert.deepEqual(names, ["before", "after"]);
  assert.deepEqual(registry.read("serializer.items_too_big"), { series: 1 });
});

test("seriesPayloads() drops and counts a serie too big for an empty payload", () => {
  const { serializer, registry } = makeSerializer();
  // Incompressible and bigger than the 512,000-byte compressed limit.
  const huge = serie("huge", { tags: [`blob:${hexStream(7)(600_000)}`] });
  const payloads = serializer.seriesPayloads([serie("before"), huge, serie("after")]);
  const names = payloads.flatMap((p) => decodeSeries(p).series.map((s: any) => s.metric));
  assert.deepEqual(names, ["before", "after"]);
  assert.deepEqual(registry.read("serializer.items_too_big"), { series: 1 });
});

test("serviceCheckPayloads() drops and counts a check too big for an empty payload", () => {
  const { serializer, registry } = makeSerializer({ serializer_max_payload_size: 10_000 });
  const check = (name: string, message = "") => ({
    name,
    status: 0 as const,
    timestamp: 1,
    host: "h",
    message,
    tags: [],
  });
  const payloads = serializer.serviceCheckPayloads([
    check("a"),
    check("big", hexStream(3)(20_000)),
    check("b"),
  ]);
  assert.deepEqual(payloads.flatMap((p) => decodeJson(p).map((c: any) => c.check)), ["a", "b"]);
  assert.deepEqual(registry.read("serializer.items_too_big"), { service_checks: 1 });
});
