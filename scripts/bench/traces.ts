/**
 * Traces end to end over HTTP: dd-trace-shaped v0.4 msgpack bodies POSTed to the compiled
 * agent's receiver, which decodes, processes and writes them (AgentPayloads to a discarding
 * intake stand-in here). Reports spans per second and spans per CPU-second of the agent process
 * (its utime + stime from /proc, so the load generator's own CPU is not counted), the agent's
 * RSS under load, and, in the same run, a bare msgpack walk of the same bodies as the baseline.
 * The reference is the Datadog Agent's published sizing (APM resource usage docs, Agent 7.39.0
 * on c5.2xlarge): 58,000 spans/s per core at 70 MB.
 *
 *   bun scripts/build.ts --target linux-x64 && bun scripts/bench/traces.ts [--bin PATH] [--seconds N]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { binary, freePort, freeUdpPort, Pack, sleep, waitFor } from "./_agent.ts";
import { report } from "./_report.ts";

const { values } = parseArgs({
  options: {
    bin: { type: "string" },
    seconds: { type: "string", default: "10" },
    concurrency: { type: "string", default: "4" },
  },
});
const BIN = binary(values.bin);
const SECONDS = Number(values.seconds);
const CONCURRENCY = Number(values.concurrency);
const TRACES = 10;
const SPANS = 10;
const BODIES = 64;
/** The Datadog Agent's published sizing: spans per second one core handles, and its memory. */
const PUBLISHED = { spansPerSecondPerCore: 58_000, memoryMB: 70 };

const rand64 = () =>
  (BigInt(Math.floor(Math.random() * 2 ** 32)) << 32n) |
  BigInt(Math.floor(Math.random() * 2 ** 32));

/** A v0.4 body of TRACES traces of SPANS spans, shaped like dd-trace-js's http + pg spans. */
function body(): Uint8Array<ArrayBuffer> {
  const p = new Pack();
  p.arr(TRACES);
  const now = BigInt(Date.now()) * 1_000_000n;
  for (let t = 0; t < TRACES; t++) {
    const traceId = rand64();
    const rootId = rand64();
    p.arr(SPANS);
    for (let s = 0; s < SPANS; s++) {
      const root = s === 0;
      const meta: Record<string, string> = root
        ? {
          "_dd.p.tid": "6b1159a000000000",
          "_dd.p.dm": "-0",
          "service": "shop",
          "env": "prod",
          "version": "1.4.2",
          "runtime-id": "66bcfc3c-cfc7-4f7a-8ea8-05c7d13ede2e",
          "span.kind": "server",
          "http.method": "GET",
          "http.url": `http://shop.local/orders/${t}`,
          "http.route": "/orders/:id",
          "http.status_code": "200",
          "component": "http",
          "language": "javascript",
        }
        : {
          "service": "shop-postgres",
          "env": "prod",
          "span.kind": "client",
          "db.type": "postgres",
          "db.name": "shop",
          "out.host": "db.local",
          "component": "pg",
        };
      p.map(12);
      p.str("trace_id");
      p.u64(traceId);
      p.str("span_id");
      p.u64(root ? rootId : rand64());
      p.str("parent_id");
      p.u64(root ? 0n : rootId);
      p.str("name");
      p.str(root ? "web.request" : "pg.query");
      p.str("resource");
      p.str(root ? "GET /orders/:id" : `SELECT * FROM orders WHERE id = ${s}`);
      p.str("service");
      p.str(root ? "shop" : "shop-postgres");
      p.str("type");
      p.str(root ? "web" : "sql");
      p.str("error");
      p.u8(0);
      p.str("start");
      p.u64(now + BigInt(s * 1000), 0xd3);
      p.str("duration");
      p.u64(BigInt(50_000 + s), 0xd3);
      p.str("meta");
      p.map(Object.keys(meta).length);
      for (const [k, v] of Object.entries(meta)) {
        p.str(k);
        p.str(v);
      }
      p.str("metrics");
      p.map(root ? 3 : 1);
      if (root) {
        p.str("_sampling_priority_v1");
        p.f64(1);
        p.str("_dd.top_level");
        p.f64(1);
      }
      p.str("process_id");
      p.f64(4242);
    }
  }
  return new Uint8Array(p.bytes);
}

/** The baseline: walks every msgpack value of a body without building anything; returns spans. */
function walk(b: Uint8Array): number {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let pos = 0;
  let maps = 0;
  const skip = (): void => {
    const c = b[pos++];
    if (c < 0x80 || c >= 0xe0) return;
    if ((c & 0xf0) === 0x80) {
      maps++;
      for (let i = (c & 0x0f) * 2; i > 0; i--) skip();
      return;
    }
    if ((c & 0xf0) === 0x90) {
      for (let i = c & 0x0f; i > 0; i--) skip();
      return;
    }
    if ((c & 0xe0) === 0xa0) {
      pos += c & 0x1f;
      return;
    }
    switch (c) {
      case 0xd9:
        pos += 1 + b[pos];
        return;
      case 0xdc: {
        const n = v.getUint16(pos);
        pos += 2;
        for (let i = 0; i < n; i++) skip();
        return;
      }
      case 0xcb:
      case 0xcf:
      case 0xd3:
        pos += 8;
        return;
      default:
        throw new Error(`walk: unexpected 0x${c.toString(16)}`);
    }
  };
  skip();
  // Each span is a map, and so are its meta and metrics.
  return maps / 3;
}

/** utime + stime of a process in seconds, from /proc. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssMB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

const bodies = Array.from({ length: BODIES }, body);
const spansPerBody = TRACES * SPANS;

// Baseline: the bare walk, on one core, in this process.
let walked = 0;
const walkStart = performance.now();
while (performance.now() - walkStart < 2000) for (const b of bodies) walked += walk(b);
const walkRate = walked / ((performance.now() - walkStart) / 1000);

// The agent, writing to a sink that discards (the intake's decoding is not what is measured).
let sinkBytes = 0;
const sink = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    sinkBytes += (await req.arrayBuffer()).byteLength;
    return Response.json({}, { status: 202 });
  },
});
const dir = mkdtempSync(join(tmpdir(), "outpost-bench-traces-"));
const tracePort = await freePort();
const expvarPort = await freePort();
const config = join(dir, "datadog.yaml");
writeFileSync(
  config,
  [
    "api_key: 0123456789abcdef0123456789abcdef",
    `dd_url: http://127.0.0.1:${sink.port}`,
    "hostname: bench-host",
    `cmd_port: ${await freePort()}`,
    `expvar_port: ${expvarPort}`,
    "gui_port: -1",
    `dogstatsd_port: ${await freeUdpPort()}`,
    `run_path: ${join(dir, "run")}`,
    "apm_config:",
    `  receiver_port: ${tracePort}`,
    `  apm_dd_url: http://127.0.0.1:${sink.port}`,
    "  flush_period: 1",
    "",
  ].join("\n"),
);
const agent = Bun.spawn({ cmd: [BIN, "run", "-c", config], stdout: "ignore", stderr: "ignore" });
const url = `http://127.0.0.1:${tracePort}/v0.4/traces`;
await waitFor(
  "the trace receiver",
  async () => (await fetch(`http://127.0.0.1:${tracePort}/info`)).ok || undefined,
);
const idleRss = rssMB(agent.pid);

let sent = 0;
let refused = 0;
let peakRss = idleRss;
let peakHeap = 0;
/** The agent's JS heap in use (expvar `memstats.HeapAlloc`), to tell garbage from live data. */
const heapMB = async () =>
  (await (await fetch(`http://127.0.0.1:${expvarPort}/debug/vars`)).json()).memstats.HeapAlloc /
  2 ** 20;
const headers = {
  "content-type": "application/msgpack",
  "datadog-meta-lang": "nodejs",
  "x-datadog-trace-count": String(TRACES),
};
async function client(until: number, offset: number) {
  for (let i = offset; Date.now() < until; i++) {
    const res = await fetch(url, { method: "POST", body: bodies[i % BODIES], headers });
    await res.arrayBuffer();
    if (res.status === 200) sent += spansPerBody;
    else refused++;
  }
}
// Warm-up, then the measured run.
await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => client(Date.now() + 1000, i)));
sent = 0;
const cpu0 = cpuSeconds(agent.pid);
const t0 = performance.now();
const sampler = setInterval(async () => {
  peakRss = Math.max(peakRss, rssMB(agent.pid));
  peakHeap = Math.max(peakHeap, await heapMB());
}, 200);
const until = Date.now() + SECONDS * 1000;
await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => client(until, i * 7)));
const elapsed = (performance.now() - t0) / 1000;
const agentCpu = cpuSeconds(agent.pid) - cpu0;
clearInterval(sampler);
await sleep(1500); // the last writer tick
const settledRss = rssMB(agent.pid);
const settledHeap = await heapMB();
agent.kill("SIGTERM");
await agent.exited;
sink.stop(true);
rmSync(dir, { recursive: true, force: true });

const spansPerSecond = sent / elapsed;
const perCore = sent / agentCpu;
const rows = [
  { what: "bare msgpack walk (baseline, 1 core)", "spans/s": Math.round(walkRate) },
  { what: "agent end to end over HTTP", "spans/s": Math.round(spansPerSecond) },
  { what: "agent end to end, per agent CPU-second", "spans/s": Math.round(perCore) },
  { what: "Datadog Agent published sizing, per core", "spans/s": PUBLISHED.spansPerSecondPerCore },
];
report("traces", rows, {
  bodies: { traces: TRACES, spansPerTrace: SPANS, bytes: bodies[0].length },
  seconds: elapsed,
  concurrency: CONCURRENCY,
  spansSent: sent,
  refusedRequests: refused,
  walkSpansPerSecond: walkRate,
  spansPerSecond,
  agentCpuSeconds: agentCpu,
  spansPerCpuSecond: perCore,
  ratioToWalk: perCore / walkRate,
  ratioToPublished: perCore / PUBLISHED.spansPerSecondPerCore,
  rssMB: {
    idle: idleRss,
    peak: peakRss,
    afterLoad: settledRss,
    publishedAtOneCore: PUBLISHED.memoryMB,
  },
  heapMB: { peak: peakHeap, afterLoad: settledHeap },
  writtenBytes: sinkBytes,
  goal: { spansPerSecondPerCore: 100_000, met: perCore >= 100_000 },
});
console.log(
  `agent: ${Math.round(perCore)} spans per CPU-second (${
    (perCore / walkRate).toFixed(2)
  }x the bare walk, ` +
    `${(perCore / PUBLISHED.spansPerSecondPerCore).toFixed(2)}x the published 58,000/core); ` +
    `RSS ${idleRss.toFixed(0)} MB idle, ${peakRss.toFixed(0)} MB peak (JS heap peak ` +
    `${peakHeap.toFixed(0)} MB), ${settledRss.toFixed(0)} MB after the load`,
);
