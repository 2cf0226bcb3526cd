import { test } from "node:test";
import assert from "node:assert/strict";
import type { Event, ServiceCheck, SketchPoint } from "../../../src/metrics/model.ts";
import { MAX_TIMESTAMP } from "../../../src/metrics/model.ts";
import { ProtoWriter } from "../../../src/serializer/_proto.ts";
import { decodeJson, decodeSeries, decodeSketches } from "./_decode.ts";
import { makeSerializer, NOW, serie } from "./_fixtures.ts";

const TS = 1_700_000_000;

test("ProtoWriter.int64() writes a negative number as a 10-byte two's complement varint", () => {
  const w = new ProtoWriter();
  w.int64(1, -5);
  assert.deepEqual([...w.finish()], [8, 251, 255, 255, 255, 255, 255, 255, 255, 255, 1]);
});

test("ProtoWriter refuses NaN, ±Inf and out-of-range integers instead of looping", () => {
  const w = new ProtoWriter();
  for (const v of [Infinity, -Infinity, NaN, 2 ** 63, -(2 ** 63), 1e300]) {
    assert.throws(() => w.int64(1, v), RangeError, String(v));
  }
  for (const v of [Infinity, NaN, -1, 2 ** 64]) {
    assert.throws(() => w.uint(1, v), /Cannot encode .* as a varint/, String(v));
  }
  w.reset();
  w.uint(1, 2 ** 64 - 2 ** 12); // the largest double below 2^64 still fits 10 bytes
  assert.equal(w.length, 11);
});

test("seriesPayloads() drops NaN and infinite points, v2 and v1 alike, and counts them", () => {
  for (const v2 of [true, false]) {
    const { serializer, registry } = makeSerializer({ use_v2_api: { series: v2 } });
    const input = [
      serie("a", { points: [[TS, NaN], [TS + 10, 2], [TS + 20, Infinity]] }),
      serie("b", { points: [[TS, -Infinity]] }), // nothing left: no serie at all
      serie("c", { points: [[Infinity, 1], [MAX_TIMESTAMP + 1, 1], [NaN, 1]] }),
      serie("d", { interval: Infinity }),
      serie("e"),
    ];
    const [p] = serializer.seriesPayloads(input);
    const sent = v2
      ? decodeSeries(p).series.map((s: any) => [s.metric, s.points.map((x: any) => x.value)])
      : decodeJson(p).series.map((s: any) => [s.metric, s.points.map((x: any) => x[1])]);
    assert.deepEqual(sent, [["a", [2]], ["e", [1]]]);
    assert.deepEqual(registry.read("serializer.points_invalid"), { series: 7 });
    assert.equal(p.points, 2);
    // The input is left as it was.
    assert.equal(input[0].points.length, 3);
  }
});

function point(extra: Partial<SketchPoint> = {}): SketchPoint {
  return { ts: TS, cnt: 2, min: 1, max: 2, avg: 1.5, sum: 3, k: [1338, 1382], n: [1, 1], ...extra };
}

test("sketchPayloads() drops points with a non-finite or out-of-range number and counts them", () => {
  const { serializer, registry } = makeSerializer();
  const bad: Partial<SketchPoint>[] = [
    { sum: Infinity },
    { avg: NaN },
    { min: -Infinity },
    { max: Infinity },
    { cnt: Infinity },
    { cnt: 1.5 },
    { ts: NaN },
    { ts: -1 },
    { k: [40_000, 1], n: [1, 1] },
    { k: [1, 2], n: [2 ** 32, 1] },
    { k: [1], n: [1, 1] },
  ];
  const [p] = serializer.sketchPayloads([
    { name: "d", tags: [], host: "h", interval: 10, points: [point(), ...bad.map(point)] },
    { name: "gone", tags: [], host: "h", interval: 10, points: [point({ sum: NaN })] },
  ]);
  const decoded = decodeSketches(p).sketches;
  assert.deepEqual(decoded.map((s: any) => [s.metric, s.dogsketches.length]), [["d", 1]]);
  assert.deepEqual(registry.read("serializer.points_invalid"), { sketches: bad.length + 1 });
});

test("serviceCheckPayloads() and eventPayloads() drop items whose timestamp or status is out of range", () => {
  const { serializer, registry } = makeSerializer();
  const check = (name: string, extra: Partial<ServiceCheck> = {}): ServiceCheck => ({
    name,
    status: 0,
    timestamp: 0,
    host: "h",
    message: "",
    tags: [],
    ...extra,
  });
  const checks = serializer.serviceCheckPayloads([
    check("ok"),
    check("inf", { timestamp: Infinity }),
    check("neg", { timestamp: -1 }),
    check("status", { status: 7 as ServiceCheck["status"] }),
  ]);
  assert.deepEqual(decodeJson(checks[0]).map((c: any) => [c.check, c.timestamp]), [["ok", NOW]]);
  const event = (title: string, timestamp: number): Event => ({
    title,
    text: "",
    timestamp,
    host: "h",
    priority: "normal",
    alertType: "info",
    aggregationKey: "",
    sourceTypeName: "",
    eventType: "",
    tags: [],
  });
  const events = serializer.eventPayloads([event("ok", TS), event("nan", NaN)]);
  const sent = decodeJson(events[0]).events.api;
  assert.deepEqual(sent.map((e: any) => [e.msg_title, e.timestamp]), [["ok", TS]]);
  assert.deepEqual(registry.read("serializer.points_invalid"), { service_checks: 3, events: 1 });
});
