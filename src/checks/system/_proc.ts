/**
 * Reads files under a procfs root (`procfs_path`, `/proc` by default), so tests and containers
 * can point the system checks at another tree.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** A view of one procfs root. */
export class ProcFs {
  readonly root: string;
  constructor(root: string) {
    this.root = root;
  }

  /** The text of `<root>/<rel>`; throws with the path when it cannot be read. */
  read(rel: string): string {
    const path = join(this.root, rel);
    try {
      return readFileSync(path, "utf8");
    } catch (error) {
      throw new Error(`Cannot read ${path}: ${(error as Error).message}`);
    }
  }

  /** Like {@linkcode ProcFs.read}, but `undefined` when the file is missing or unreadable. */
  tryRead(rel: string): string | undefined {
    try {
      return readFileSync(join(this.root, rel), "utf8");
    } catch {
      return undefined;
    }
  }
}

/** Splits a line on runs of blanks, without empty fields. */
export function fields(line: string): string[] {
  return line.trim().split(/\s+/).filter((f) => f !== "");
}

/** `Key: value [kB]` lines (meminfo, status) as a map of numbers, `kB` turned into bytes. */
export function parseKeyValues(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const [num, unit] = fields(line.slice(colon + 1));
    const value = Number(num);
    if (num === undefined || !Number.isFinite(value)) continue;
    out.set(line.slice(0, colon).trim(), unit === "kB" ? value * 1024 : value);
  }
  return out;
}

/**
 * The `Header: a b c` / `Header: 1 2 3` line pairs of `/proc/net/snmp` and `/proc/net/netstat`,
 * as `Header` → field → value.
 */
export function parseSnmpPairs(text: string): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = fields(lines[i]!);
    const values = fields(lines[i + 1]!);
    const header = names[0]!.replace(/:$/, "");
    if (values[0]?.replace(/:$/, "") !== header) continue;
    const map = out.get(header) ?? new Map<string, number>();
    for (let j = 1; j < names.length; j++) map.set(names[j]!, Number(values[j]));
    out.set(header, map);
  }
  return out;
}

/** The number of logical CPUs: the `cpuN` lines of `/proc/stat`. */
export function countCpus(stat: string): number {
  let n = 0;
  for (const line of stat.split("\n")) if (/^cpu\d+\s/.test(line)) n++;
  return n;
}

/** Unsigned counter delta; a kernel 32-bit counter that wrapped gives a negative one. */
export function counterDelta(now: number, last: number): number {
  const d = now - last;
  return d < 0 ? d + 2 ** 32 : d;
}

/** Rounds to 2 decimals, as the io gauges are. */
export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
