/** Shared output of the benchmark scripts: a table on stdout and JSON in bench/results/. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { arch, cpus, platform } from "node:os";

const RESULTS = resolve(import.meta.dirname, "../../bench/results");

/** Prints `rows` as a table and writes `{ machine, date, ...data }` to bench/results/<name>.json. */
export function report(
  name: string,
  rows: Record<string, string | number>[],
  data: Record<string, unknown>,
): void {
  console.table(rows);
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `${name}.json`);
  const machine = {
    platform: platform(),
    arch: arch(),
    cpus: cpus().length,
    cpu: cpus()[0]?.model ?? "",
  };
  writeFileSync(
    file,
    JSON.stringify({ date: new Date().toISOString(), machine, ...data }, null, 2) + "\n",
  );
  console.log(`wrote ${file}`);
}

/** The median of a list of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Writes `data` (with the runtime and date) as `section` of bench/results/<name>.json, keeping
 * the sections other scripts wrote there.
 */
export function writeSection(name: string, section: string, data: Record<string, unknown>): void {
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `${name}.json`);
  const previous = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
  const runtime = "Bun" in globalThis ? `bun ${Bun.version}` : `deno ${process.versions.deno}`;
  const entry = { runtime, date: new Date().toISOString(), ...data };
  writeFileSync(file, JSON.stringify({ ...previous, [section]: entry }, null, 2) + "\n");
  console.log(`wrote ${file}`);
}
