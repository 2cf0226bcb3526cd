/**
 * Start-up time and idle memory of the compiled binary.
 *
 *   bun scripts/bench/startup.ts [--bin dist/outpost-linux-x64] [--runs 20] [--idle 10]
 *     [--old-bin PATH | --old-rev REV]
 *
 * - ready: exec of `outpost run` until `/agent/status/health` answers 200, median of N runs,
 *   with the web console off (`gui_port: -1`) and, in the same rounds, on (a free gui_port); with
 *   an old binary (below) its ready is timed in the same rounds too, so what the console costs
 *   when it is off shows as new / old;
 * - baseline: exec of `outpost version` until it exits (the same binary starting and stopping
 *   with no server), measured in the same run so the ratio survives a noisy machine;
 * - status: exec of `outpost status` against a running agent until it exits, median of N runs;
 *   with `--old-bin` (a binary to compare with) or `--old-rev` (a commit, built here in a
 *   temporary git worktree), the old binary's `status` is timed in the same rounds, against the
 *   same agent, and the new / old ratio printed;
 * - idle RSS: VmRSS of `outpost run` after --idle seconds (anonymous and file-backed apart),
 *   against a bare `bun` process idling for the same time;
 * - the floor: a Bun hello-world compiled as outpost is (`--compile --minify --bytecode`) that
 *   answers HTTP 200 on a port, timed exec → 200 in the same rounds, its idle RSS, and both
 *   binaries' sizes, raw and with `xz -6`.
 * Goals: ready ≤ 30 ms, idle RSS ≤ 40 MB, binary ≤ 30 MiB with xz.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { median, report } from "./_report.ts";
import { freePort, freeUdpPort } from "./_agent.ts";

const { values } = parseArgs({
  options: {
    bin: { type: "string", default: resolve(import.meta.dirname, "../../dist/outpost-linux-x64") },
    runs: { type: "string", default: "20" },
    idle: { type: "string", default: "10" },
    "old-bin": { type: "string" },
    "old-rev": { type: "string" },
  },
});
const BIN = resolve(values.bin!);
const RUNS = Number(values.runs);
const IDLE_S = Number(values.idle);
const ROOT = resolve(import.meta.dirname, "../..");
if (values["old-bin"] && values["old-rev"]) {
  throw new Error("Give --old-bin or --old-rev, not both");
}
const OLD_BIN = values["old-bin"]
  ? resolve(values["old-bin"])
  : values["old-rev"]
  ? buildAt(values["old-rev"])
  : null;

/** Builds the linux-x64 binary of commit `rev` in a temporary worktree; returns its path. */
function buildAt(rev: string): string {
  const dir = mkdtempSync(join(tmpdir(), "outpost-bench-old-"));
  const tree = join(dir, "tree");
  const out = join(dir, "outpost-old");
  const git = (...args: string[]) => {
    const r = Bun.spawnSync({ cmd: ["git", ...args], cwd: ROOT, stderr: "pipe", stdout: "pipe" });
    if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr.toString()}`);
  };
  git("worktree", "add", "--detach", tree, rev);
  try {
    symlinkSync(join(ROOT, "node_modules"), join(tree, "node_modules"));
    const build = Bun.spawnSync({
      cmd: [process.execPath, "scripts/build.ts", "--target", "linux-x64", "--outfile", out],
      cwd: tree,
      stdout: "pipe",
      stderr: "pipe",
    });
    if (build.exitCode !== 0) throw new Error(`Cannot build ${rev}: ${build.stderr.toString()}`);
  } finally {
    git("worktree", "remove", "--force", tree);
  }
  console.log(`built ${rev} for comparison`);
  return out;
}

/** The floor: a compiled Bun program answering HTTP 200 on the port it is given. */
function buildHello(dir: string): string {
  const src = join(dir, "hello.ts");
  const out = join(dir, "hello");
  writeFileSync(
    src,
    `Bun.serve({ hostname: "127.0.0.1", port: Number(process.argv[2]), fetch: () => new Response("ok") });\n`,
  );
  const r = Bun.spawnSync({
    cmd: [
      process.execPath,
      "build",
      src,
      "--compile",
      "--minify",
      "--bytecode",
      `--outfile=${out}`,
    ],
    stdout: "pipe",
    stderr: "pipe",
  });
  if (r.exitCode !== 0) throw new Error(`Cannot build the hello-world: ${r.stderr.toString()}`);
  return out;
}

/** Exec of `bin port` until it answers 200; returns the process and the time. */
async function startHello(bin: string) {
  const port = await freePort();
  const t0 = performance.now();
  const proc = Bun.spawn({ cmd: [bin, String(port)], stdout: "ignore", stderr: "ignore" });
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/`)).ok) {
        return { proc, ms: performance.now() - t0 };
      }
    } catch { /* not listening yet */ }
    if (proc.exitCode !== null) throw new Error(`the hello-world exited with ${proc.exitCode}`);
    await Bun.sleep(1);
  }
}

/** Bytes of `path` compressed with `xz -6`. */
function xzBytes(path: string): number {
  const r = Bun.spawnSync({ cmd: ["xz", "-6", "-T1", "-c", path], stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`xz failed: ${r.stderr.toString()}`);
  return r.stdout.length;
}

async function startRun(bin = BIN, console = false): Promise<
  { proc: ReturnType<typeof Bun.spawn>; ms: number; config: string; dir: string }
> {
  const dir = mkdtempSync(join(tmpdir(), "outpost-bench-"));
  const port = await freePort();
  const token = "ab".repeat(32);
  writeFileSync(join(dir, "auth_token"), token, { mode: 0o600 });
  const config = join(dir, "datadog.yaml");
  writeFileSync(
    config,
    // Every port free, not the defaults: another agent on this machine must not fail the start.
    `api_key: 0123456789abcdef0123456789abcdef\ncmd_port: ${port}\nrun_path: ${dir}\n` +
      `log_level: warn\ndogstatsd_port: ${await freeUdpPort()}\nexpvar_port: ${await freePort()}\n` +
      `gui_port: ${console ? await freePort() : -1}\n`,
  );
  const url = `http://127.0.0.1:${port}/agent/status/health`;
  const t0 = performance.now();
  const proc = Bun.spawn({ cmd: [bin, "run", "-c", config], stdout: "ignore", stderr: "ignore" });
  for (;;) {
    try {
      const res = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
      if (res.ok) return { proc, ms: performance.now() - t0, config, dir };
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

/** Exec of `bin status` against the agent of `config` until it exits; it must succeed. */
async function timeStatus(bin: string, config: string): Promise<number> {
  const t0 = performance.now();
  const proc = Bun.spawn({ cmd: [bin, "status", "-c", config], stdout: "ignore", stderr: "pipe" });
  const code = await proc.exited;
  const ms = performance.now() - t0;
  if (code !== 0) {
    throw new Error(`${bin} status exited with ${code}: ${await new Response(proc.stderr).text()}`);
  }
  return ms;
}

function rssMiB(pid: number, field = "VmRSS"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)![1]) / 1024;
}

const helloDir = mkdtempSync(join(tmpdir(), "outpost-bench-hello-"));
const HELLO = buildHello(helloDir);

/** Starts an agent, times it ready, stops it. */
async function timeReady(bin: string, console: boolean): Promise<number> {
  const { proc, ms, dir } = await startRun(bin, console);
  proc.kill("SIGTERM");
  await proc.exited;
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

const ready: number[] = [];
const readyConsole: number[] = [];
const readyOld: number[] = [];
const readyHello: number[] = [];
const baseline: number[] = [];
for (let i = 0; i < RUNS; i++) {
  baseline.push(await timeVersion());
  const hello = await startHello(HELLO);
  readyHello.push(hello.ms);
  hello.proc.kill();
  await hello.proc.exited;
  ready.push(await timeReady(BIN, false));
  readyConsole.push(await timeReady(BIN, true));
  if (OLD_BIN) readyOld.push(await timeReady(OLD_BIN, false));
}

const agent = await startRun();
// Old and new take turns against the same agent, each going first every other round, so load
// on the machine and a warm page cache favour neither.
const statusNew: number[] = [];
const statusOld: number[] = [];
for (let i = 0; i < RUNS; i++) {
  if (OLD_BIN && i % 2 === 1) statusOld.push(await timeStatus(OLD_BIN, agent.config));
  statusNew.push(await timeStatus(BIN, agent.config));
  if (OLD_BIN && i % 2 === 0) statusOld.push(await timeStatus(OLD_BIN, agent.config));
}
const bare = Bun.spawn({
  cmd: [process.execPath, "-e", "setInterval(() => {}, 1000)"],
  stdout: "ignore",
});
const idleHello = await startHello(HELLO);
await Bun.sleep(IDLE_S * 1000);
const agentRss = rssMiB(agent.proc.pid);
const agentAnon = rssMiB(agent.proc.pid, "RssAnon");
const agentFile = rssMiB(agent.proc.pid, "RssFile");
const bareRss = rssMiB(bare.pid);
const helloRss = rssMiB(idleHello.proc.pid);
agent.proc.kill("SIGTERM");
bare.kill();
idleHello.proc.kill();
await Promise.all([agent.proc.exited, bare.exited, idleHello.proc.exited]);
const MiB = 1024 * 1024;
const sizes = {
  outpost_mib: statSync(BIN).size / MiB,
  outpost_xz_mib: xzBytes(BIN) / MiB,
  hello_mib: statSync(HELLO).size / MiB,
  hello_xz_mib: xzBytes(HELLO) / MiB,
};
rmSync(helloDir, { recursive: true, force: true });
rmSync(agent.dir, { recursive: true, force: true });
if (values["old-rev"] && OLD_BIN) rmSync(resolve(OLD_BIN, ".."), { recursive: true, force: true });

const readyMs = median(ready);
const readyConsoleMs = median(readyConsole);
const readyHelloMs = median(readyHello);
const readyOldMs = OLD_BIN ? median(readyOld) : null;
const baselineMs = median(baseline);
const statusMs = median(statusNew);
const statusOldMs = OLD_BIN ? median(statusOld) : null;
const statusRows = [
  {
    measure: "status (exec → exit, agent running), median ms",
    value: statusMs.toFixed(1),
    goal: "",
  },
  ...(statusOldMs === null ? [] : [
    {
      measure: "status of the old binary, median ms",
      value: statusOldMs.toFixed(1),
      goal: "",
    },
    { measure: "status new / old", value: (statusMs / statusOldMs).toFixed(2), goal: "< 1" },
  ]),
];
report("startup", [
  { measure: "ready (exec → health 200), median ms", value: readyMs.toFixed(1), goal: "≤ 30" },
  {
    measure: "baseline (exec → `version` exits), median ms",
    value: baselineMs.toFixed(1),
    goal: "",
  },
  { measure: "ready / baseline", value: (readyMs / baselineMs).toFixed(2), goal: "" },
  {
    measure: "compiled Bun hello-world (exec → HTTP 200), median ms",
    value: readyHelloMs.toFixed(1),
    goal: "",
  },
  { measure: "ready / hello-world", value: (readyMs / readyHelloMs).toFixed(2), goal: "" },
  {
    measure: "ready with the console on, median ms",
    value: readyConsoleMs.toFixed(1),
    goal: "",
  },
  { measure: "ready console on / off", value: (readyConsoleMs / readyMs).toFixed(2), goal: "" },
  ...(readyOldMs === null ? [] : [
    { measure: "ready of the old binary, median ms", value: readyOldMs.toFixed(1), goal: "" },
    {
      measure: "ready new (console off) / old",
      value: (readyMs / readyOldMs).toFixed(2),
      goal: "≤ 1",
    },
  ]),
  ...statusRows,
  { measure: `idle RSS after ${IDLE_S} s, MiB`, value: agentRss.toFixed(1), goal: "≤ 40" },
  {
    measure: "  of which anonymous / file-backed, MiB",
    value: `${agentAnon.toFixed(1)} / ${agentFile.toFixed(1)}`,
    goal: "",
  },
  { measure: "bare bun process RSS, MiB", value: bareRss.toFixed(1), goal: "" },
  { measure: "hello-world idle RSS, MiB", value: helloRss.toFixed(1), goal: "" },
  { measure: "idle RSS / bare bun", value: (agentRss / bareRss).toFixed(2), goal: "" },
  { measure: "idle RSS / hello-world", value: (agentRss / helloRss).toFixed(2), goal: "" },
  {
    measure: "binary, MiB (xz -6)",
    value: `${sizes.outpost_mib.toFixed(1)} (${sizes.outpost_xz_mib.toFixed(1)})`,
    goal: "xz ≤ 30",
  },
  {
    measure: "hello-world binary, MiB (xz -6)",
    value: `${sizes.hello_mib.toFixed(1)} (${sizes.hello_xz_mib.toFixed(1)})`,
    goal: "",
  },
], {
  runs: RUNS,
  ready_ms: { median: readyMs, all: ready },
  ready_console_ms: { median: readyConsoleMs, all: readyConsole },
  version_exit_ms: { median: baselineMs, all: baseline },
  status_exit_ms: { median: statusMs, all: statusNew },
  ...(statusOldMs === null ? {} : {
    status_old: {
      // The commit, or the binary's file name: a local path means nothing on another machine.
      from: values["old-rev"] ?? basename(OLD_BIN!),
      exit_ms: { median: statusOldMs, all: statusOld },
      ready_ms: { median: readyOldMs, all: readyOld },
      new_over_old: statusMs / statusOldMs,
    },
  }),
  idle_seconds: IDLE_S,
  idle_rss_mib: agentRss,
  idle_anon_mib: agentAnon,
  idle_file_mib: agentFile,
  bare_bun_rss_mib: bareRss,
  hello_world: { ready_ms: { median: readyHelloMs, all: readyHello }, idle_rss_mib: helloRss },
  sizes,
  goals: { ready_ms: 30, idle_rss_mib: 40, binary_xz_mib: 30 },
});
