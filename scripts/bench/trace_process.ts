/**
 * Trace processing in one process, stage by stage: spans per second to decode a dd-trace-
 * shaped `/v0.4/traces` body (10 traces × 10 spans, two shapes, see `body()`), then to normalize/obfuscate/compute top-level/feed stats/sample it, then to encode
 * the AgentPayload — against a bare walk of the same msgpack bytes in the same run. The
 * end-to-end receiver → intake figure is `scripts/bench/traces.ts`.
 *
 *   bun scripts/bench/trace_process.ts       (or: deno run -A scripts/bench/trace_process.ts)
 *
 * Prints a table and writes bench/results/trace_process.json.
 */
import { Bench } from "tinybench";
import { configDefaults } from "../../src/config/mod.ts";
import { Registry } from "../../src/telemetry/registry.ts";
import {
  decodeTracesV04,
  emptyTracerPayload,
  encodeAgentPayload,
  traceProcessingSettings,
  TraceProcessor,
} from "../../src/trace/mod.ts";
import { MsgpackReader } from "../../src/trace/_msgpack.ts";
import { MsgpackWriter } from "../../src/trace/_msgpack_writer.ts";
import { report } from "./_report.ts";

const TRACES = 10;
const SPANS = 10;
const PER_BODY = TRACES * SPANS;

/**
 * One body as dd-trace-js 5 writes it (uint64 ids, int64 times, float64 metrics). `mixed`: a
 * web root, one SQL client span and middleware spans per trace; `client-heavy`: a web root and
 * nine SQL client spans, each counted in stats with its peer tags.
 */
function body(shape: "mixed" | "client-heavy"): Uint8Array {
  const w = new MsgpackWriter(64 * 1024);
  const start = BigInt(Date.now()) * 1_000_000n;
  w.array(TRACES);
  for (let t = 0; t < TRACES; t++) {
    const traceId = 0x8000_0000_0000_0000n + BigInt(t * 7919);
    w.array(SPANS);
    for (let i = 0; i < SPANS; i++) {
      const root = i === 0;
      const sql = shape === "client-heavy" ? !root : i === 1;
      const meta: Record<string, string> = root
        ? {
          "http.method": "GET",
          "http.url": `http://localhost:3000/users/${t}`,
          "http.status_code": "200",
          "http.route": "/users/:id",
          "span.kind": "server",
          component: "express",
          env: "prod",
          version: "1.4.2",
          "_dd.p.dm": "-0",
          "_dd.p.tid": "6553f0a200000000",
          language: "javascript",
          "runtime-id": "8c1c3d2a-5b7e-4f6a-9d0e-2f4b6c8a0e1d",
        }
        : sql
        ? {
          "span.kind": "client",
          "db.type": "postgres",
          "db.name": "app",
          "out.host": "10.0.0.5",
          component: "pg",
        }
        : { component: "express", "express.type": "middleware" };
      const metrics: Record<string, number> = root
        ? {
          _sampling_priority_v1: 1,
          "_dd.agent_psr": 1,
          "_dd.top_level": 1,
          "_dd.measured": 1,
          process_id: 4242,
        }
        : { "_dd.measured": sql ? 1 : 0 };
      w.map(12);
      w.str("trace_id").uint(traceId);
      w.str("span_id").uint(traceId + BigInt(i + 1));
      w.str("parent_id").uint(root ? 0 : traceId + 1n);
      w.str("name").str(root ? "express.request" : sql ? "pg.query" : `express.middleware`);
      w.str("resource").str(
        root ? "GET /users/:id" : sql ? `SELECT * FROM users WHERE id = ${t}` : `mw${i}`,
      );
      w.str("service").str(sql ? "api-postgres" : "api");
      w.str("type").str(sql ? "sql" : "web");
      w.str("error").int(i === 9 && t === 0 ? 1 : 0);
      w.str("start").int64(start + BigInt(i * 1000));
      w.str("duration").int64(BigInt(100_000 + i * 5_000));
      w.str("meta").map(Object.keys(meta).length);
      for (const [k, v] of Object.entries(meta)) w.str(k).str(v);
      w.str("metrics").map(Object.keys(metrics).length);
      for (const [k, v] of Object.entries(metrics)) w.str(k).float64(v);
    }
  }
  return w.finish();
}

const bodies = { mixed: body("mixed"), "client-heavy": body("client-heavy") };
const hints = {
  computedTopLevel: true,
  computedStats: false,
  droppedP0Traces: 0,
  droppedP0Spans: 0,
};
const processor = new TraceProcessor(traceProcessingSettings(configDefaults()), {
  registry: new Registry(),
  hostname: "bench-host",
});
const payload = (traces: ReturnType<typeof decodeTracesV04>) => ({
  ...emptyTracerPayload(),
  languageName: "nodejs",
  tracerVersion: "5.0.0",
  chunks: traces.map((spans) => ({
    priority: -128,
    origin: "",
    spans,
    tags: {},
    droppedTrace: false,
  })),
});
const agentPayload = (tp: ReturnType<typeof payload>) => ({
  hostName: "bench-host",
  env: "none",
  tracerPayloads: [tp],
  tags: {},
  agentVersion: "7",
  targetTPS: 10,
  errorTPS: 10,
  rareSamplerEnabled: false,
});

let sink = 0;
const bench = new Bench({ time: 2000, warmupTime: 300 });
for (const [shape, bytes] of Object.entries(bodies)) {
  bench
    .add(`${shape}: walk msgpack (baseline)`, () => {
      const r = new MsgpackReader(bytes);
      r.skip();
      sink += r.pos;
    })
    .add(`${shape}: decode v0.4`, () => {
      sink += decodeTracesV04(bytes).length;
    })
    .add(`${shape}: decode + process`, () => {
      const { kept } = processor.process(payload(decodeTracesV04(bytes)), hints);
      sink += kept ? kept.chunks.length : 0;
    })
    .add(`${shape}: decode + process + encode AgentPayload`, () => {
      const { kept } = processor.process(payload(decodeTracesV04(bytes)), hints);
      if (kept) sink += encodeAgentPayload(agentPayload(kept)).length;
    });
}
await bench.run();
// Flush the stats too, so the concentrator's work is not left out of the picture.
sink += processor.flushStats(true)?.stats.length ?? 0;

const rows = bench.tasks.map((t) => {
  const r = t.result as { latency: { mean: number; rme: number } };
  return {
    stage: t.name,
    spansPerSecond: Math.round(PER_BODY / (r.latency.mean / 1000)),
    usPerBody: Number((r.latency.mean * 1000).toFixed(1)),
    rmePercent: Number(r.latency.rme.toFixed(1)),
  };
});
// Each shape's ratios are against its own baseline, measured in the same run.
const baseOf = (stage: string) =>
  rows.find((r) => r.stage === `${stage.split(":")[0]}: walk msgpack (baseline)`)!;
const table = rows.map((r) => ({
  ...r,
  vsBaseline: Number((r.spansPerSecond / baseOf(r.stage).spansPerSecond).toFixed(3)),
}));
report("trace_process", table, {
  bench: "trace_process",
  runtime: "Bun" in globalThis ? `bun ${Bun.version}` : `deno ${process.versions.deno}`,
  workload: {
    traces: TRACES,
    spansPerTrace: SPANS,
    bodyBytes: Object.fromEntries(Object.entries(bodies).map(([k, b]) => [k, b.length])),
  },
  goal: "≥ 100,000 spans/s per core end to end (issue 13)",
  baseline: "walk msgpack, per shape",
  results: table,
});
if (sink < 0) console.log(sink);
