/**
 * DogStatsD throughput and memory.
 *
 * - parse-only: lines per second through `DogStatsDParser.parsePacket` on 8 KB packets of
 *   typical lines (name, value, 3–6 tags), against a baseline measured in the same run: the
 *   obvious string parser (decode the packet, `split` on `\n`, `|`, `,`).
 * - parse+aggregate: the same packets parsed and fed to the aggregator, at 1k, 10k, 100k and
 *   1M contexts (every context seen once per pass, lines repeat contexts below 100k).
 * - heap per context: heap growth after N new contexts enter the aggregator, after a full GC.
 *
 *   bun scripts/bench/dogstatsd.ts [--quick] [--against <checkout>]
 *
 * `--against` loads the parser and aggregator of another checkout (say, the commit before a
 * change, with its own node_modules) and runs them in the same rounds as this tree's:
 * `vs_against` is this tree's lines/s over the other's, median of per-round ratios.
 *
 * Prints a table and writes the `dogstatsd` section of bench/results/dogstatsd.json (the
 * `udp_load` section is written by scripts/bench/udp-load.ts).
 */
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { writeSection } from "./_report.ts";
import { Bench } from "tinybench";
import { DogStatsDParser, type ParsedItems } from "../../src/dogstatsd/mod.ts";
import { Aggregator, memorySink } from "../../src/aggregator/mod.ts";
import { Registry } from "../../src/telemetry/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import type { MetricSample } from "../../src/metrics/model.ts";

const { values: args } = parseArgs({
  options: { quick: { type: "boolean" }, against: { type: "string" } },
});
const QUICK = args.quick === true;
const PACKET_BYTES = 8192;
const NOW = 1_700_000_003;

/** Line `i` of a workload with `contexts` contexts: 60% counters, 30% gauges, 10% timers. */
function line(i: number, contexts: number): string {
  const c = i % contexts;
  const type = c % 10 < 6 ? "c" : c % 10 < 9 ? "g" : "ms";
  const tags = [`env:prod`, `service:svc-${c % 13}`, `ctx:${c}`];
  if (c % 2 === 0) tags.push(`region:eu-${c % 3}`);
  if (c % 3 === 0) tags.push(`status_code:${200 + (c % 5)}`);
  if (c % 4 === 0) tags.push(`version:1.${c % 9}.0`);
  return `app.request.metric_${c % 50}:${(i * 7.31) % 1000}|${type}|#${tags.join(",")}`;
}

/** Packs lines into packets of at most 8 KB, as clients do. */
function packets(lines: number, contexts: number): Uint8Array[] {
  const enc = new TextEncoder();
  const out: Uint8Array[] = [];
  let chunk = "";
  for (let i = 0; i < lines; i++) {
    const l = line(i, contexts) + "\n";
    if (chunk.length + l.length > PACKET_BYTES) {
      out.push(enc.encode(chunk));
      chunk = "";
    }
    chunk += l;
  }
  if (chunk) out.push(enc.encode(chunk));
  return out;
}

const dec = new TextDecoder();
/** The baseline: one string per packet, then `split` everywhere. Metrics only. */
function naiveParse(packet: Uint8Array, out: MetricSample[]): void {
  for (const l of dec.decode(packet).split("\n")) {
    if (l === "") continue;
    const fields = l.split("|");
    const colon = fields[0].indexOf(":");
    const name = fields[0].slice(0, colon);
    const values = fields[0].slice(colon + 1).split(":");
    let tags: string[] = [];
    let host = "";
    let sampleRate = 1;
    for (let f = 2; f < fields.length; f++) {
      if (fields[f][0] === "#") tags = fields[f].slice(1).split(",");
      else if (fields[f][0] === "@") sampleRate = Number(fields[f].slice(1));
    }
    tags = tags.filter((t) => (t.startsWith("host:") ? ((host = t.slice(5)), false) : true));
    for (const v of values) {
      out.push({
        name,
        value: Number(v),
        rawValue: undefined,
        type: fields[1] === "g" ? "gauge" : fields[1] === "c" ? "counter" : "histogram",
        tags,
        host,
        sampleRate,
        timestamp: 0,
        unit: undefined,
      });
    }
  }
}

const silent = createLogger({ level: "off" });

/** The parser and aggregator of one source tree. */
interface Impl {
  newParser(): DogStatsDParser;
  newAggregator(): Aggregator;
}
function impl(
  Parser: typeof DogStatsDParser,
  Agg: typeof Aggregator,
  sink: typeof memorySink,
  Reg: typeof Registry,
): Impl {
  return {
    newParser: () => new Parser(new Reg()),
    newAggregator: () =>
      new Agg({
        sink: sink(),
        hostname: "bench",
        registry: new Reg(),
        log: silent.for("aggregator"),
        now: () => NOW,
        // Measures the cost of a line, not the memory bound: at 1M contexts the default
        // dogstatsd_context_bytes_limit refuses about a quarter of them. (Ignored before it.)
        contextBytesLimit: 2 ** 40,
      }),
  };
}
const current = impl(DogStatsDParser, Aggregator, memorySink, Registry);
const { newParser, newAggregator } = current;

/** The other checkout's implementation and its commit, for `--against`. */
async function loadAgainst(dir: string): Promise<{ impl: Impl; commit: string }> {
  const from = (p: string) => import(pathToFileURL(resolve(dir, p)).href);
  const [d, a, t] = await Promise.all([
    from("src/dogstatsd/mod.ts"),
    from("src/aggregator/mod.ts"),
    from("src/telemetry/mod.ts"),
  ]);
  const commit = execFileSync("git", ["-C", dir, "rev-parse", "--short", "HEAD"]).toString();
  return {
    impl: impl(d.DogStatsDParser, a.Aggregator, a.memorySink, t.Registry),
    commit: commit.trim(),
  };
}
const against = args.against ? await loadAgainst(args.against) : undefined;

function parseAll(parser: DogStatsDParser, pkts: Uint8Array[], sink?: Aggregator): number {
  let n = 0;
  for (const p of pkts) {
    const out: ParsedItems = { samples: [], events: [], serviceChecks: [] };
    parser.parsePacket(p, out);
    n += out.samples.length;
    sink?.addSamples(out.samples, NOW);
  }
  return n;
}

interface Row {
  case: string;
  contexts: number;
  lines_per_s: number;
  vs_baseline: number;
  vs_against?: number;
}
const rows: Row[] = [];
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Runs `tasks` in interleaved rounds, one tinybench run per round, and reports the median
 * lines/s of each and the median per-round ratio to the first (the baseline) and, for a task
 * naming a `vs` task, to that one. The machine is shared: load swings between tasks run back
 * to back skew a ratio; within a round they hit all tasks alike. Every other round runs the
 * tasks after the baseline in reverse order, so neither side of a pair always runs first.
 */
async function compare(
  contexts: number,
  lines: number,
  rounds: number,
  tasks: Array<[string, () => void, number?]>,
): Promise<void> {
  const perTask = tasks.map(() => [] as number[]);
  const ratios = tasks.map(() => [] as number[]);
  const vsRatios = tasks.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    const bench = new Bench({ time: QUICK ? 100 : 250, warmupTime: 0, iterations: 1 });
    const order = tasks.map((_, i) => i);
    if (r % 2 === 1) order.splice(1, order.length - 1, ...order.slice(1).reverse());
    for (const i of order) bench.add(tasks[i][0], tasks[i][1]);
    await bench.run();
    const lps: number[] = [];
    bench.tasks.forEach((t, j) => {
      const res = t.result as { latency?: { mean: number } };
      lps[order[j]] = (lines / (res.latency?.mean ?? Infinity)) * 1000;
    });
    lps.forEach((v, i) => {
      perTask[i].push(v);
      ratios[i].push(v / lps[0]);
      const vs = tasks[i][2];
      if (vs !== undefined) vsRatios[i].push(v / lps[vs]);
    });
  }
  tasks.forEach(([name, , vs], i) => {
    rows.push({
      case: name,
      contexts,
      lines_per_s: Math.round(median(perTask[i])),
      vs_baseline: Number(median(ratios[i]).toFixed(2)),
      ...(vs !== undefined ? { vs_against: Number(median(vsRatios[i]).toFixed(3)) } : {}),
    });
  });
  console.table(rows.slice(-tasks.length));
}

for (const contexts of QUICK ? [1_000, 10_000, 100_000] : [1_000, 10_000, 100_000, 1_000_000]) {
  // Every context is seen once per pass; below 100k contexts lines repeat contexts.
  const lines = Math.max(contexts, 100_000);
  const pkts = packets(lines, contexts);
  const parser = newParser();
  const agg = newAggregator();
  parseAll(parser, pkts, agg); // create the contexts before timing: steady state
  const rounds = contexts >= 1_000_000 ? 3 : QUICK ? 3 : 7;
  const tasks: Array<[string, () => void, number?]> = [
    ["baseline string parser", () => {
      const out: MetricSample[] = [];
      for (const p of pkts) naiveParse(p, out);
    }],
    ["parse only", () => void parseAll(parser, pkts), against ? 3 : undefined],
    ["parse + aggregate", () => void parseAll(parser, pkts, agg), against ? 4 : undefined],
  ];
  if (against) {
    const otherParser = against.impl.newParser();
    const otherAgg = against.impl.newAggregator();
    parseAll(otherParser, pkts, otherAgg);
    tasks.push(
      [`parse only @${against.commit}`, () => void parseAll(otherParser, pkts)],
      [`parse + aggregate @${against.commit}`, () => void parseAll(otherParser, pkts, otherAgg)],
    );
  }
  await compare(contexts, lines, rounds, tasks);
}

/** Heap growth per new context, after a full GC on both sides. */
function heapPerContext(contexts: number): number {
  const gc = () => (globalThis as { Bun?: { gc(full: boolean): void } }).Bun?.gc(true);
  const pkts = packets(contexts, contexts);
  const parser = newParser();
  const agg = newAggregator();
  parseAll(parser, packets(10_000, 100), agg); // warm the parser and aggregator structures
  gc();
  const before = process.memoryUsage().heapUsed;
  parseAll(parser, pkts, agg);
  gc();
  const after = process.memoryUsage().heapUsed;
  void agg.options; // the aggregator must stay alive until after the measurement
  return Math.round((after - before) / contexts);
}
const heap = (QUICK ? [100_000] : [100_000, 1_000_000]).map((contexts) => ({
  contexts,
  bytes_per_context: heapPerContext(contexts),
  vs_go_agent_budget_1500: 0,
}));
for (const h of heap) h.vs_go_agent_budget_1500 = Number((h.bytes_per_context / 1500).toFixed(2));

console.table(rows);
console.table(heap);

writeSection("dogstatsd", "dogstatsd", {
  workload: "8 KB packets; lines name:value|type|#3–6 tags; 60% c, 30% g, 10% ms",
  baseline: "string parser: TextDecoder per packet, split on \\n | , (same run)",
  ...(against ? { against: against.commit } : {}),
  throughput: rows,
  heap,
});
