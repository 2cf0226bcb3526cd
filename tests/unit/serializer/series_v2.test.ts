import { test } from "node:test";
import assert from "node:assert/strict";
import type { Serie, SeriesType } from "../../../src/metrics/model.ts";
import { AGENT_PAYLOAD_VERSION } from "../../../src/serializer/_serializer.ts";
import { decodeSeries } from "./_decode.ts";
import { makeSerializer, serie } from "./_fixtures.ts";

const TYPES: Record<number, SeriesType> = { 1: "count", 2: "rate", 3: "gauge" };

/** Rebuilds model series from a decoded MetricPayload, putting resources back as tags. */
function toSeries(decoded: any): Serie[] {
  return decoded.series.map((s: any) => {
    const host = s.resources.find((r: any) => r.type === "host");
    const tags = [...s.tags];
    for (const r of s.resources) {
      if (r === host) continue;
      tags.push(
        r.type === "device" ? `device:${r.name}` : `dd.internal.resource:${r.type}:${r.name}`,
      );
    }
    const out: Serie = {
      name: s.metric,
      points: s.points.map((p: any) => [p.timestamp, p.value]),
      tags: tags.sort(),
      host: host.name,
      type: TYPES[s.type],
      interval: s.interval,
      sourceTypeName: s.source_type_name,
    };
    if (s.metadata.origin.origin_product !== 10) throw new Error("origin product is not 10");
    return out;
  });
}

const INPUT: Serie[] = [
  serie("dogstatsd.gauge", { tags: ["env:prod", "service:web"], points: [[1_700_000_000, 42.5]] }),
  serie("dogstatsd.count", {
    type: "count",
    tags: ["device:sda1", "env:prod"],
    points: [[1_700_000_000, 3], [1_700_000_010, 0], [1_700_000_020, -7.25]],
  }),
  serie("check.rate", {
    type: "rate",
    host: "",
    interval: 15,
    sourceTypeName: "System",
    tags: ["dd.internal.resource:database_instance:db-1:5432", "role:db"],
    points: [[1_700_000_000, 1e-300], [1_700_000_015, 1.7976931348623157e308]],
  }),
  serie("unicode.ünïcødé", { tags: ["", "emoji:🚀", "tag:värde"], host: "hôte" }),
  serie("big.timestamp", { points: [[4_102_444_800, Number.MAX_SAFE_INTEGER]], interval: 0 }),
];

test("seriesPayloads() v2 decodes with protobufjs to exactly the input series", () => {
  const { serializer } = makeSerializer();
  const payloads = serializer.seriesPayloads(INPUT);
  assert.equal(payloads.length, 1);
  assert.deepEqual(toSeries(decodeSeries(payloads[0])), INPUT);
  assert.equal(payloads[0].items, INPUT.length);
  assert.equal(payloads[0].points, 8);
});

test("seriesPayloads() v2 writes resources, the current type enum and origin metadata", () => {
  const { serializer } = makeSerializer();
  const [p] = serializer.seriesPayloads(INPUT);
  const [gauge, count, rate] = decodeSeries(p).series;
  assert.deepEqual(gauge.resources, [{ type: "host", name: "h1" }]);
  assert.deepEqual(count.resources, [{ type: "host", name: "h1" }, {
    type: "device",
    name: "sda1",
  }]);
  assert.deepEqual(count.tags, ["env:prod"]);
  assert.deepEqual(rate.resources, [
    { type: "host", name: "" },
    { type: "database_instance", name: "db-1:5432" },
  ]);
  assert.deepEqual(rate.tags, ["role:db"]);
  assert.deepEqual([gauge.type, count.type, rate.type], [3, 1, 2]);
  assert.equal(gauge.unit, "");
  assert.deepEqual(gauge.metadata.origin, {
    origin_product: 10,
    origin_category: 10,
    origin_service: 0,
  });
  assert.equal(rate.metadata.origin.origin_category, 0);
  assert.equal(rate.source_type_name, "System");
});

test("seriesPayloads() v2 sets the protobuf headers and the route", () => {
  const { serializer } = makeSerializer();
  const [p] = serializer.seriesPayloads([serie("m")]);
  assert.equal(p.route, "/api/v2/series");
  assert.equal(p.kind, "series");
  assert.equal(p.storable, true);
  assert.deepEqual(p.headers, {
    "Content-Type": "application/x-protobuf",
    "DD-Agent-Payload": AGENT_PAYLOAD_VERSION,
    "Content-Encoding": "zstd",
  });
});

test("seriesPayloads() v2 drops a point with a negative timestamp and counts it", () => {
  const { serializer, registry } = makeSerializer();
  const input = [serie("m", { points: [[-5, 1], [1_700_000_000, 2]] })];
  assert.deepEqual(toSeries(decodeSeries(serializer.seriesPayloads(input)[0])), [
    serie("m", { points: [[1_700_000_000, 2]] }),
  ]);
  assert.deepEqual(registry.read("serializer.points_invalid"), { series: 1 });
});

test("seriesPayloads() with enable_payloads.series false builds nothing", () => {
  const { serializer } = makeSerializer({ enable_payloads: { series: false } });
  assert.deepEqual(serializer.seriesPayloads([serie("m")]), []);
});

test("series() hands every payload of a flush to send in one call", async () => {
  const { serializer, sent, registry } = makeSerializer();
  await serializer.series([serie("a"), serie("b")]);
  assert.equal(sent.length, 1);
  assert.equal(decodeSeries(sent[0]).series.length, 2);
  assert.deepEqual(registry.read("serializer.payloads"), { series: 1 });
  assert.deepEqual(registry.read("serializer.payload_bytes"), { series: sent[0].body.length });
});

test("seriesPayloads() v2 marks a no-index serie with origin field 3 = 9", () => {
  const { serializer } = makeSerializer({ serializer_compressor_kind: "none" });
  const [plain] = serializer.seriesPayloads([serie("m")]);
  const [noIndex] = serializer.seriesPayloads([serie("m", { noIndex: true })]);
  // Origin { 3: 9, 4: 10, 5: 10 }: the reserved field is invisible to a decoder, so look at bytes.
  const has = (b: Uint8Array, seq: number[]) =>
    b.some((_, i) => seq.every((x, j) => b[i + j] === x));
  assert.ok(has(noIndex.body, [0x18, 9, 0x20, 10, 0x28, 10]));
  assert.ok(!has(plain.body, [0x18, 9]));
  assert.equal(decodeSeries(noIndex).series[0].metadata.origin.origin_product, 10);
});
