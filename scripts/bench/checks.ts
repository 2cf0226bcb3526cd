/**
 * What checks cost, each figure against a baseline measured in the same run.
 *
 *   bun scripts/bench/checks.ts [--seconds 60] [--checks 1000] [--system-runs 50]
 *     [--python-runs 200] [--python .venv-pychecks/bin/python]
 *
 * - scheduler: 1,000 trivial JS checks (`checks.d/trivial.js`, one gauge each) at 15 s
 *   intervals through the real collector (conf.d loader, JS loader, scheduler, runner, sender,
 *   aggregator), in one child process; beside it, at the same time, a second child with a bare
 *   `setInterval` that calls 1,000 functions every 15 s. CPU % of each over the same window
 *   (after the first interval, when every check has loaded and run once), and the ratio;
 * - system: CPU ms of one run of every built-in system check (ntp left out: it waits on the
 *   network, once per 900 s), median over N rounds, as CPU % at their 15 s interval against the
 *   bare loop's CPU %;
 * - python: one trivial `AgentCheck` (one gauge) run through the Python runner (request, run
 *   on a worker thread, submissions over the pipe, commit), median ms per run and the runner's
 *   RSS, against the same check constructed and run in a loop by `python3` directly (the
 *   package's stub aggregator), in the same venv (`scripts/pyenv.ts` makes it).
 * Results: bench/results/checks.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { median, report } from "./_report.ts";
import { type Config, configDefaults } from "../../src/config/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { Registry } from "../../src/telemetry/mod.ts";
import { Aggregator, memorySink } from "../../src/aggregator/mod.ts";
import { createHttpClient, httpSettings } from "../../src/http/mod.ts";
import { runtime } from "../../src/runtime/mod.ts";
import { buildChecks, checksSettings } from "../../src/checks/mod.ts";
import type { Loader } from "../../src/checks/_types.ts";
import { loadConfd } from "../../src/checks/confd/mod.ts";
import { createJsLoader } from "../../src/checks/js/mod.ts";
import { createPythonLoader } from "../../src/checks/python/mod.ts";
import { createSystemLoader, SYSTEM_DEFAULTS } from "../../src/checks/system/mod.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    checks: { type: "string", default: "1000" },
    "system-runs": { type: "string", default: "50" },
    "python-runs": { type: "string", default: "200" },
    python: {
      type: "string",
      default: resolve(import.meta.dirname, "../../.venv-pychecks/bin/python"),
    },
    child: { type: "string" },
  },
});
const SECONDS = Number(values.seconds);
const CHECKS = Number(values.checks);
const INTERVAL_S = 15;

/** CPU microseconds (user + system) of this process so far. */
function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** A collector over `confd` with `loaders`, on an aggregator that keeps what it flushes. */
function collectorWith(
  confd: string,
  checksd: string,
  loaders: Loader[],
  extra: Partial<Config> = {},
) {
  const config = { ...configDefaults(), confd_path: confd, additional_checksd: checksd, ...extra };
  const logger = createLogger({ level: "off" });
  const registry = new Registry();
  const aggregator = new Aggregator({
    sink: memorySink(),
    hostname: "bench",
    registry,
    log: logger.for("aggregator"),
  });
  const settings = checksSettings(config, null);
  return buildChecks(settings, {
    runtime,
    config,
    registry,
    logger,
    aggregator,
    hostname: "bench",
    http: createHttpClient(runtime, httpSettings(config, {})),
    loaders,
    loadConfigs: () =>
      loadConfd({ confdPaths: settings.confdPaths, defaults: SYSTEM_DEFAULTS, env: {} }),
  });
}

/** Child: 1,000 trivial JS checks through the collector; prints CPU µs over the window. */
async function schedulerChild(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "outpost-bench-checks-"));
  const checksd = join(dir, "checks.d");
  const confd = join(dir, "conf.d");
  mkdirSync(checksd, { recursive: true });
  mkdirSync(join(confd, "trivial.d"), { recursive: true });
  writeFileSync(
    join(checksd, "trivial.js"),
    'export default class extends AgentCheck { check() { this.gauge("bench.trivial", 1); } }\n',
  );
  const instances = Array.from({ length: CHECKS }, (_, i) => `  - n: ${i}\n`).join("");
  writeFileSync(join(confd, "trivial.d", "conf.yaml"), `init_config:\ninstances:\n${instances}`);
  // Only the JS loader: the system checks' defaults are left to their own section.
  const { component, healthcheck } = collectorWith(confd, checksd, [createJsLoader()]);
  await component.start();
  while (!healthcheck()) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, INTERVAL_S * 1000));
  const scheduled = component.collector.checks.size;
  const t0 = performance.now();
  const c0 = cpuMicros();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const cpu = cpuMicros() - c0;
  const wall = (performance.now() - t0) * 1000;
  const runs = component.collector.runner.stats().Runs;
  await component.stop();
  rmSync(dir, { recursive: true, force: true });
  console.log(JSON.stringify({ cpu, wall, scheduled, runs }));
}

/** Child: a bare setInterval calling `CHECKS` trivial functions every 15 s. */
async function bareChild(): Promise<void> {
  const sink: number[] = [];
  const fns = Array.from({ length: CHECKS }, (_, i) => () => sink.push(i));
  const timer = setInterval(() => {
    for (const f of fns) f();
    sink.length = 0;
  }, INTERVAL_S * 1000);
  await new Promise((r) => setTimeout(r, INTERVAL_S * 1000));
  const t0 = performance.now();
  const c0 = cpuMicros();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  clearInterval(timer);
  console.log(
    JSON.stringify({ cpu: cpuMicros() - c0, wall: (performance.now() - t0) * 1000 }),
  );
}

/** Runs this script as `--child <kind>` and parses the JSON line it prints. */
async function child(kind: string): Promise<{ cpu: number; wall: number; [k: string]: number }> {
  const proc = Bun.spawn({
    cmd: [process.execPath, import.meta.path, "--child", kind, ...process.argv.slice(2)],
    stdout: "pipe",
    stderr: "inherit",
  });
  const out = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error(`${kind} child failed`);
  return JSON.parse(out.trim().split("\n").at(-1)!);
}

/** CPU ms of one run of every system check but ntp, median over `rounds`. */
async function systemRound(rounds: number): Promise<{ ms: number; checks: string[] }> {
  const empty = mkdtempSync(join(tmpdir(), "outpost-bench-system-"));
  const { component, healthcheck } = collectorWith(
    join(empty, "conf.d"),
    join(empty, "checks.d"),
    [createSystemLoader()],
  );
  await component.start();
  while (!healthcheck()) await new Promise((r) => setTimeout(r, 20));
  const checks = [...component.collector.checks.values()].filter((c) => c.name !== "ntp");
  const runner = component.collector.runner;
  const cpu: number[] = [];
  for (let i = 0; i < rounds + 1; i++) {
    const c0 = cpuMicros();
    for (const check of checks) await runner.runNow(check);
    if (i > 0) cpu.push((cpuMicros() - c0) / 1000); // the first round warms up
  }
  await component.stop();
  rmSync(empty, { recursive: true, force: true });
  return { ms: median(cpu), checks: checks.map((c) => c.name).sort() };
}

/** The Python check both ways: one gauge per run. */
const PY_CHECK = `from datadog_checks.base import AgentCheck


class BenchCheck(AgentCheck):
    def check(self, instance):
        self.gauge("bench.py", 1, tags=["a:b"])
`;

/** Runs the check `runs` times in a plain python3 (the stub aggregator); ms per run and VmRSS. */
const PY_DIRECT = `import sys, time
sys.path.insert(0, sys.argv[1])
from bench_py import BenchCheck
runs = int(sys.argv[2])
check = BenchCheck("bench_py", {}, [{}])
for _ in range(20):
    check.run()
times = []
for _ in range(runs):
    t0 = time.perf_counter()
    check.run()
    times.append((time.perf_counter() - t0) * 1000)
times.sort()
rss = [l for l in open("/proc/self/status") if l.startswith("VmRSS:")][0].split()[1]
print(times[len(times) // 2], int(rss) * 1024)
`;

/** Per-run ms and RSS of the Python runner, and of the same check run by python3 directly. */
async function pythonRound(python: string, runs: number) {
  const dir = mkdtempSync(join(tmpdir(), "outpost-bench-python-"));
  const checksd = join(dir, "checks.d");
  mkdirSync(checksd, { recursive: true });
  mkdirSync(join(dir, "conf.d", "bench_py.d"), { recursive: true });
  writeFileSync(join(checksd, "bench_py.py"), PY_CHECK);
  writeFileSync(
    join(dir, "conf.d", "bench_py.d", "conf.yaml"),
    "init_config:\ninstances:\n  - {}\n",
  );
  const loader = createPythonLoader();
  const { component, healthcheck } = collectorWith(join(dir, "conf.d"), checksd, [loader], {
    python_binary: python,
    run_path: join(dir, "run"),
  });
  await component.start();
  while (!healthcheck()) await new Promise((r) => setTimeout(r, 20));
  const check = [...component.collector.checks.values()].find((c) => c.name === "bench_py");
  if (!check) {
    throw new Error(
      `the Python check did not load: ${JSON.stringify(component.collector.loaderErrors)}`,
    );
  }
  const runner = component.collector.runner;
  for (let i = 0; i < 20; i++) await runner.runNow(check);
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await runner.runNow(check);
    ms.push(performance.now() - t0);
  }
  const stats = loader.stats?.() ?? {};
  await component.stop();
  const direct = Bun.spawnSync({
    cmd: [python, "-c", PY_DIRECT, checksd, String(runs)],
    stderr: "pipe",
  });
  rmSync(dir, { recursive: true, force: true });
  if (direct.exitCode !== 0) throw new Error(`python3 directly: ${direct.stderr.toString()}`);
  const [directMs, directRss] = direct.stdout.toString().trim().split(" ").map(Number);
  return { runnerMs: median(ms), runnerRss: Number(stats.rss_bytes ?? 0), directMs, directRss };
}

if (values.child === "scheduler") await schedulerChild();
else if (values.child === "bare") await bareChild();
else {
  console.log(
    `${CHECKS} trivial JS checks at ${INTERVAL_S} s against a bare setInterval, ` +
      `${SECONDS} s window after one interval…`,
  );
  const [scheduler, bare] = await Promise.all([child("scheduler"), child("bare")]);
  const schedulerPct = (scheduler.cpu / scheduler.wall) * 100;
  const barePct = (bare.cpu / bare.wall) * 100;
  const system = await systemRound(Number(values["system-runs"]));
  const systemPct = (system.ms / (INTERVAL_S * 1000)) * 100;
  const py = await pythonRound(values.python!, Number(values["python-runs"]));
  const fmt = (x: number) => x.toFixed(3);
  report("checks", [
    {
      measure: `${scheduler.scheduled} JS checks, CPU %`,
      value: fmt(schedulerPct),
      baseline: fmt(barePct),
      ratio: fmt(schedulerPct / barePct),
    },
    {
      measure: "all system checks, CPU ms per run",
      value: fmt(system.ms),
      baseline: "",
      ratio: "",
    },
    {
      measure: `system checks at ${INTERVAL_S} s, CPU %`,
      value: fmt(systemPct),
      baseline: fmt(barePct),
      ratio: fmt(systemPct / barePct),
    },
    {
      measure: "Python check, ms per run",
      value: fmt(py.runnerMs),
      baseline: fmt(py.directMs),
      ratio: fmt(py.runnerMs / py.directMs),
    },
    {
      measure: "Python RSS, MB",
      value: fmt(py.runnerRss / 2 ** 20),
      baseline: fmt(py.directRss / 2 ** 20),
      ratio: fmt(py.runnerRss / py.directRss),
    },
  ], {
    python: { ...py, runs: Number(values["python-runs"]) },
    scheduler: {
      checks: scheduler.scheduled,
      runs: scheduler.runs,
      seconds: SECONDS,
      cpuPercent: schedulerPct,
      bareCpuPercent: barePct,
      ratio: schedulerPct / barePct,
    },
    system: {
      checks: system.checks,
      cpuMsPerRun: system.ms,
      cpuPercentAt15s: systemPct,
      ratioToBare: systemPct / barePct,
    },
  });
}
