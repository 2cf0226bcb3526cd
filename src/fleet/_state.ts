/**
 * The fleet state file `<root>/state.json`: the catalog in force and, per package, the last
 * task, the experiment's start and watch, and the last rollback. The slots themselves are
 * never stored here: the `stable` and `experiment` links are the truth, so the file can lag
 * a crash without lying about what runs. Written atomically, with a format version.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Catalog } from "./_catalog.ts";
import { FleetError } from "./_errors.ts";
import { writeFileAtomic } from "../fs/mod.ts";

/** Bumped when the file's shape changes incompatibly. */
export const STATE_FORMAT_VERSION = 1;

/** What a task is doing. */
export type TaskState = "idle" | "running" | "done" | "error";

/** The last operation run on a package. */
export interface Task {
  id: string;
  method: string;
  version?: string;
  state: TaskState;
  started_at: string;
  finished_at?: string;
  error?: { code: string; message: string };
}

/** How the running experiment fares. */
export type WatchState =
  | "starting"
  | "watching"
  | "passed"
  | "rolled_back"
  | "promoted"
  | "stopped";

/** What the state file keeps per package. */
export interface PackageState {
  experiment_started_at?: string;
  watch?: { state: WatchState; since: string; reason?: string };
  last_task?: Task;
  /** The last automatic rollback. */
  rollback?: { version: string; reason: string; at: string };
  /** Experiment versions that were rolled back automatically (pull mode does not retry them). */
  failed_versions?: string[];
}

/** The whole state file. */
export interface FleetState {
  format_version: number;
  catalog: Catalog | null;
  packages: Record<string, PackageState>;
}

/** Reads the state file; a missing file is an empty state. */
export function loadState(path: string): FleetState {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return { format_version: STATE_FORMAT_VERSION, catalog: null, packages: {} };
  }
  let parsed: FleetState;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new FleetError("internal", `Cannot parse the fleet state file ${path}: not valid JSON`);
  }
  if (parsed.format_version !== STATE_FORMAT_VERSION) {
    throw new FleetError(
      "internal",
      `Cannot read the fleet state file ${path}: format version ${parsed.format_version}, expected ${STATE_FORMAT_VERSION}`,
    );
  }
  parsed.packages ??= {};
  parsed.catalog ??= null;
  return parsed;
}

/**
 * The state file under `root` as the flare shows it, or null when the host is not
 * fleet-managed (no file).
 */
export function readStateIfAny(root: string): FleetState | null {
  const path = join(root, "state.json");
  return existsSync(path) ? loadState(path) : null;
}

/** Writes the state file atomically. */
export function saveState(path: string, state: FleetState): void {
  writeFileAtomic(path, JSON.stringify(state, null, 2) + "\n");
}
