/**
 * The run record: one small file in `run_path` that says whether the agent is running or
 * stopped cleanly, and what a crash would lose right now (the payloads held only in memory,
 * the oldest one's time, the last flush handed over). The next start reads it: a record still
 * saying "running" means the previous run was killed (SIGKILL, OOM, power cut), and what it
 * recorded is the estimate of what was lost.
 *
 * Written atomically (src/fs), only when a figure changed or once a minute, so
 * an idle agent does not wear a flash card.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { writeFileAtomic } from "../fs/mod.ts";
import type { MemoryHeld } from "./_domain.ts";

/** Format version of the record; a record of another version is ignored. */
export const RUN_RECORD_VERSION = 1;
/** Rewritten at least this often while running, so `updatedMs` says when the run was alive. */
const REFRESH_MS = 60_000;

interface Stored {
  version: number;
  state: "running" | "stopped";
  pid: number;
  startedMs: number;
  updatedMs: number;
  /** When the last payload reached the forwarder (the last flush); null before the first. */
  lastSubmitMs: number | null;
  memoryTransactions: number;
  memoryBytes: number;
  oldestInMemoryMs: number | null;
}

/** What a run that did not stop cleanly left behind: the estimate of what it lost. */
export interface UncleanStop {
  pid: number;
  startedMs: number;
  /** The last time the run was known alive; it died after this. */
  lastSeenMs: number;
  /** Payloads held only in memory at `lastSeenMs`, and their bytes. */
  transactions: number;
  bytes: number;
  /**
   * Data received since this time was held in memory and is lost: the oldest payload in
   * memory, or the last flush (what the aggregator held after it), or the start.
   */
  lostSinceMs: number;
}

/** Options of {@linkcode RunRecord}. */
export interface RunRecordOptions {
  /** The record file. */
  path: string;
  /** @default Date.now */
  now?: () => number;
  /** @default process.pid */
  pid?: number;
}

/**
 * Reads the previous run's record at open, then keeps this run's up to date.
 *
 * @example Tell a killed run at the next start
 * ```ts
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { RunRecord } from "./_run_record.ts";
 * const dir = mkdtempSync(join(tmpdir(), "run-"));
 * const path = join(dir, "outpost_run.json");
 * const killed = new RunRecord({ path, pid: 1 });
 * killed.open();
 * killed.update({ transactions: 2, bytes: 900, oldestMs: Date.now() - 30_000 }, Date.now());
 * // … SIGKILL: no close() …
 * console.log(new RunRecord({ path }).open()); // { pid: 1, transactions: 2, bytes: 900, … }
 * rmSync(dir, { recursive: true });
 * ```
 */
export class RunRecord {
  readonly #path: string;
  readonly #now: () => number;
  readonly #pid: number;
  #current: Stored | undefined;

  constructor({ path, now = Date.now, pid = process.pid }: RunRecordOptions) {
    this.#path = path;
    this.#now = now;
    this.#pid = pid;
  }

  /**
   * Reads the previous record and writes this run's. Returns what the previous run lost when
   * it did not stop cleanly, else null (clean stop, first run, unreadable record). Throws when
   * the record cannot be written.
   */
  open(): UncleanStop | null {
    const previous = readRecord(this.#path);
    mkdirSync(dirname(this.#path), { recursive: true, mode: 0o700 });
    const now = this.#now();
    this.#write({
      version: RUN_RECORD_VERSION,
      state: "running",
      pid: this.#pid,
      startedMs: now,
      updatedMs: now,
      lastSubmitMs: null,
      memoryTransactions: 0,
      memoryBytes: 0,
      oldestInMemoryMs: null,
    });
    if (!previous || previous.state !== "running") return null;
    const lostSinceMs = Math.min(
      previous.oldestInMemoryMs ?? Infinity,
      previous.lastSubmitMs ?? previous.startedMs,
    );
    return {
      pid: previous.pid,
      startedMs: previous.startedMs,
      lastSeenMs: previous.updatedMs,
      transactions: previous.memoryTransactions,
      bytes: previous.memoryBytes,
      lostSinceMs,
    };
  }

  /** Records what memory holds now; writes only when it changed or the record is a minute old. */
  update(held: MemoryHeld, lastSubmitMs: number | null): void {
    const c = this.#current;
    if (!c || c.state !== "running") return;
    const now = this.#now();
    const same = c.memoryTransactions === held.transactions && c.memoryBytes === held.bytes &&
      c.oldestInMemoryMs === held.oldestMs && c.lastSubmitMs === lastSubmitMs;
    if (same && now - c.updatedMs < REFRESH_MS) return;
    this.#write({
      ...c,
      updatedMs: now,
      lastSubmitMs,
      memoryTransactions: held.transactions,
      memoryBytes: held.bytes,
      oldestInMemoryMs: held.oldestMs,
    });
  }

  /** Records the clean stop: everything was sent or persisted. */
  close(): void {
    const c = this.#current;
    if (!c) return;
    this.#write({
      ...c,
      state: "stopped",
      updatedMs: this.#now(),
      memoryTransactions: 0,
      memoryBytes: 0,
      oldestInMemoryMs: null,
    });
  }

  #write(record: Stored): void {
    this.#current = record;
    writeFileAtomic(this.#path, JSON.stringify(record) + "\n");
  }
}

/** The stored record, or null when there is none or it is not one this version can read. */
function readRecord(path: string): Stored | null {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return null;
  }
  const r = raw as Partial<Stored> | null;
  if (r?.version !== RUN_RECORD_VERSION) return null;
  const isTime = (v: unknown) => typeof v === "number" && Number.isFinite(v);
  const timeOrNull = (v: unknown) => v === null || isTime(v);
  const ok = (r.state === "running" || r.state === "stopped") && isTime(r.pid) &&
    isTime(r.startedMs) && isTime(r.updatedMs) && timeOrNull(r.lastSubmitMs) &&
    isTime(r.memoryTransactions) && isTime(r.memoryBytes) && timeOrNull(r.oldestInMemoryMs);
  return ok ? r as Stored : null;
}
