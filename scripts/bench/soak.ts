/**
 * Soak: the compiled `outpost run` fed `--rate` DogStatsD lines/s for `--minutes`, over
 * `--contexts` live contexts of which `--churn` are replaced by new ones every minute (so old
 * contexts expire and new ones are created all along, as containers and request ids do), in
 * 1,432-byte datagrams, forwarding to a separate `outpost intake`.
 *
 *   bun scripts/bench/soak.ts [--bin dist/outpost-linux-x64] [--minutes 60] [--rate 50000]
 *       [--contexts 10000] [--churn 0.1] [--warmup 10] [--minute-seconds 60]
 *
 * Every minute: the agent's RSS, anonymous and file-backed apart (/proc/PID/status), and the
 * contexts its aggregator holds. At the end (SIGTERM, open buckets flushed) every line is
 * accounted for: sent = received by the agent (`aggregator.DogstatsdMetricSample`) = the sum at
 * the intake. The figure of merit is RSS growth between minute `--warmup` and the last minute.
 * Prints a table and writes bench/results/soak.json.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { report } from "./_report.ts";
import { agentSetup, binary, LineSender, paced, startAgent, startIntake } from "./_agent.ts";

const { values: args } = parseArgs({
  options: {
    bin: { type: "string" },
    minutes: { type: "string", default: "60" },
    rate: { type: "string", default: "50000" },
    contexts: { type: "string", default: "10000" },
    churn: { type: "string", default: "0.1" },
    warmup: { type: "string", default: "10" },
    // Seconds in a "minute": shorter for a quick try of the script itself.
    "minute-seconds": { type: "string", default: "60" },
  },
});
const minutes = Number(args.minutes);
const rate = Number(args.rate);
const contexts = Number(args.contexts);
const churned = Math.round(contexts * Number(args.churn));
const warmup = Math.min(Number(args.warmup), minutes - 1);
const minuteSeconds = Number(args["minute-seconds"]);
const METRIC = "outpost.bench.soak";

/** Resident memory of `pid` in MiB: all, anonymous, file-backed. */
function rss(pid: number): { rss: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (key: string) => Number(status.match(new RegExp(`^${key}:\\s+(\\d+)`, "m"))?.[1]);
  const mib = (k: number) => Math.round((k / 1024) * 10) / 10;
  return { rss: mib(kib("VmRSS")), anon: mib(kib("RssAnon")), file: mib(kib("RssFile")) };
}

const bin = binary(args.bin);
const dir = mkdtempSync(join(tmpdir(), "outpost-soak-"));
// The cap is far above what an hour stores, so nothing is evicted before the totals are read.
const intake = await startIntake(bin, join(dir, "intake"), "20gb");
const setup = await agentSetup(dir, intake.url);
const agent = await startAgent(bin, setup);
const sender = new LineSender(setup.dogstatsdPort, 1432);

const rows: Record<string, number>[] = [];
let sent = 0;
try {
  for (let minute = 1; minute <= minutes; minute++) {
    // Contexts [first, first + contexts) are live this minute; `churned` are new each minute.
    const first = (minute - 1) * churned;
    const lines = Array.from({ length: contexts }, (_, k) => `${METRIC}:1|c|#ctx:${first + k}`);
    const { emitted } = await paced(
      sender,
      rate,
      minuteSeconds,
      (i) => sender.line(lines[i % contexts]),
    );
    sent += emitted;
    const vars = await agent.vars();
    const row = {
      minute,
      ...rss(agent.pid),
      contexts: vars.aggregator.DogstatsdContexts,
      received: vars.aggregator.DogstatsdMetricSample,
      sent,
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
} finally {
  sender.close();
}
const received = (await agent.vars()).aggregator.DogstatsdMetricSample as number;
const code = await agent.stop("SIGTERM");
if (code !== 0) throw new Error(`the agent exited with ${code}:\n${agent.stderr()}`);
// Counters reach the intake as rates per second of a 10 s bucket.
const atIntake = Math.round(
  (await intake.get(`/outpost/intake/series?metric=${METRIC}`)).total * 10,
);
await intake.stop();
rmSync(dir, { recursive: true, force: true });

const at = (m: number) => rows.find((r) => r.minute === m)!;
const growth = (at(minutes).rss - at(warmup).rss) / at(warmup).rss;
const summary = {
  minutes,
  rate,
  contexts,
  churn_per_minute: churned,
  sent,
  received,
  at_intake: atIntake,
  exact: sent === received && received === atIntake,
  rss_mib_at_warmup: at(warmup).rss,
  rss_mib_at_end: at(minutes).rss,
  rss_growth_after_warmup: Math.round(growth * 10000) / 10000,
  anon_mib_at_end: at(minutes).anon,
  file_mib_at_end: at(minutes).file,
};
console.log(summary);
report("soak", rows, { warmup_minute: warmup, summary, minutes: rows });
