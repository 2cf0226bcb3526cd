/**
 * What checks cost, each figure against a baseline measured in the same run.
 *
 *   bun scripts/bench/checks.ts [--seconds 60] [--checks 1000] [--system-runs 50]
 *
 * - scheduler: 1,000 trivial JS checks (`checks.d/trivial.js`, one gauge each) at 15 s
 *   intervals through the real collector (conf.d loader, JS loader, scheduler, runner, sender,
 *   aggregator), in one child process; beside it, at the same time, a second child with a bare
 *   `setInterval` that calls 1,000 functions every 15 s. CPU % of each over the same window
 *   (after the first interval, when every check has loaded and run once), and the ratio;
 * - system: CPU ms of one run of every built-in system check (ntp left out: it waits on the
 *   network, once per 900 s), median over N rounds, as CPU % at their 15 s interval against the
 *   bare loop's CPU %.
 * Results: bench/results/checks.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { median, report } from "./_report.ts";
import { configDefaults } from "../../src/config/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { Registry } from "../../src/telemetry/mod.ts";
import { Aggregator, memorySink } from "../../src/aggregator/mod.ts";
import { createHttpClient, httpSettings } from "../../src/http/mod.ts";
import { runtime } from "../../src/runtime/mod.ts";
import { buildChecks, checksSettings } from "../../src/checks/mod.ts";
import type { Loader } from "../../src/checks/_types.ts";
import { loadConfd } from "../../src/checks/confd/mod.ts";
import { createJsLoader } from "../../src/checks/js/mod.ts";
import { createSystemLoader, SYSTEM_DEFAULTS } from "../../src/checks/system/mod.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    checks: { type: "string", default: "1000" },
    "system-runs": { type: "string", default: "50" },
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
function collectorWith(confd: string, checksd: string, loaders: Loader[]) {
  const config = { ...configDefaults(), confd_path: confd, additional_checksd: checksd };
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
  ], {
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
