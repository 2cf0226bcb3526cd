/**
 * Aggregator throughput and memory: pre-parsed DogStatsD samples (name, 3–6 tags; 55 %
 * counters, 35 % gauges, 5 % histograms, 5 % sets) aggregated at 1k, 100k and 1M contexts
 * each with its own tag set, and at 100k contexts sharing tag sets across 20 metric names,
 * against a baseline measured in the same run: a plain `Map` keyed by the joined string
 * `name|host|sorted,tags` holding a number per context (what a first-cut aggregator does).
 *
 *   bun scripts/bench/aggregator.ts        (--quick: 1k and 100k only)
 *
 * Figures: lines per second (batches of 1000 samples hitting existing contexts), heap bytes
 * per context after a GC, context creation rate, and the time of one flush of every context.
 * Prints a table and writes bench/results/aggregator.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Bench } from "tinybench";
import { Aggregator } from "../../src/aggregator/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import type { MetricSample, MetricsSink, SampleType } from "../../src/metrics/model.ts";
import { runtime } from "../../src/runtime/mod.ts";
import { Registry } from "../../src/telemetry/mod.ts";

const ROOT = resolve(import.meta.dirname, "..", "..");
const quick = process.argv.includes("--quick");
const SIZES = quick ? [1_000, 100_000] : [1_000, 100_000, 1_000_000];
const BATCH = 1000;

const NAMES = Array.from({ length: 20 }, (_, i) => `app.component_${i % 7}.metric_${i}`);
const TYPES: SampleType[] = Array.from(
  { length: 20 },
  (_, i) => i < 11 ? "counter" : i < 18 ? "gauge" : i === 18 ? "histogram" : "set",
);

/** The tags of tag set `t`: 3–6 tags, distinct for every t (t mod 26 and ⌊t/26⌋ appear). */
function tagsOf(t: number): string[] {
  const tags = [
    t % 2 === 0 ? "env:prod" : "env:staging",
    `service:svc-${t % 13}`,
    `endpoint:/api/v1/resource/${Math.floor(t / 26)}`,
  ];
  if (t % 3 === 0) tags.push(`status:${200 + (t % 5)}`);
  if (t % 5 === 0) tags.push(`region:eu-west-${t % 4}`);
  if (t % 2 === 0) tags.push(`version:1.${t % 9}.0`);
  return tags;
}

/**
 * Sample `i`, a distinct context for every i. `unique`: every context has its own tag set
 * (the worst case for memory); `shared`: each tag set is carried by all 20 metric names, as
 * when an application reports several metrics per endpoint.
 */
function makeSample(i: number, shape: "unique" | "shared"): MetricSample {
  const type = TYPES[i % 20];
  return {
    name: NAMES[i % 20],
    value: (i % 97) + 0.5,
    rawValue: type === "set" ? `user-${i % 11}` : undefined,
    type,
    tags: tagsOf(shape === "unique" ? i : Math.floor(i / 20)),
    host: "",
    sampleRate: 1,
    timestamp: 0,
  };
}

const nullSink: MetricsSink = {
  series() {},
  sketches() {},
  serviceChecks() {},
  events() {},
  orchestrator() {},
};

function newAggregator(limit: number, registry: Registry): Aggregator {
  return new Aggregator({
    sink: nullSink,
    hostname: "edge-gw-01",
    registry,
    log: createLogger({ level: "error" }).for("aggregator"),
    now: () => 1_700_000_000,
    contextLimit: limit,
  });
}

/** The baseline: one Map entry per context, keyed by the joined string. */
class StringMapBaseline {
  readonly map = new Map<string, { v: number }>();
  add(samples: readonly MetricSample[]): void {
    for (const s of samples) {
      const key = `${s.name}|${s.host || "edge-gw-01"}|${s.tags.slice().sort().join(",")}`;
      const have = this.map.get(key);
      if (have) have.v += s.value;
      else this.map.set(key, { v: s.value });
    }
  }
}

function gc(): void {
  const g = globalThis as { Bun?: { gc(force: boolean): void }; gc?: () => void };
  if (g.Bun) g.Bun.gc(true);
  else g.gc?.();
}

function heap(): number {
  gc();
  gc();
  return runtime.memory().heapUsed;
}

const round = (x: number, d = 0) => Math.round(x * 10 ** d) / 10 ** d;

/** Lines per second of `add` over the batches, hitting existing contexts. */
async function throughput(add: (b: MetricSample[]) => void, batches: MetricSample[][]) {
  let j = 0;
  const bench = new Bench({ time: quick ? 400 : 800, warmupTime: 100 });
  bench.add("add", () => {
    add(batches[j]);
    j = (j + 1) % batches.length;
  });
  await bench.run();
  const r = bench.tasks[0].result as { throughput?: { mean: number } };
  return (r.throughput?.mean ?? 0) * BATCH;
}

const scenarios = [
  ...SIZES.map((n) => ({ n, shape: "unique" as const })),
  { n: 100_000, shape: "shared" as const },
];
const results = [];
for (const { n, shape } of scenarios) {
  console.log(`${n.toLocaleString()} contexts, ${shape} tag sets…`);
  const batches: MetricSample[][] = [];
  for (let i = 0; i < n; i += BATCH) {
    batches.push(
      Array.from({ length: Math.min(BATCH, n - i) }, (_, k) => makeSample(i + k, shape)),
    );
  }

  // Memory: the baseline's contexts, then ours on top (both stay alive, so no freed garbage
  // can make a figure negative).
  const start = heap();
  const base = new StringMapBaseline();
  for (const b of batches) base.add(b);
  const mid = heap();
  const registry = new Registry();
  const agg = newAggregator(n + 1, registry);
  const t0 = performance.now();
  for (const b of batches) agg.addSamples(b);
  const createMs = performance.now() - t0;
  const ours = (heap() - mid) / n;
  const live = registry.read("aggregator.DogstatsdContexts");
  if (live !== n || base.map.size !== n) {
    throw new Error(`Expected ${n} contexts, got ${live} (baseline ${base.map.size})`);
  }
  const baseline = (mid - start) / n;

  const a = await throughput((b) => agg.addSamples(b), batches);
  const b = await throughput((x) => base.add(x), batches);
  const f0 = performance.now();
  const flushed = await agg.flush({ now: 1_700_000_020 });
  const flushMs = performance.now() - f0;

  results.push({
    contexts: n,
    tagSets: shape,
    linesPerSec: round(a),
    baselineLinesPerSec: round(b),
    speedRatio: round(a / b, 2),
    bytesPerContext: round(ours),
    baselineBytesPerContext: round(baseline),
    memoryRatio: round(ours / baseline, 2),
    contextsCreatedPerSec: round(n / (createMs / 1000)),
    flushMs: round(flushMs, 1),
    flushedSeries: flushed.series,
  });
}

console.table(
  results.map((r) => ({
    contexts: r.contexts.toLocaleString(),
    "tag sets": r.tagSets,
    "lines/s": r.linesPerSec.toLocaleString(),
    "baseline lines/s": r.baselineLinesPerSec.toLocaleString(),
    "× baseline": r.speedRatio,
    "B/context": r.bytesPerContext,
    "baseline B/context": r.baselineBytesPerContext,
    "memory × baseline": r.memoryRatio,
    "new contexts/s": r.contextsCreatedPerSec.toLocaleString(),
    "flush ms": r.flushMs,
  })),
);

const out = join(ROOT, "bench", "results");
mkdirSync(out, { recursive: true });
writeFileSync(
  join(out, "aggregator.json"),
  JSON.stringify(
    {
      bench: "aggregator",
      runtime: `${runtime.name} ${runtime.version}`,
      date: new Date().toISOString(),
      batch: BATCH,
      mix: "55% counter, 35% gauge, 5% histogram, 5% set; 3-6 tags",
      baseline: "Map<string, {v}> keyed by name|host|sorted tags",
      goals: { bytesPerContext: 600 },
      results,
    },
    null,
    2,
  ) + "\n",
);
console.log(`Wrote ${join("bench", "results", "aggregator.json")}`);
