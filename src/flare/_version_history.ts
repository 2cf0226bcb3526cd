/**
 * `version-history.json` in `run_path`: one entry per version the agent started as, so a
 * flare shows when the host was upgraded. Written atomically (src/fs).
 *
 * @module
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../fs/mod.ts";

/** One version the agent started as. */
export interface VersionEntry {
  version: string;
  /** UTC, RFC 3339. */
  timestamp: string;
}

/** Entries kept; older ones are dropped first. */
const MAX_ENTRIES = 60;

/**
 * Appends `version` to `<runPath>/version-history.json` unless it is already the last entry.
 * Returns the entries now on disk.
 */
export function recordVersion(runPath: string, version: string, now = new Date()): VersionEntry[] {
  const path = join(runPath, "version-history.json");
  let entries: VersionEntry[] = [];
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8"));
    if (Array.isArray(parsed?.entries)) entries = parsed.entries;
  } catch { /* missing or unreadable: start a new history */ }
  if (entries.at(-1)?.version === version) return entries;
  entries = [...entries, { version, timestamp: now.toISOString() }].slice(-MAX_ENTRIES);
  mkdirSync(runPath, { recursive: true, mode: 0o700 });
  writeFileAtomic(path, JSON.stringify({ entries }, null, 2) + "\n", { mode: 0o644 });
  return entries;
}
