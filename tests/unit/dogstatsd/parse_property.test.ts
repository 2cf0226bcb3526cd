import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { DogStatsDParser, type ParsedItems } from "../../../src/dogstatsd/mod.ts";
import { Registry } from "../../../src/telemetry/mod.ts";
import type { MetricSample, SampleType } from "../../../src/metrics/model.ts";

const enc = new TextEncoder();

function fresh() {
  const registry = new Registry();
  const parser = new DogStatsDParser(registry);
  const out: ParsedItems = { samples: [], events: [], serviceChecks: [] };
  return { registry, parser, out };
}

// Bytes that steer the parser into its branches, plus arbitrary ones.
const protocolBytes = fc.uint8Array({ maxLength: 300 }).chain((noise) =>
  fc.array(
    fc.oneof(
      fc.constantFrom(..."|:#@,\n\r_e{}sc0123456789T.-+ghdmsNaIf".split("")).map((c) =>
        c.charCodeAt(0)
      ),
      fc.constantFrom(...noise.length > 0 ? [...noise] : [0]),
    ),
    { maxLength: 300 },
  ).map((a) => Uint8Array.from(a))
);

test("parsePacket() never throws on arbitrary bytes and counts every non-empty line once", () => {
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 600 }), protocolBytes), fc.boolean(), (
      bytes,
      eol,
    ) => {
      const { registry, parser, out } = fresh();
      parser.parsePacket(bytes, out, eol);
      const d = registry.snapshot().dogstatsd as Record<string, number>;
      const counted = d.MetricPackets + d.MetricParseErrors + d.EventPackets +
        d.EventParseErrors + d.ServiceCheckPackets + d.ServiceCheckParseErrors +
        d.UnterminatedMetricErrors;
      const text = new TextDecoder("latin1").decode(bytes);
      const lines = text.split("\n").map((l) => l.endsWith("\r") ? l.slice(0, -1) : l)
        .filter((l) => l !== "").length;
      assert.equal(counted, lines);
      assert.equal(out.events.length, d.EventPackets);
      assert.equal(out.serviceChecks.length, d.ServiceCheckPackets);
    }),
    { numRuns: 2000 },
  );
});

const TYPES: Array<[string, SampleType, string | undefined]> = [
  ["g", "gauge", undefined],
  ["c", "counter", undefined],
  ["h", "histogram", undefined],
  ["ms", "histogram", "millisecond"],
  ["d", "distribution", undefined],
  ["s", "set", undefined],
];

// Text without the protocol's separators for a field; names must not look like an event or
// service check, and tags must not be the ones the parser takes out.
const wellFormed = (s: string) =>
  !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
const chars = (forbidden: string) =>
  fc.string({
    unit: fc.oneof(
      fc.constantFrom(..."abcxyz.-_/AZ09 é€😀=".split(/(?:)/u)),
      fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
    ),
    minLength: 1,
    maxLength: 20,
  }).filter((s) => wellFormed(s) && ![...forbidden].some((f) => s.includes(f)));
const name = chars(":|\n\r").filter((s) => !s.startsWith("_e{") && !s.startsWith("_sc"));
const tag = chars(",|\n\r").filter((t) =>
  !t.startsWith("host:") && !t.startsWith("dd.internal.") && !t.startsWith("#")
);
const value = fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => (v === 0 ? 0 : v));

const metricLine = fc.record({
  name,
  type: fc.constantFrom(...TYPES),
  values: fc.array(value, { minLength: 1, maxLength: 4 }),
  member: chars("|\n\r"),
  rate: fc.option(fc.double({ min: 0.001, max: 1, noNaN: true }), { nil: undefined }),
  tags: fc.array(tag, { maxLength: 6 }),
  timestamp: fc.option(fc.integer({ min: 1, max: 4_000_000_000 }), { nil: undefined }),
});

test("parsePacket() reads back every valid generated metric line", () => {
  fc.assert(
    fc.property(metricLine, (m) => {
      const [symbol, type, unit] = m.type;
      const raw = type === "set" ? m.member : m.values.map(String).join(":");
      let line = `${m.name}:${raw}|${symbol}`;
      if (m.rate !== undefined) line += `|@${m.rate}`;
      if (m.tags.length > 0) line += `|#${m.tags.join(",")}`;
      if (m.timestamp !== undefined) line += `|T${m.timestamp}`;
      const { registry, parser, out } = fresh();
      parser.parsePacket(enc.encode(line + "\n"), out);
      const expected: MetricSample[] = (type === "set" ? [NaN] : m.values).map((v) => ({
        name: m.name,
        value: v,
        rawValue: type === "set" ? m.member : undefined,
        type,
        tags: m.tags,
        host: "",
        sampleRate: m.rate ?? 1,
        timestamp: m.timestamp ?? 0,
        unit,
      }));
      assert.deepEqual(out.samples, expected, line);
      assert.equal((registry.snapshot().dogstatsd as Record<string, number>).MetricPackets, 1);
    }),
    { numRuns: 2000 },
  );
});
