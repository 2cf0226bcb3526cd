/**
 * Serializer throughput: series per second into compressed `/api/v2/series` payloads (zstd
 * level 1 and zlib), against the uncompressed encode measured in the same run, and bytes per
 * point on the wire. One iteration serializes one flush of 10,000 series, 1 point each, with
 * DogStatsD-like names and tags.
 *
 *   bun scripts/bench/serializer.ts          (or: deno run -A scripts/bench/serializer.ts)
 *
 * Prints a table and writes bench/results/serializer.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Bench } from "tinybench";
import * as v from "valibot";
import { configSchema } from "../../src/config/mod.ts";
import type { Serie } from "../../src/metrics/model.ts";
import { runtime } from "../../src/runtime/mod.ts";
import { type EncodedPayload, Serializer, serializerSettings } from "../../src/serializer/mod.ts";
import { Registry } from "../../src/telemetry/mod.ts";

const FLUSH = 10_000;
const ROOT = resolve(import.meta.dirname, "..", "..");

/** A flush as the aggregator gives it: 500 metric names × 20 contexts, 3–5 tags each. */
function flush(n: number): Serie[] {
  const out: Serie[] = [];
  for (let i = 0; i < n; i++) {
    const tags = [
      "env:prod",
      `service:svc-${i % 7}`,
      `pod:web-${(i * 2654435761) % 100_000}`,
      ...(i % 3 === 0 ? ["device:sda1"] : []),
      ...(i % 5 === 0 ? [`status_code:${200 + (i % 4)}`] : []),
    ].sort();
    out.push({
      name: `app.request.metric_${i % 500}`,
      points: [[1_700_000_000, (i * 7.31) % 1000]],
      tags,
      host: "edge-gw-01",
      type: i % 2 === 0 ? "gauge" : "count",
      interval: 10,
      sourceTypeName: "",
    });
  }
  return out;
}

function serializer(overrides: Record<string, unknown>): Serializer {
  return new Serializer(serializerSettings(v.parse(configSchema, overrides)), {
    runtime,
    registry: new Registry(),
    hostname: "edge-gw-01",
    send: (p) => p.map(() => ({ done: Promise.resolve({ status: "delivered", reason: "" }) })),
  });
}

const series = flush(FLUSH);
const cases = [
  { name: "v2 encode, uncompressed (baseline)", kind: "none", v2: true },
  { name: "v2 + zstd level 1", kind: "zstd", v2: true },
  { name: "v2 + zlib", kind: "zlib", v2: true },
  { name: "v1 JSON + zstd level 1", kind: "zstd", v2: false },
] as const;

const bench = new Bench({ time: 1500, warmupTime: 300 });
const wire: Record<string, { bytes: number; points: number; payloads: number }> = {};
for (const c of cases) {
  const s = serializer({ serializer_compressor_kind: c.kind, use_v2_api: { series: c.v2 } });
  const payloads: EncodedPayload[] = s.seriesPayloads(series);
  wire[c.name] = {
    bytes: payloads.reduce((n, p) => n + p.body.length, 0),
    points: payloads.reduce((n, p) => n + p.points, 0),
    payloads: payloads.length,
  };
  bench.add(c.name, () => void s.seriesPayloads(series));
}
await bench.run();

const rows = bench.tasks.map((t) => {
  const r = t.result as { latency: { mean: number; rme: number } };
  const w = wire[t.name];
  return {
    case: t.name,
    seriesPerSecond: Math.round(FLUSH / (r.latency.mean / 1000)),
    msPerFlush: Number(r.latency.mean.toFixed(2)),
    rmePercent: Number(r.latency.rme.toFixed(1)),
    payloads: w.payloads,
    wireBytes: w.bytes,
    bytesPerPoint: Number((w.bytes / w.points).toFixed(2)),
  };
});
const base = rows[0];
const table = rows.map((r) => ({
  ...r,
  speedVsBaseline: Number((r.seriesPerSecond / base.seriesPerSecond).toFixed(3)),
  sizeVsBaseline: Number((r.wireBytes / base.wireBytes).toFixed(3)),
}));
console.table(table);

const result = {
  bench: "serializer",
  runtime: "Bun" in globalThis ? "bun" : "deno",
  date: new Date().toISOString(),
  workload: { seriesPerFlush: FLUSH, pointsPerSerie: 1 },
  baseline: base.case,
  results: table,
};
mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
writeFileSync(
  join(ROOT, "bench", "results", "serializer.json"),
  JSON.stringify(result, null, 2) + "\n",
);
