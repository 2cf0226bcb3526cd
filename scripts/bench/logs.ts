/**
 * Log collection end to end through the compiled agent: `outpost run` tails one file of
 * `--lines` 200-byte lines (start_position beginning), processes them (no rules) and delivers
 * zstd batches to a minimal sink in another process (an HTTP server that reads each body and
 * answers 202, so the figure is the agent's, not an intake's decoding). Time runs from the
 * agent's start until `/debug/vars` says every line was sent; the agent's CPU time comes from
 * /proc/<pid>/stat, so MB/s per core = file bytes / CPU seconds (start-up included, so the figure
 * errs low).
 *
 * Baselines on the same file in the same run: `cat FILE > /dev/null` and a plain Node
 * `readline` reader counting lines. Then the idle cost: the agent tailing `--quiet` files that
 * never change, CPU % over `--idle-seconds`.
 *
 *   bun scripts/bench/logs.ts [--bin dist/outpost-linux-x64] [--lines 1000000] [--quiet 100]
 *       [--idle-seconds 20]
 *
 * Prints a table and writes bench/results/logs.json.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { report } from "./_report.ts";
import { binary, freePort, sleep, startAgent, waitFor } from "./_agent.ts";
import { logsSetup } from "../../tests/e2e/_logs.ts";

const { values: args } = parseArgs({
  options: {
    bin: { type: "string" },
    lines: { type: "string", default: "1000000" },
    quiet: { type: "string", default: "100" },
    "idle-seconds": { type: "string", default: "20" },
  },
});
const BIN = binary(args.bin);
const LINES = Number(args.lines);
const QUIET = Number(args.quiet);
const IDLE_S = Number(args["idle-seconds"]);
const CLK_TCK = 100; // Linux's USER_HZ

/** utime + stime of `pid` in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** A sink in its own process: reads each request body, answers 202, counts bytes. */
async function startSink(): Promise<{ url: string; stop(): void }> {
  const port = await freePort();
  const code = `Bun.serve({ port: ${port}, hostname: "127.0.0.1", async fetch(req) {
    await req.arrayBuffer(); return new Response("{}", { status: 202 }); } });`;
  const proc = spawn(process.execPath, ["-e", code], { stdio: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  await waitFor("the sink", async () => (await fetch(url, { method: "POST" })).ok || undefined);
  return { url, stop: () => proc.kill("SIGTERM") };
}

const dir = mkdtempSync(join(tmpdir(), "outpost-bench-logs-"));
try {
  // 200-byte lines (newline included), numbered so no two compress alike.
  const file = join(dir, "big.log");
  const pad = "abcdefghij".repeat(20);
  const parts: string[] = [];
  for (let i = 0; i < LINES; i++) {
    const head = `2026-12-03T10:00:00Z INFO request ${i} `;
    parts.push(head + pad.slice(0, 199 - head.length) + "\n");
  }
  writeFileSync(file, parts.join(""));
  const bytes = statSync(file).size;
  const mb = bytes / 1e6;

  // Baselines.
  let t = performance.now();
  spawnSync("sh", ["-c", `cat '${file}' > /dev/null`]);
  const catS = (performance.now() - t) / 1000;
  const readline = `const rl = require("node:readline").createInterface({ input:
    require("node:fs").createReadStream(process.argv[1]) }); let n = 0; const t = performance.now();
    rl.on("line", () => n++); rl.on("close", () => { const u = process.cpuUsage();
    console.log(JSON.stringify({ n, s: (performance.now() - t) / 1000, cpu: (u.user + u.system) / 1e6 })); });`;
  const rl = JSON.parse(spawnSync("node", ["-e", readline, file], { encoding: "utf8" }).stdout);

  // End to end through the agent.
  const sink = await startSink();
  const e2eDir = join(dir, "e2e");
  mkdirSync(e2eDir);
  const setup = await logsSetup(e2eDir, sink.url, {
    logs: `  - type: file\n    path: ${file}\n    service: bench\n    source: bench\n` +
      `    start_position: beginning\n`,
  });
  t = performance.now();
  const agent = await startAgent(BIN, setup);
  await waitFor("every line sent", async () => {
    const sent = (await agent.vars())["logs-agent"]?.LogsSent ?? 0;
    return sent >= LINES || undefined;
  }, 600_000);
  const agentS = (performance.now() - t) / 1000;
  const agentCpu = cpuSeconds(agent.pid);
  const vars = await agent.vars();
  await agent.stop("SIGTERM");

  // Idle: the agent tailing quiet files, against the same agent tailing none.
  const idleRun = async (files: number) => {
    const idleDir = join(dir, `idle-${files}`);
    mkdirSync(join(idleDir, "quiet"), { recursive: true });
    for (let i = 0; i < files; i++) {
      writeFileSync(join(idleDir, "quiet", `f${i}.log`), "one line\n");
    }
    const idleSetup = await logsSetup(idleDir, sink.url, {
      logs: `  - type: file\n    path: ${join(idleDir, "quiet", "*.log")}\n    service: idle\n` +
        `    source: bench\n`,
      logsConfig: `  open_files_limit: ${files + 10}`,
    });
    const idle = await startAgent(BIN, idleSetup);
    await waitFor("every quiet file tailed", async () => {
      const v = await idle.vars();
      return (v["logs-agent"]?.TailersOpen ?? 0) >= files || undefined;
    });
    await sleep(3000); // past start-up work (checks' first runs)
    const c0 = cpuSeconds(idle.pid);
    await sleep(IDLE_S * 1000);
    const cpuPct = ((cpuSeconds(idle.pid) - c0) / IDLE_S) * 100;
    const rss = (await idle.vars()).memstats.Sys as number;
    await idle.stop("SIGTERM");
    return { cpuPct, rss };
  };
  const { cpuPct: idleCpuPct, rss } = await idleRun(QUIET);
  const { cpuPct: noFilesCpuPct, rss: noFilesRss } = await idleRun(0);
  sink.stop();

  const perCore = mb / agentCpu;
  const rows: Record<string, string | number>[] = [
    { what: "cat FILE > /dev/null", seconds: +catS.toFixed(3), "MB/s": +(mb / catS).toFixed(1) },
    {
      what: "node readline (count lines)",
      seconds: +rl.s.toFixed(3),
      "MB/s": +(mb / rl.s).toFixed(1),
      "MB/s per CPU s": +(mb / rl.cpu).toFixed(1),
    },
    {
      what: "outpost: tail + process + zstd + deliver",
      seconds: +agentS.toFixed(3),
      "MB/s": +(mb / agentS).toFixed(1),
      "MB/s per CPU s": +perCore.toFixed(1),
      "lines/s": Math.round(LINES / agentS),
    },
  ];
  report("logs", rows, {
    lines: LINES,
    lineBytes: 200,
    fileBytes: bytes,
    sink: "a minimal HTTP server in another process (reads the body, answers 202)",
    cat: { seconds: catS, mbPerS: mb / catS },
    nodeReadline: { seconds: rl.s, cpuSeconds: rl.cpu, mbPerS: mb / rl.s },
    agent: {
      seconds: agentS,
      cpuSeconds: agentCpu,
      mbPerS: mb / agentS,
      mbPerCpuSecond: perCore,
      linesPerS: LINES / agentS,
      encodedBytesSent: vars["logs-agent"].EncodedBytesSent,
      vsReadline: (mb / agentS) / (mb / rl.s),
      vsCat: (mb / agentS) / (mb / catS),
    },
    idle: {
      files: QUIET,
      seconds: IDLE_S,
      cpuPercent: idleCpuPct,
      rssBytes: rss,
      noFilesCpuPercent: noFilesCpuPct,
      noFilesRssBytes: noFilesRss,
    },
  });
  console.log(
    `outpost end to end: ${(mb / agentS).toFixed(1)} MB/s wall, ${perCore.toFixed(1)} MB/s per ` +
      `CPU second (goal 50); ${(((mb / agentS) / (mb / rl.s)) * 100).toFixed(0)} % of node ` +
      `readline; idle on ${QUIET} quiet files: ${idleCpuPct.toFixed(2)} % CPU, RSS ${
        (rss / 2 ** 20).toFixed(0)
      } MiB (the same agent tailing no file: ${noFilesCpuPct.toFixed(2)} % CPU, RSS ${
        (noFilesRss / 2 ** 20).toFixed(0)
      } MiB)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
