/**
 * Start-up time and idle memory of the compiled binary.
 *
 *   bun scripts/bench/startup.ts [--bin dist/outpost-linux-x64] [--runs 20] [--idle 10]
 *
 * - ready: exec of `outpost run` until `/agent/status/health` answers 200, median of N runs;
 * - baseline: exec of `outpost version` until it exits (the same binary starting and stopping
 *   with no server), measured in the same run so the ratio survives a noisy machine;
 * - idle RSS: VmRSS of `outpost run` after --idle seconds, against a bare `bun` process idling
 *   for the same time (the runtime's own floor).
 * Goals: ready ≤ 30 ms, idle RSS ≤ 40 MB.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { median, report } from "./_report.ts";
import { freePort } from "./_agent.ts";

const { values } = parseArgs({
  options: {
    bin: { type: "string", default: resolve(import.meta.dirname, "../../dist/outpost-linux-x64") },
    runs: { type: "string", default: "20" },
    idle: { type: "string", default: "10" },
  },
});
const BIN = resolve(values.bin!);
const RUNS = Number(values.runs);
const IDLE_S = Number(values.idle);

async function startRun(): Promise<{ proc: ReturnType<typeof Bun.spawn>; ms: number }> {
  const dir = mkdtempSync(join(tmpdir(), "outpost-bench-"));
  const port = await freePort();
  const token = "ab".repeat(32);
  writeFileSync(join(dir, "auth_token"), token, { mode: 0o600 });
  const config = join(dir, "datadog.yaml");
  writeFileSync(
    config,
    `api_key: 0123456789abcdef0123456789abcdef\ncmd_port: ${port}\nrun_path: ${dir}\nlog_level: warn\n`,
  );
  const url = `http://127.0.0.1:${port}/agent/status/health`;
  const t0 = performance.now();
  const proc = Bun.spawn({ cmd: [BIN, "run", "-c", config], stdout: "ignore", stderr: "ignore" });
  for (;;) {
    try {
      const res = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
      if (res.ok) return { proc, ms: performance.now() - t0 };
    } catch { /* not listening yet */ }
    if (proc.exitCode !== null) throw new Error(`outpost run exited with ${proc.exitCode}`);
    await Bun.sleep(1);
  }
}

async function timeVersion(): Promise<number> {
  const t0 = performance.now();
  await Bun.spawn({ cmd: [BIN, "version"], stdout: "ignore" }).exited;
  return performance.now() - t0;
}

function rssMiB(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
  return kb / 1024;
}

const ready: number[] = [];
const baseline: number[] = [];
for (let i = 0; i < RUNS; i++) {
  baseline.push(await timeVersion());
  const { proc, ms } = await startRun();
  ready.push(ms);
  proc.kill("SIGTERM");
  await proc.exited;
}

const agent = await startRun();
const bare = Bun.spawn({
  cmd: [process.execPath, "-e", "setInterval(() => {}, 1000)"],
  stdout: "ignore",
});
await Bun.sleep(IDLE_S * 1000);
const agentRss = rssMiB(agent.proc.pid);
const bareRss = rssMiB(bare.pid);
agent.proc.kill("SIGTERM");
bare.kill();
await Promise.all([agent.proc.exited, bare.exited]);

const readyMs = median(ready);
const baselineMs = median(baseline);
report("startup", [
  { measure: "ready (exec → health 200), median ms", value: readyMs.toFixed(1), goal: "≤ 30" },
  {
    measure: "baseline (exec → `version` exits), median ms",
    value: baselineMs.toFixed(1),
    goal: "",
  },
  { measure: "ready / baseline", value: (readyMs / baselineMs).toFixed(2), goal: "" },
  { measure: `idle RSS after ${IDLE_S} s, MiB`, value: agentRss.toFixed(1), goal: "≤ 40" },
  { measure: "bare bun process RSS, MiB", value: bareRss.toFixed(1), goal: "" },
  { measure: "idle RSS / bare bun", value: (agentRss / bareRss).toFixed(2), goal: "" },
], {
  runs: RUNS,
  ready_ms: { median: readyMs, all: ready },
  version_exit_ms: { median: baselineMs, all: baseline },
  idle_seconds: IDLE_S,
  idle_rss_mib: agentRss,
  bare_bun_rss_mib: bareRss,
  goals: { ready_ms: 30, idle_rss_mib: 40 },
});
