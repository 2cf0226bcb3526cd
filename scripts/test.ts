/**
 * `npm test`: every check in order, one summary line at the end.
 *
 *   1. typecheck (full project, then the runtime-agnostic core alone)
 *   2. lint
 *   3. the whole suite under Bun (tests/unit and tests/integration), after making the Python
 *      venv the Python check tests use (scripts/pyenv.ts)
 *   4. the runtime-agnostic suite under Deno (tests/unit)
 *   5. the JSDoc examples under Deno (`deno test --doc`: mod.ts, src, cli)
 *   6. build the pinned tools (scripts/tools.ts) and the linux-x64 binary, and run the e2e tests
 *      against it (tests/e2e)
 *
 * A check step counts as one test; a suite counts its leaf tests (read from JUnit reports).
 * The last line is `N passed, N failed`; the exit code is 1 when anything failed.
 *
 * `bun scripts/test.ts --only unit|bun|deno|doc|e2e` runs one part while developing.
 */
import { mkdtempSync, readFileSync, rmSync, statfsSync } from "node:fs";
import { availableParallelism, freemem, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const ROOT = resolve(import.meta.dirname, "..");
const BIN = join(ROOT, "node_modules", ".bin");
const reports = mkdtempSync(join(tmpdir(), "outpost-test-"));
const { values } = parseArgs({ options: { only: { type: "string" } } });

let passed = 0;
let failed = 0;
const failures: string[] = [];

function run(cmd: string[], env: Record<string, string> = {}): boolean {
  console.log(`\n$ ${cmd.map((c) => c.replace(ROOT + "/", "")).join(" ")}`);
  const r = Bun.spawnSync({
    cmd,
    cwd: ROOT,
    stdout: "inherit",
    stderr: "inherit",
    env: { ...process.env, ...env },
  });
  return r.exitCode === 0;
}

function check(name: string, cmd: string[]): boolean {
  const ok = run(cmd);
  if (ok) passed++;
  else {
    failed++;
    failures.push(name);
  }
  return ok;
}

/** Runs a suite that writes a JUnit report and adds its leaf tests to the totals. */
function suite(name: string, cmd: string[], report: string, env: Record<string, string> = {}) {
  const ok = run(cmd, env);
  let xml = "";
  try {
    xml = readFileSync(report, "utf8");
  } catch { /* the runner died before writing its report */ }
  const counts = countJunit(xml);
  passed += counts.passed;
  failed += counts.failed;
  failures.push(...counts.failedNames.map((n) => `${name}: ${n}`));
  // A runner that failed without reporting a failing test (a crash, a load error) still fails.
  if (!ok && counts.failed === 0) {
    failed++;
    failures.push(`${name}: the runner exited with an error`);
  }
}

/** Leaf test cases of a JUnit report: Deno also lists a parent test whose steps are `parent > step`. */
function countJunit(xml: string) {
  const cases = [
    ...xml.matchAll(/<testcase\b[^>]*?name="([^"]*)"[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g),
  ]
    .map((m) => ({ name: unescape(m[1]), body: m[3] ?? "" }));
  const names = cases.map((c) => c.name);
  const leaves = cases.filter((c) => !names.some((n) => n.startsWith(c.name + " > ")));
  const failedCases = leaves.filter((c) => /<(failure|error)\b/.test(c.body));
  const skipped = leaves.filter((c) => /<skipped\b/.test(c.body)).length;
  return {
    passed: leaves.length - failedCases.length - skipped,
    failed: failedCases.length,
    failedNames: failedCases.map((c) => `${c.name}${reason(c.body)}`),
  };
}

/**
 * The first lines of a failure's message, so the summary at the end of a CI log (often all of
 * it that is kept) says why, not only what.
 */
function reason(body: string): string {
  const tag = /<(failure|error)\b([^>]*)>([\s\S]*?)<\/\1>|<(?:failure|error)\b([^>]*)\/>/.exec(
    body,
  );
  if (!tag) return "";
  const attrs = tag[2] ?? tag[4] ?? "";
  const message = /\bmessage="([^"]*)"/.exec(attrs)?.[1] || tag[3] || "";
  const text = unescape(message).replace(/<!\[CDATA\[|\]\]>/g, "");
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean).slice(0, 3).join(" | ");
  if (!lines) return "";
  return `\n      ${lines.length > 400 ? lines.slice(0, 400) + "…" : lines}`;
}

function unescape(s: string): string {
  return s.replace(/&gt;/g, ">").replace(/&lt;/g, "<").replace(/&quot;/g, '"')
    .replace(/&#(\d+);/g, (_, code) => String.fromCharCode(Number(code)))
    .replace(/&apos;/g, "'").replace(/&amp;/g, "&");
}

const only = values.only;
if (!only) {
  check("typecheck", [join(BIN, "tsc"), "-p", "tsconfig.json"]);
  check("typecheck (core, no runtime types)", [join(BIN, "tsc"), "-p", "tsconfig.core.json"]);
  check("lint", [join(BIN, "deno"), "lint"]);
}
if (!only || only === "bun" || only === "unit") {
  // The Python check tests run against the real datadog-checks-base in .venv-pychecks.
  check("python venv", [join(BIN, "bun"), "scripts/pyenv.ts"]);
  const dirs = only === "unit" ? ["tests/unit"] : ["tests/unit", "tests/integration"];
  const report = join(reports, "bun.xml");
  suite("bun", [
    join(BIN, "bun"),
    "test",
    // 5 s by default, hooks included (they take no timeout option under Bun): too short on a
    // loaded machine for the hooks that build and start a whole agent.
    "--timeout",
    "20000",
    ...dirs.map((d) => `./${d}`),
    "--reporter=junit",
    `--reporter-outfile=${report}`,
  ], report);
}
if (!only || only === "deno") {
  const report = join(reports, "deno.xml");
  suite("deno", [
    join(BIN, "deno"),
    "test",
    "-A",
    "--unstable-net",
    "--no-check",
    `--junit-path=${report}`,
    "tests/unit",
  ], report);
}
if (!only || only === "doc") {
  const report = join(reports, "doc.xml");
  // Examples that only show a call shape are fenced `ts ignore`; every other one runs.
  suite("doc", [
    join(BIN, "deno"),
    "test",
    "-A",
    "--unstable-net",
    "--no-check",
    "--doc",
    `--junit-path=${report}`,
    "mod.ts",
    "src",
    "cli",
  ], report);
}
if (!only || only === "e2e") {
  // Built here, not in the tests' hooks: on a new machine the Go build outlasts a hook's 5 s.
  check("tools", [join(BIN, "bun"), "scripts/tools.ts"]);
  if (check("build linux-x64", [join(BIN, "bun"), "scripts/build.ts", "--target", "linux-x64"])) {
    const report = join(reports, "e2e.xml");
    suite(
      "e2e",
      [join(BIN, "bun"), "test", "./tests/e2e", "--reporter=junit", `--reporter-outfile=${report}`],
      report,
      {
        OUTPOST_BIN: join(ROOT, "dist", "outpost-linux-x64"),
      },
    );
  }
}

rmSync(reports, { recursive: true, force: true });
if (failures.length > 0) {
  console.log(`\nFailed:\n${failures.map((f) => `  - ${f}`).join("\n")}`);
  // What the machine was like, for failures that depend on it (load, space, user).
  const tmp = statfsSync(tmpdir());
  console.log(
    `machine: uid ${process.getuid?.()}, ${availableParallelism()} cpus, load ${
      loadavg().map((l) => l.toFixed(1)).join(" ")
    }, ${Math.round(freemem() / 2 ** 20)} MiB free memory, ${
      Math.round((tmp.bavail * tmp.bsize) / 2 ** 20)
    } MiB free in ${tmpdir()}`,
  );
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
