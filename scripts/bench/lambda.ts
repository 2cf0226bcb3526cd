/**
 * Cold start, idle memory and per-invocation flush cost of the Lambda extension mode.
 *
 *   bun scripts/bench/lambda.ts [--bin dist/outpost-linux-x64] [--runs 20] [--idle 3]
 *
 * - registered / ready: exec of the binary (copied as `datadog-agent`, started without
 *   arguments with AWS_LAMBDA_RUNTIME_API set) until its register call, and until its first
 *   `next` call (the extension is ready: Lambda starts the runtime then), median of N cold
 *   starts against a test Runtime API; also the `ready in N ms` figure the binary logs;
 * - baseline: a compiled Bun hello-world that registers and calls `next` the same way, timed
 *   in the same rounds, so the ratio survives a noisy machine;
 * - idle RSS of both after --idle seconds of waiting in `next`, from /proc/<pid>/smaps_rollup:
 *   the total (what the goal counts, as VmRSS does), anonymous (heaps, the JS VM) and
 *   file-backed (pages of the executable touched, shared with the page cache);
 * - flush: per invocation, the function side sends 100 DogStatsD metrics and one v0.4 msgpack
 *   trace, then the invocation ends (`platform.runtimeDone`) and the time until the extension
 *   calls `next` again is measured: its flush waits for the local intake's answer, so that is
 *   end of invocation → data at the intake; median over N invocations.
 * Goals: ready ≤ 60 ms p50, idle RSS ≤ 40 MB.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createSocket } from "node:dgram";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { median, report } from "./_report.ts";
import { freePort, freeUdpPort, intakeEnv, Pack, sleep, startIntake } from "./_agent.ts";
import { TestRuntimeApi } from "../../tests/_lambda_runtime_api.ts";

const { values } = parseArgs({
  options: {
    bin: { type: "string", default: resolve(import.meta.dirname, "../../dist/outpost-linux-x64") },
    runs: { type: "string", default: "20" },
    idle: { type: "string", default: "3" },
  },
});
const RUNS = Number(values.runs);
const IDLE_S = Number(values.idle);
const dir = mkdtempSync(join(tmpdir(), "outpost-bench-lambda-"));
const OUTPOST = join(dir, "datadog-agent");
copyFileSync(resolve(values.bin!), OUTPOST);

/** The baseline: the least a Bun extension does to be ready (register, then `next`). */
const HELLO = `
const base = "http://" + process.env.AWS_LAMBDA_RUNTIME_API + "/2020-01-01/extension";
const res = await fetch(base + "/register", {
  method: "POST",
  headers: { "Lambda-Extension-Name": "hello" },
  body: JSON.stringify({ events: ["INVOKE", "SHUTDOWN"] }),
});
const id = res.headers.get("Lambda-Extension-Identifier");
for (;;) {
  const ev = await (await fetch(base + "/event/next", { headers: { "Lambda-Extension-Identifier": id } })).json();
  if (ev.eventType === "SHUTDOWN") process.exit(0);
}
`;
writeFileSync(join(dir, "hello.ts"), HELLO);
const HELLO_BIN = join(dir, "hello");
const built = Bun.spawnSync({
  cmd: [process.execPath, "build", "--compile", join(dir, "hello.ts"), "--outfile", HELLO_BIN],
  stdout: "ignore",
  stderr: "inherit",
});
if (built.exitCode !== 0) throw new Error("cannot compile the hello-world baseline");

const intake = await startIntake(OUTPOST, join(dir, "intake"), "1gb");

async function env(api: TestRuntimeApi, dogstatsd: number, apm: number) {
  return {
    PATH: process.env.PATH ?? "",
    AWS_LAMBDA_RUNTIME_API: api.address,
    DD_API_KEY: "bench-key",
    ...intakeEnv(intake.url),
    DD_HOSTNAME: "lambda-bench",
    DD_RUN_PATH: join(dir, "run"),
    DD_DOGSTATSD_PORT: String(dogstatsd),
    DD_APM_RECEIVER_PORT: String(apm),
    DD_CMD_PORT: "0",
    DD_EXPVAR_PORT: "0",
    DD_SERVERLESS_DAEMON_PORT: String(await freePort()),
    DD_SERVERLESS_FLUSH_STRATEGY: "end",
  };
}

interface Memory {
  rss: number;
  anon: number;
  file: number;
}

/** Resident memory of `pid` in MiB: total, anonymous, and the rest (file-backed, shmem). */
function memoryMiB(pid: number): Memory {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(rollup)![1]);
  const [rss, anon] = [kb("Rss") / 1024, kb("Anonymous") / 1024];
  return { rss, anon, file: rss - anon };
}

interface ColdStart {
  registeredMs: number;
  readyMs: number;
  loggedMs: number | null;
  memory: Memory | null;
}

/** One cold start of `bin`: exec → register → first `next`, then SHUTDOWN. */
async function coldStart(bin: string, idle: boolean): Promise<ColdStart> {
  const api = new TestRuntimeApi();
  await api.start();
  const t0 = performance.now();
  const proc = Bun.spawn({
    cmd: [bin],
    env: await env(api, await freeUdpPort(), await freePort()),
    stdout: "ignore",
    stderr: "pipe",
  });
  const stderr = new Response(proc.stderr).text();
  await api.waitFor("/event/next", 1, 30_000);
  const [register, next] = [api.callsTo("/register")[0], api.callsTo("/event/next")[0]];
  const timing = { registeredMs: register.at, readyMs: next.at };
  let memory = null;
  if (idle) {
    await sleep(IDLE_S * 1000);
    memory = memoryMiB(proc.pid);
  }
  api.shutdown();
  if (await proc.exited !== 0) throw new Error(`${bin} failed: ${await stderr}`);
  await api.close();
  const logged = /ready in (\d+) ms/.exec(await stderr);
  // `at` is wall-clock ms; the spawn was timed on the performance clock at about the same time.
  const spawnedAt = performance.timeOrigin + t0;
  return {
    registeredMs: timing.registeredMs - spawnedAt,
    readyMs: timing.readyMs - spawnedAt,
    loggedMs: logged ? Number(logged[1]) : null,
    memory,
  };
}

const outpost: ColdStart[] = [];
const hello: ColdStart[] = [];
for (let i = 0; i < RUNS; i++) {
  const idle = i === RUNS - 1;
  outpost.push(await coldStart(OUTPOST, idle));
  hello.push(await coldStart(HELLO_BIN, idle));
}

/** One v0.4 trace of one `aws.lambda` span, as a tracer in the function sends it. */
function traceBody(i: number): Uint8Array<ArrayBuffer> {
  const p = new Pack();
  p.arr(1);
  p.arr(1);
  p.map(9);
  for (const [k, v] of [["trace_id", BigInt(i)], ["span_id", 1n], ["parent_id", 0n]] as const) {
    p.str(k);
    p.u64(v);
  }
  for (const [k, v] of [["name", "aws.lambda"], ["resource", "bench"], ["service", "bench"]]) {
    p.str(k);
    p.str(v);
  }
  p.str("start");
  p.u64(BigInt(Date.now()) * 1_000_000n, 0xd3);
  p.str("duration");
  p.u64(1_000_000n, 0xd3);
  p.str("error");
  p.u8(0);
  return new Uint8Array(p.bytes);
}

/** Per-invocation flush: 100 metrics + 1 trace, end of invocation (runtimeDone) → next `next`. */
async function flushCost(): Promise<number[]> {
  const api = new TestRuntimeApi();
  await api.start();
  const dogstatsd = await freeUdpPort();
  const apm = await freePort();
  const proc = Bun.spawn({
    cmd: [OUTPOST],
    env: await env(api, dogstatsd, apm),
    stdout: "ignore",
    stderr: "inherit",
  });
  const sock = createSocket("udp4");
  const lines = Array.from({ length: 100 }, (_, m) => `bench.lambda.m${m}:1|c|#inv:x`);
  const costs: number[] = [];
  await api.waitFor("/event/next", 1, 30_000);
  for (let i = 1; i <= RUNS; i++) {
    api.invoke(`bench-${i}`);
    await api.waitDelivered(i);
    await new Promise<void>((ok) =>
      sock.send(lines.join("\n"), dogstatsd, "127.0.0.1", () => ok())
    );
    await (await fetch(`http://127.0.0.1:${apm}/v0.4/traces`, {
      method: "PUT",
      headers: { "Content-Type": "application/msgpack", "X-Datadog-Trace-Count": "1" },
      body: traceBody(i),
    })).body?.cancel();
    await sleep(50);
    const doneAt = Date.now();
    await api.runtimeDone(`bench-${i}`);
    await api.waitFor("/event/next", i + 1);
    costs.push(api.callsTo("/event/next")[i].at - doneAt);
  }
  sock.close();
  api.shutdown();
  await proc.exited;
  await api.close();
  return costs;
}
const flush = await flushCost();
// The flushes must have reached the intake for the figure to mean anything.
const routes = (await intake.get("/outpost/intake/stats")).routes as Record<
  string,
  { stored: number }
>;
const stored = Object.fromEntries(Object.entries(routes).map(([r, v]) => [r, v.stored]));
await intake.stop();
rmSync(dir, { recursive: true, force: true });

const m = (xs: ColdStart[], k: "registeredMs" | "readyMs") => median(xs.map((x) => x[k]));
const ready = m(outpost, "readyMs");
const helloReady = m(hello, "readyMs");
const logged = outpost.map((x) => x.loggedMs).filter((x): x is number => x !== null);
const mem = outpost.at(-1)!.memory!;
const helloMem = hello.at(-1)!.memory!;
report("lambda", [
  { measure: "outpost exec → register, median ms", value: m(outpost, "registeredMs").toFixed(1) },
  {
    measure: "outpost exec → ready (first next), median ms",
    value: ready.toFixed(1),
    goal: "≤ 60",
  },
  { measure: "outpost `ready in` logged, median ms", value: median(logged).toFixed(1) },
  { measure: "hello-world exec → ready, median ms", value: helloReady.toFixed(1) },
  { measure: "ready ratio outpost / hello-world", value: (ready / helloReady).toFixed(2) },
  { measure: "outpost idle RSS, MiB", value: mem.rss.toFixed(1), goal: "≤ 40" },
  { measure: "  of which anonymous, MiB", value: mem.anon.toFixed(1) },
  { measure: "  of which file-backed, MiB", value: mem.file.toFixed(1) },
  { measure: "hello-world idle RSS, MiB", value: helloMem.rss.toFixed(1) },
  { measure: "  of which anonymous, MiB", value: helloMem.anon.toFixed(1) },
  { measure: "  of which file-backed, MiB", value: helloMem.file.toFixed(1) },
  { measure: "RSS ratio outpost / hello-world", value: (mem.rss / helloMem.rss).toFixed(2) },
  {
    measure: "end of invocation → flush of 100 metrics + 1 trace done, median ms",
    value: median(flush).toFixed(1),
  },
], {
  runs: RUNS,
  outpost,
  hello,
  flush_ms: { median: median(flush), all: flush },
  intake_stored: stored,
});
