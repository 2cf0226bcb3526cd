/**
 * Sustained DogStatsD lines/s through the whole agent: this script sends counters with known
 * totals (8 KB datagrams, `--contexts` contexts per step) at stepped rates for `--seconds` each
 * to the compiled `outpost run`, which forwards to a separate `outpost intake`. After SIGTERM
 * (incomplete buckets flushed) each step's sum at the intake (rate total × 10) is compared with
 * what was sent; the agent's own `/debug/vars` (`aggregator.DogstatsdMetricSample`), read after
 * each step, separates UDP loss (sent − received) from pipeline loss (received − at the intake).
 *
 * Baseline in the same run: the same sender and steps into a bare UDP socket in another process
 * that only counts lines (the most any receiver on this machine could take).
 *
 *   bun scripts/bench/pipeline.ts [--bin dist/outpost-linux-x64] [--seconds 10]
 *       [--rates 25000,50000,75000,100000,200000,400000] [--contexts 100]
 *
 * Prints a table and writes bench/results/pipeline.json.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createSocket } from "node:dgram";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { report } from "./_report.ts";
import {
  agentSetup,
  binary,
  freeUdpPort,
  LineSender,
  paced,
  sleep,
  startAgent,
  startIntake,
} from "./_agent.ts";

const { values: args } = parseArgs({
  options: {
    bin: { type: "string" },
    seconds: { type: "string", default: "10" },
    rates: { type: "string", default: "25000,50000,75000,100000,200000,400000" },
    contexts: { type: "string", default: "100" },
    // Baseline child: counts lines arriving on --port, prints the count when asked.
    sink: { type: "boolean", default: false },
    port: { type: "string" },
  },
});

/** The bare receiver: counts lines, prints the count so far every 50 ms. */
async function sink(): Promise<void> {
  let lines = 0;
  setInterval(() => process.stdout.write(`${lines}\n`), 50);
  const s = createSocket("udp4");
  s.on("message", (msg: Buffer) => {
    lines++;
    for (const b of msg) if (b === 10) lines++;
  });
  s.bind(Number(args.port), "127.0.0.1");
}

const seconds = Number(args.seconds);
const rates = args.rates!.split(",").map(Number);
const contexts = Number(args.contexts);
const metricOf = (rate: number) => `outpost.bench.pipeline.r${rate}`;

/** Sends one step: `rate` lines/s of `<metric>:1|c|#k:<i % contexts>`; returns lines sent. */
async function step(sender: LineSender, rate: number) {
  const metric = metricOf(rate);
  const lines = Array.from({ length: contexts }, (_, k) => `${metric}:1|c|#k:${k}`);
  return await paced(sender, rate, seconds, (i) => sender.line(lines[i % contexts]));
}

async function baseline(): Promise<
  { rate: number; sent: number; achieved: number; got: number }[]
> {
  const port = await freeUdpPort();
  const proc = Bun.spawn({
    cmd: [
      process.execPath,
      resolve(import.meta.dirname, "pipeline.ts"),
      "--sink",
      "--port",
      String(port),
    ],
    stdout: "pipe",
    stderr: "inherit",
  });
  let latest = 0;
  (async () => {
    for await (const c of proc.stdout as ReadableStream<Uint8Array>) {
      const last = new TextDecoder().decode(c).trim().split("\n").at(-1);
      if (last) latest = Number(last);
    }
  })();
  const count = async () => {
    await sleep(200); // two reports after the last datagram
    return latest;
  };
  await sleep(500); // bound
  const sender = new LineSender(port);
  const out = [];
  let before = await count();
  for (const rate of rates) {
    const { emitted, rate: achieved } = await step(sender, rate);
    await sleep(300);
    const now = await count();
    out.push({ rate, sent: emitted, achieved, got: now - before });
    before = now;
  }
  sender.close();
  proc.kill("SIGTERM");
  await proc.exited;
  return out;
}

async function main(): Promise<void> {
  const bin = binary(args.bin);
  const dir = mkdtempSync(join(tmpdir(), "outpost-pipeline-bench-"));
  const base = await baseline();
  console.log(
    "baseline (bare socket):",
    base.map((b) => `${b.rate}: ${b.got}/${b.sent}`).join(", "),
  );

  const intake = await startIntake(bin, join(dir, "intake"), "2gb");
  const setup = await agentSetup(dir, intake.url);
  const agent = await startAgent(bin, setup);
  const sender = new LineSender(setup.dogstatsdPort);
  const samples = async () => (await agent.vars()).aggregator.DogstatsdMetricSample as number;
  const steps = [];
  let before = await samples();
  for (const rate of rates) {
    const { emitted, rate: achieved } = await step(sender, rate);
    await sleep(300); // the socket buffer drains
    const now = await samples();
    steps.push({ rate, sent: emitted, achieved, received: now - before });
    console.log(`agent step ${rate}: sent ${emitted}, received ${now - before}`);
    before = now;
  }
  sender.close();
  const code = await agent.stop("SIGTERM");
  if (code !== 0) throw new Error(`agent exited with ${code}:\n${agent.stderr()}`);

  const rows = [];
  const results = [];
  for (const [i, s] of steps.entries()) {
    const at = await intake.get(`/outpost/intake/series?metric=${metricOf(s.rate)}`);
    const delivered = Math.round(at.total * 10);
    const b = base[i];
    const r = {
      targetRate: s.rate,
      sentRate: Math.round(s.achieved),
      sent: s.sent,
      received: s.received,
      delivered,
      udpLoss: s.sent - s.received,
      pipelineLoss: s.received - delivered,
      baselineSent: b.sent,
      baselineReceived: b.got,
      /** Lines delivered per line a bare socket received at the same step. */
      vsBaseline: Math.round((delivered / Math.max(1, b.got)) * 1000) / 1000,
    };
    results.push(r);
    rows.push({
      "target lines/s": r.targetRate,
      "sent lines/s": r.sentRate,
      "agent received": r.received,
      "at intake": r.delivered,
      "UDP loss": r.udpLoss,
      "pipeline loss": r.pipelineLoss,
      "bare socket received": r.baselineReceived,
      "intake / bare": r.vsBaseline,
    });
  }
  await intake.stop();
  rmSync(dir, { recursive: true, force: true });

  // Lines per second over each step's own duration (sent / sent rate).
  const perSecond = (n: number, sent: number, rate: number) => Math.round(n / (sent / rate));
  const lossless = results.filter((r) => r.pipelineLoss === 0);
  const peakDelivered = Math.max(
    0,
    ...lossless.map((r) => perSecond(r.delivered, r.sent, r.sentRate)),
  );
  const peakBare = Math.max(0, ...base.map((b) => perSecond(b.got, b.sent, b.achieved)));
  const highestClean = (xs: { rate: number; ok: boolean }[]) =>
    Math.max(0, ...xs.filter((x) => x.ok).map((x) => Math.round(x.rate)));
  const summary = {
    /** The highest offered rate whose every received line reached the intake. */
    highestSentRateZeroPipelineLoss: highestClean(
      results.map((r) => ({ rate: r.sentRate, ok: r.pipelineLoss === 0 })),
    ),
    /** Lines/s that reached the intake at the best step with 0 pipeline loss. */
    peakDeliveredLinesPerSecond: peakDelivered,
    /** Baseline: lines/s a bare node:dgram socket received at its best step. */
    baselinePeakReceivedLinesPerSecond: peakBare,
    peakDeliveredVsBaseline: Math.round((peakDelivered / Math.max(1, peakBare)) * 1000) / 1000,
    /** The highest rate with no loss at all (UDP included), agent and bare socket. */
    highestRateZeroLoss: highestClean(
      results.map((r) => ({ rate: r.sentRate, ok: r.pipelineLoss === 0 && r.udpLoss === 0 })),
    ),
    baselineHighestRateZeroLoss: highestClean(
      base.map((b) => ({ rate: b.achieved, ok: b.got === b.sent })),
    ),
  };
  console.log(summary);
  report("pipeline", rows, {
    seconds,
    contexts,
    packetBytes: 8192,
    summary,
    steps: results,
  });
}

if (args.sink) await sink();
else await main();
