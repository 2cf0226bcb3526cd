/**
 * Config loading cost against the number of keys: `loadConfig()` of a file of N unknown keys
 * (each warned about, the list capped), next to the YAML library's `parse()` with its own
 * duplicate-key check, which compares every key with every other and was what made 80,000 keys
 * take about a minute. The per-1,000-keys column stays flat when the cost is linear.
 *
 *   bun scripts/bench/config.ts          (or: deno run -A scripts/bench/config.ts)
 *
 * Prints a table and writes bench/results/config.json.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { loadConfig } from "../../src/config/mod.ts";
import { runtime } from "../../src/runtime/mod.ts";
import { median, report } from "./_report.ts";

const SIZES = [10_000, 20_000, 40_000, 80_000];
/** The library's quadratic check is only timed up to here: 80,000 keys would take minutes. */
const LIBRARY_MAX = 40_000;
const RUNS = 3;

const dir = mkdtempSync(join(tmpdir(), "outpost-bench-config-"));
const time = async (f: () => unknown) => {
  const xs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await f();
    xs.push(performance.now() - t);
  }
  return median(xs);
};

const rows: Record<string, string | number>[] = [];
for (const n of SIZES) {
  const text = Array.from({ length: n }, (_, i) => `unknown_key_${i}: ${i}`).join("\n") + "\n";
  const path = join(dir, `${n}.yaml`);
  writeFileSync(path, text);
  const load = await time(() => loadConfig(runtime, { path, env: {} }));
  const library = n <= LIBRARY_MAX ? await time(() => parse(text)) : NaN;
  rows.push({
    keys: n,
    bytes: text.length,
    "loadConfig ms": Math.round(load),
    "loadConfig ms/1k keys": +(load / (n / 1000)).toFixed(2),
    "yaml parse() default ms": Number.isNaN(library) ? "-" : Math.round(library),
    "yaml parse() ms/1k keys": Number.isNaN(library) ? "-" : +(library / (n / 1000)).toFixed(2),
  });
}
rmSync(dir, { recursive: true, force: true });
report("config", rows, { runs: RUNS, statistic: "median", rows });
