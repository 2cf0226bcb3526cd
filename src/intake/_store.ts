/**
 * The intake's storage: every accepted payload, decoded, as one JSON line in segment files
 * under a directory, plus blobs (flare archives) beside them. The directory is kept under a
 * byte cap by removing the oldest files first; every removal is counted. Files survive a
 * restart of the intake: the store picks up where the directory left off.
 *
 * @module
 */
import { configDefaults } from "../config/mod.ts";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

/** Version of the stored line format. */
export const RECORD_FORMAT_VERSION = 1;

/** One stored payload. */
export interface StoredRecord {
  /** Format version of the line. */
  v: number;
  /** Arrival number, increasing across restarts. */
  seq: number;
  route: string;
  /** A finer classification where a route carries several kinds (`/intake/`). */
  kind: string;
  method: string;
  /** Arrival time, RFC 3339. */
  received_at: string;
  /** Arrival time, ms since the epoch. */
  received_ms: number;
  /** Headers of interest, lower-cased names. */
  headers: Record<string, string>;
  /** The API key with everything but its last 4 characters masked, or "" when absent. */
  api_key_masked: string;
  /** Bytes as received and after decompression. */
  wire_bytes: number;
  decoded_bytes: number;
  content: unknown;
}

/** What a caller gives to {@linkcode IntakeStore.append}. */
export type NewRecord = Omit<StoredRecord, "v" | "seq">;

/** Options of {@linkcode IntakeStore}. */
export interface StoreOptions {
  /** Directory of the segment files and blobs; created when missing. */
  dir: string;
  /** Cap on the bytes of every file in `dir`. @default `local_intake.max_bytes` (64 MiB) */
  maxBytes?: number;
  /** A segment is closed past this size. @default maxBytes / 16, within 64 KiB .. 4 MiB */
  segmentBytes?: number;
}

/** Counters of the store. */
export interface StoreStats {
  files: number;
  bytes: number;
  max_bytes: number;
  records: number;
  evicted_files: number;
  evicted_records: number;
  evicted_bytes: number;
}

interface StoredFile {
  name: string;
  bytes: number;
  /** Lines in a segment; 0 for a blob. */
  records: number;
}

const SEGMENT = /^payloads-(\d{10})\.jsonl$/;
const BLOB = /^blob-(\d{10})-/;
const encoder = new TextEncoder();

/**
 * The on-disk payload store.
 *
 * @example Append and read back
 * ```ts
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { IntakeStore } from "./_store.ts";
 * const dir = mkdtempSync(join(tmpdir(), "intake-"));
 * const store = new IntakeStore({ dir });
 * store.append({ route: "/api/v1/check_run", kind: "check_run", method: "POST",
 *   received_at: new Date().toISOString(), received_ms: Date.now(), headers: {},
 *   api_key_masked: "", wire_bytes: 2, decoded_bytes: 2, content: [] });
 * console.log([...store.records()].length); // 1
 * rmSync(dir, { recursive: true });
 * ```
 */
export class IntakeStore {
  readonly dir: string;
  readonly maxBytes: number;
  readonly #segmentBytes: number;
  /** Oldest first; the last segment is the one being written. */
  readonly #files: StoredFile[] = [];
  #active: StoredFile | undefined;
  #nextFile = 1;
  #nextSeq = 1;
  #bytes = 0;
  #evictedFiles = 0;
  #evictedRecords = 0;
  #evictedBytes = 0;

  constructor(
    { dir, maxBytes = configDefaults().local_intake.max_bytes, segmentBytes }: StoreOptions,
  ) {
    this.dir = dir;
    this.maxBytes = maxBytes;
    this.#segmentBytes = segmentBytes ??
      Math.min(4 * 1024 ** 2, Math.max(64 * 1024, Math.floor(maxBytes / 16)));
    // 0700, parents included: the store holds what the agent sent (flares among it), and in
    // --dev it is created inside run_path before the agent checks that directory's mode.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.#load();
  }

  /** Stores one record and returns it with its sequence number. */
  append(record: NewRecord): StoredRecord {
    const stored: StoredRecord = { v: RECORD_FORMAT_VERSION, seq: this.#nextSeq++, ...record };
    const line = encoder.encode(JSON.stringify(stored) + "\n");
    let active = this.#active;
    if (!active || (active.bytes > 0 && active.bytes + line.length > this.#segmentBytes)) {
      active = this.#newFile(`payloads-${this.#fileNumber()}.jsonl`);
      this.#active = active;
    }
    appendFileSync(join(this.dir, active.name), line);
    active.bytes += line.length;
    active.records++;
    this.#bytes += line.length;
    this.#enforceCap();
    return stored;
  }

  /** Writes a blob (a flare archive) and returns its file name inside the store. */
  writeBlob(label: string, data: Uint8Array): string {
    const safe = label.replace(/[^\w.-]+/g, "_").slice(0, 120);
    const file = this.#newFile(`blob-${this.#fileNumber()}-${safe}`);
    writeFileSync(join(this.dir, file.name), data, { mode: 0o600 });
    file.bytes = data.length;
    this.#bytes += data.length;
    // Keep the segment being written last, so that eviction reaches it only after the blob.
    if (this.#active) {
      this.#files.splice(this.#files.indexOf(file), 1);
      this.#files.splice(this.#files.indexOf(this.#active), 0, file);
    }
    this.#enforceCap();
    return file.name;
  }

  /** Whether a blob is still stored (the cap may have removed it). */
  hasBlob(name: string): boolean {
    return this.#files.some((f) => f.name === name);
  }

  /** The bytes of a blob, or null when the cap removed it. */
  readBlob(name: string): Uint8Array | null {
    if (!BLOB.test(name) || !this.hasBlob(name)) return null;
    const path = join(this.dir, name);
    return existsSync(path) ? readFileSync(path) : null;
  }

  /**
   * Every stored record, oldest first. `hint` is a substring every wanted line contains; lines
   * without it are skipped before parsing, which keeps queries over big stores quick.
   */
  *records(hint?: string): Generator<StoredRecord> {
    for (const file of [...this.#files]) {
      if (!SEGMENT.test(file.name)) continue;
      let text: string;
      try {
        text = readFileSync(join(this.dir, file.name), "utf8");
      } catch {
        continue; // removed by the cap since the listing
      }
      for (const line of text.split("\n")) {
        if (line === "" || (hint !== undefined && !line.includes(hint))) continue;
        try {
          yield JSON.parse(line) as StoredRecord;
        } catch {
          // a line cut short by a crash is not a record
        }
      }
    }
  }

  /** The store's counters. */
  stats(): StoreStats {
    return {
      files: this.#files.length,
      bytes: this.#bytes,
      max_bytes: this.maxBytes,
      records: this.#files.reduce((n, f) => n + f.records, 0),
      evicted_files: this.#evictedFiles,
      evicted_records: this.#evictedRecords,
      evicted_bytes: this.#evictedBytes,
    };
  }

  #fileNumber(): string {
    return String(this.#nextFile++).padStart(10, "0");
  }

  #newFile(name: string): StoredFile {
    const file = { name, bytes: 0, records: 0 };
    this.#files.push(file);
    return file;
  }

  /** Removes the oldest files, never the segment being written, until the cap holds. */
  #enforceCap(): void {
    while (this.#bytes > this.maxBytes) {
      const victim = this.#files.find((f) => f !== this.#active);
      if (!victim) return;
      rmSync(join(this.dir, victim.name), { force: true });
      this.#files.splice(this.#files.indexOf(victim), 1);
      this.#bytes -= victim.bytes;
      this.#evictedFiles++;
      this.#evictedRecords += victim.records;
      this.#evictedBytes += victim.bytes;
    }
  }

  /** Picks up the files a previous run left: numbering, sizes and the last sequence number. */
  #load(): void {
    const found: Array<{ n: number; file: StoredFile }> = [];
    for (const name of readdirSync(this.dir)) {
      const m = SEGMENT.exec(name) ?? BLOB.exec(name);
      if (!m) continue;
      const bytes = statSync(join(this.dir, name)).size;
      let records = 0;
      if (SEGMENT.test(name)) {
        const lines = readFileSync(join(this.dir, name), "utf8").split("\n").filter((l) => l);
        records = lines.length;
        const last = lines.at(-1);
        if (last) {
          try {
            this.#nextSeq = Math.max(this.#nextSeq, (JSON.parse(last).seq ?? 0) + 1);
          } catch { /* a torn last line */ }
        }
      }
      found.push({ n: Number(m[1]), file: { name, bytes, records } });
    }
    found.sort((a, b) => a.n - b.n);
    for (const { n, file } of found) {
      this.#files.push(file);
      this.#bytes += file.bytes;
      this.#nextFile = Math.max(this.#nextFile, n + 1);
    }
    this.#enforceCap();
  }
}
