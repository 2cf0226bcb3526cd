/**
 * UDP load: a separate sender process blasts realistic 8 KB packets (many typical lines each)
 * at the DogStatsD server for a fixed time at stepped rates. Loss is counted from the agent's
 * own counters (`dogstatsd.MetricPackets`, `dogstatsd-udp.Packets`) against what the sender
 * managed to send; the result is the highest rate with < 0.1 % loss. The server feeds the real
 * aggregator, as in the agent.
 *
 *   bun scripts/bench/udp-load.ts [--seconds 10] [--rates 50000,100000,…] [--rcvbufs 0,4194304]
 *
 * Each `--rcvbufs` entry is one run with that `dogstatsd_so_rcvbuf` (0 = the OS default).
 *
 * Prints a table and writes the `udp_load` section of bench/results/dogstatsd.json.
 */
import { writeSection } from "./_report.ts";
import { parseArgs } from "node:util";
import { DogStatsDServer } from "../../src/dogstatsd/mod.ts";
import { Aggregator, memorySink } from "../../src/aggregator/mod.ts";
import { Registry } from "../../src/telemetry/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { runtime } from "../../src/runtime/mod.ts";

const { values: args } = parseArgs({
  options: {
    sender: { type: "boolean" },
    port: { type: "string" },
    rate: { type: "string" },
    seconds: { type: "string", default: "10" },
    rates: { type: "string", default: "50000,100000,200000,400000,600000,800000,1200000" },
    rcvbufs: { type: "string", default: "0,4194304" },
  },
});
const MAX_LOSS = 0.001;
const CONTEXTS = 10_000;

/** 8 KB packets of typical lines over CONTEXTS contexts. */
function buildPackets(): { packets: Uint8Array[]; lines: number[] } {
  const enc = new TextEncoder();
  const packets: Uint8Array[] = [];
  const lines: number[] = [];
  let chunk = "";
  let n = 0;
  for (let i = 0; packets.length < 256; i++) {
    const c = i % CONTEXTS;
    const type = c % 10 < 6 ? "c" : c % 10 < 9 ? "g" : "ms";
    const l = `app.request.metric_${c % 50}:${(i * 7.31) % 1000}|${type}` +
      `|#env:prod,service:svc-${c % 13},ctx:${c}${c % 2 ? ",region:eu-1" : ""}\n`;
    if (chunk.length + l.length > 8192) {
      packets.push(enc.encode(chunk));
      lines.push(n);
      chunk = "";
      n = 0;
    }
    chunk += l;
    n++;
  }
  return { packets, lines };
}

/** The sender process: paces packets every 5 ms, then prints what it sent. */
async function sender(port: number, rate: number, seconds: number): Promise<void> {
  const { packets, lines } = buildPackets();
  const socket = await runtime.listenUdp("127.0.0.1", 0, { onBatch() {} });
  const start = performance.now();
  const end = start + seconds * 1000;
  let sentLines = 0;
  let sentPackets = 0;
  let k = 0;
  while (performance.now() < end) {
    const due = ((performance.now() - start) / 1000) * rate;
    while (sentLines < due) {
      socket.send(packets[k], "127.0.0.1", port);
      sentLines += lines[k];
      sentPackets++;
      k = (k + 1) % packets.length;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  socket.close();
  console.log(JSON.stringify({ sentLines, sentPackets }));
}

async function step(server: DogStatsDServer, registry: Registry, rate: number, seconds: number) {
  const read = (name: string) => (registry.read(name) as number | undefined) ?? 0;
  const lines0 = read("dogstatsd.MetricPackets") + read("dogstatsd.MetricParseErrors");
  const packets0 = read("dogstatsd-udp.Packets");
  const child = await runtime.spawn([
    process.execPath,
    import.meta.filename,
    "--sender",
    "--port",
    String(server.udpPort),
    "--rate",
    String(rate),
    "--seconds",
    String(seconds),
  ], { timeoutMs: (seconds + 30) * 1000 });
  await new Promise((r) => setTimeout(r, 500)); // let the last packets drain
  const sent = JSON.parse(new TextDecoder().decode(child.stdout).trim().split("\n").at(-1)!);
  const receivedLines = read("dogstatsd.MetricPackets") + read("dogstatsd.MetricParseErrors") -
    lines0;
  const receivedPackets = read("dogstatsd-udp.Packets") - packets0;
  return {
    target_lines_per_s: rate,
    sent_lines_per_s: Math.round(sent.sentLines / seconds),
    received_lines: receivedLines,
    sent_lines: sent.sentLines,
    sent_packets: sent.sentPackets,
    received_packets: receivedPackets,
    loss_pct: Number((100 * (1 - receivedLines / sent.sentLines)).toFixed(3)),
  };
}

/** Steps up the rates against one server until loss reaches 0.1 %. */
async function run(rcvbuf: number, seconds: number) {
  const registry = new Registry();
  const log = createLogger({ level: "off" });
  const aggregator = new Aggregator({
    sink: memorySink(),
    hostname: "bench",
    registry,
    log: log.for("aggregator"),
  });
  const server = new DogStatsDServer({
    udpHost: "127.0.0.1",
    udpPort: 0,
    socketPath: "",
    bufferSize: 8192,
    receiveBufferSize: rcvbuf,
    eolRequired: { udp: false, uds: false },
    forward: { host: "", port: 0 },
    parser: {},
  }, { runtime, sink: aggregator, registry, logger: log });
  await server.start();
  // The agent flushes every 15 s; keep memory flat the same way during the run.
  const flusher = setInterval(() => void aggregator.flush(), 15_000);
  const steps = [];
  let best = 0;
  for (const rate of args.rates!.split(",").map(Number)) {
    const row = await step(server, registry, rate, seconds);
    steps.push(row);
    console.log({ rcvbuf, ...row });
    if (row.loss_pct / 100 >= MAX_LOSS) break;
    best = Math.max(best, row.sent_lines_per_s);
  }
  clearInterval(flusher);
  await server.stop();
  console.table(steps);
  console.log(`dogstatsd_so_rcvbuf ${rcvbuf}: highest rate with < 0.1 % loss: ${best} lines/s`);
  return { dogstatsd_so_rcvbuf: rcvbuf, highest_rate_under_0_1pct_loss_lines_per_s: best, steps };
}

async function main(): Promise<void> {
  const seconds = Number(args.seconds);
  const runs = [];
  for (const rcvbuf of args.rcvbufs!.split(",").map(Number)) runs.push(await run(rcvbuf, seconds));

  writeSection("dogstatsd", "udp_load", {
    seconds_per_step: seconds,
    packet: "8 KB, ~85 lines of name:value|type|#3–4 tags over 10k contexts",
    baseline: "the rate the sender process actually achieved (same run)",
    runs,
  });
}

if (args.sender) await sender(Number(args.port), Number(args.rate), Number(args.seconds));
else await main();
