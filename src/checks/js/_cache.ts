/**
 * The persistent cache of checks: one file per key under `run_path`, the same layout as the
 * Datadog Agent's, so a cache written by one agent reads the same in the other.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const INVALID = /[^a-zA-Z0-9_-]/g;

/**
 * The file of `key`: split at the first `:` into a directory and a file name, each stripped
 * of characters outside `[a-zA-Z0-9_-]` (so a key can never leave `runPath`).
 */
export function cachePath(runPath: string, key: string): { dir: string; file: string } {
  const at = key.indexOf(":");
  const parent = at < 0 ? "" : key.slice(0, at).replace(INVALID, "");
  const name = (at < 0 ? key : key.slice(at + 1)).replace(INVALID, "");
  if (!name) throw new Error(`Cannot use persistent cache key "${key}": no valid file name in it`);
  const dir = parent ? join(runPath, parent) : runPath;
  return { dir, file: join(dir, name) };
}

/** The value under `key`; `""` when it was never written. */
export function readCache(runPath: string, key: string): string {
  try {
    return readFileSync(cachePath(runPath, key).file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw err;
  }
}

/** Writes `value` under `key`, readable by the agent's user only. */
export function writeCache(runPath: string, key: string, value: string): void {
  const { dir, file } = cachePath(runPath, key);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(file, value, { mode: 0o600 });
  // The mode above applies only when the file is created.
  chmodSync(file, 0o600);
}
