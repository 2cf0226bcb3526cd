/**
 * The disk-backed retry queue of one domain: transactions evicted from memory, or still
 * queued when the agent stops, are written to files under a byte cap and replayed oldest
 * first, also by the next run. A file is deleted only when every transaction in it is settled
 * (delivered, or dropped by the status table); a partly delivered file is rewritten with what
 * is left.
 *
 * Files are written atomically (temp file, fsync, rename, fsync of the directory) and carry a
 * format version. API keys are never written: a transaction records a short hash of its key
 * and gets the key back from the config when replayed.
 *
 * File layout (version 1): `OUTPOSTQ` | u32 version | u32 header length | header JSON |
 * bodies, concatenated in header order. Name: `<oldest createdAt, 15 digits>-<random>-<count>.retry`
 * so that names sort oldest first.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, statfsSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { isAtomicTemp, writeFileAtomic } from "../fs/mod.ts";
import { makeTransaction, type Transaction } from "./_transaction.ts";

/** Version written into every file; files of another version are dropped and counted. */
export const DISK_FORMAT_VERSION = 1;
const MAGIC = new TextEncoder().encode("OUTPOSTQ");
const SUFFIX = ".retry";

/** One stored transaction's header entry. */
interface StoredMeta {
  route: string;
  /** Headers without the API key. */
  headers: Record<string, string>;
  kind: string;
  createdAt: number;
  keyHash: string;
  size: number;
}

type EntryState = "memory" | "done" | "evicted";

interface FileState {
  name: string;
  bytes: number;
  count: number;
  /** Per-transaction state while the file is loaded into memory; undefined when not loaded. */
  entries?: EntryState[];
}

/** Options of {@linkcode DiskQueue}. */
export interface DiskQueueOptions {
  /** The domain's directory. */
  dir: string;
  /** The domain URL, given back to replayed transactions. */
  domain: string;
  /** Its API keys: replayed transactions find theirs by hash. */
  apiKeys: string[];
  /** Cap of all files' bytes; 0 disables the queue. @default 512 MiB */
  maxBytes: number;
  /** Stop writing above this share of the filesystem used. @default 0.8 */
  maxDiskRatio?: number;
  /** Files older than this many days are removed on open. @default 10 */
  outdatedDays?: number;
  /** @default Date.now */
  now?: () => number;
  /** Counts transactions dropped with a reason. */
  onDrop: (reason: string, count: number) => void;
  /** Counts a failed file write by its error code (`ENOSPC`); its payloads count as lost. */
  onWriteError?: (code: string, message: string) => void;
}

/** sha256 prefix of an API key: enough to tell the configured keys apart, useless to a reader. */
export function keyHash(apiKey: string): string {
  return createHash("sha256").update(apiKey).digest("hex").slice(0, 16);
}

/** Encodes transactions into the version-1 file layout. */
export function encodeFile(txs: Transaction[]): Uint8Array {
  const header = JSON.stringify({
    version: DISK_FORMAT_VERSION,
    transactions: txs.map((tx): StoredMeta => ({
      route: tx.route,
      headers: Object.fromEntries(
        Object.entries(tx.headers).filter(([k]) => k.toLowerCase() !== "dd-api-key"),
      ),
      kind: tx.kind,
      createdAt: tx.createdAt,
      keyHash: keyHash(tx.apiKey),
      size: tx.body.byteLength,
    })),
  });
  const h = new TextEncoder().encode(header);
  const bodies = txs.reduce((n, tx) => n + tx.body.byteLength, 0);
  const out = new Uint8Array(MAGIC.length + 8 + h.byteLength + bodies);
  out.set(MAGIC, 0);
  const view = new DataView(out.buffer);
  view.setUint32(MAGIC.length, DISK_FORMAT_VERSION);
  view.setUint32(MAGIC.length + 4, h.byteLength);
  let off = MAGIC.length + 8;
  out.set(h, off);
  off += h.byteLength;
  for (const tx of txs) {
    out.set(tx.body, off);
    off += tx.body.byteLength;
  }
  return out;
}

/** A file's content, or why it cannot be read. */
export type DecodedFile =
  | { ok: true; entries: { meta: StoredMeta; body: Uint8Array }[] }
  | { ok: false; reason: "disk_format_version" | "disk_corrupt" };

/** Decodes a file written by {@linkcode encodeFile}; never throws. */
export function decodeFile(data: Uint8Array): DecodedFile {
  const corrupt = { ok: false, reason: "disk_corrupt" } as const;
  if (data.byteLength < MAGIC.length + 8) return corrupt;
  for (let i = 0; i < MAGIC.length; i++) if (data[i] !== MAGIC[i]) return corrupt;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint32(MAGIC.length) !== DISK_FORMAT_VERSION) {
    return { ok: false, reason: "disk_format_version" };
  }
  const hLen = view.getUint32(MAGIC.length + 4);
  let off = MAGIC.length + 8;
  if (off + hLen > data.byteLength) return corrupt;
  let metas: StoredMeta[];
  try {
    metas = JSON.parse(new TextDecoder().decode(data.subarray(off, off + hLen))).transactions;
  } catch {
    return corrupt;
  }
  off += hLen;
  if (!Array.isArray(metas)) return corrupt;
  const total = metas.reduce((n, m) => n + (m?.size ?? NaN), 0);
  if (off + total !== data.byteLength) return corrupt;
  const entries = metas.map((meta) => {
    const body = data.slice(off, off + meta.size);
    off += meta.size;
    return { meta, body };
  });
  return { ok: true, entries };
}

/** A domain's retry files. */
export class DiskQueue {
  readonly #o: Required<DiskQueueOptions>;
  readonly #keys: Map<string, string>;
  /** Files, oldest first. */
  #files: FileState[] = [];
  #bytes = 0;

  constructor(options: DiskQueueOptions) {
    this.#o = {
      maxDiskRatio: 0.8,
      outdatedDays: 10,
      now: Date.now,
      onWriteError: () => {},
      ...options,
    };
    this.#keys = new Map(options.apiKeys.map((k) => [keyHash(k), k]));
  }

  /** False when `maxBytes` is 0: evicted transactions are then lost (and counted). */
  get enabled(): boolean {
    return this.#o.maxBytes > 0;
  }
  /** Bytes of all files. */
  get bytes(): number {
    return this.#bytes;
  }
  /** Files on disk. */
  get files(): number {
    return this.#files.length;
  }
  /** Creation time (epoch ms) of the oldest transaction on disk, from its file name; null when none. */
  get oldestMs(): number | null {
    const first = this.#files[0];
    return first ? Number(first.name.slice(0, 15)) : null;
  }
  /** Transactions in files not loaded into memory. */
  get waiting(): number {
    return this.#files.reduce((n, f) => n + (f.entries ? 0 : f.count), 0);
  }

  /**
   * Creates the directory, removes temp leftovers of a crash and outdated files (counted as
   * drops), and indexes what is left.
   */
  open(): void {
    if (!this.enabled) return;
    mkdirSync(this.#o.dir, { recursive: true, mode: 0o700 });
    const oldest = this.#o.now() - this.#o.outdatedDays * 86_400_000;
    const files: FileState[] = [];
    for (const name of readdirSync(this.#o.dir).sort()) {
      const path = join(this.#o.dir, name);
      if (isAtomicTemp(name)) {
        unlinkSync(path);
        continue;
      }
      if (!name.endsWith(SUFFIX)) continue;
      const st = statSync(path);
      const count = countOf(name);
      if (st.mtimeMs < oldest) {
        unlinkSync(path);
        this.#o.onDrop("disk_outdated", count);
        continue;
      }
      files.push({ name, bytes: st.size, count });
    }
    this.#files = files;
    this.#bytes = files.reduce((n, f) => n + f.bytes, 0);
  }

  /**
   * Writes `txs` (storable, not already on disk) as one file. Makes room by removing the
   * oldest files not loaded (counted as `disk_full`). Returns null when stored, else the
   * reason they were not; the caller counts them as lost with it.
   */
  store(txs: Transaction[]): string | null {
    if (!this.enabled) return "disk_disabled";
    if (txs.length === 0) return null;
    const data = encodeFile(txs);
    if (data.byteLength > this.#o.maxBytes) return "disk_full";
    while (this.#bytes + data.byteLength > this.#o.maxBytes) {
      const victim = this.#files.find((f) => !f.entries);
      if (!victim) return "disk_full";
      this.#remove(victim);
      this.#o.onDrop("disk_full", victim.count);
    }
    if (this.#diskTooFull()) return "disk_ratio";
    const createdAt = Math.min(...txs.map((t) => t.createdAt));
    try {
      this.#write(createdAt, data, txs.length);
    } catch (e) {
      this.#writeFailed(e);
      return "disk_write_failed";
    }
    return null;
  }

  /**
   * Loads the oldest file not in memory and returns its transactions (with their origin),
   * oldest first, up to `budget` body bytes (at least one). The rest stay in the file and
   * become loadable again once the loaded ones are settled. Unreadable files are removed and
   * counted.
   */
  loadOldest(budget: number): Transaction[] {
    while (true) {
      const file = this.#files.find((f) => !f.entries);
      if (!file) return [];
      let decoded: DecodedFile;
      try {
        decoded = decodeFile(readFileSync(join(this.#o.dir, file.name)));
      } catch {
        decoded = { ok: false, reason: "disk_corrupt" };
      }
      if (!decoded.ok) {
        this.#remove(file);
        this.#o.onDrop(decoded.reason, file.count);
        continue;
      }
      const entries: EntryState[] = [];
      file.entries = entries;
      const txs: Transaction[] = [];
      let bytes = 0;
      decoded.entries.forEach(({ meta, body }, index) => {
        const apiKey = this.#keys.get(meta.keyHash);
        if (apiKey === undefined) {
          entries[index] = "done";
          this.#o.onDrop("api_key_unknown", 1);
          return;
        }
        if (txs.length > 0 && bytes + body.byteLength > budget) {
          entries[index] = "evicted";
          return;
        }
        bytes += body.byteLength;
        entries[index] = "memory";
        txs.push(
          makeTransaction({
            domain: this.#o.domain,
            route: meta.route,
            apiKey,
            headers: { ...meta.headers, "DD-Api-Key": apiKey },
            body,
            storable: true,
            kind: meta.kind,
            createdAt: meta.createdAt,
            origin: { file: file.name, index },
          }),
        );
      });
      if (txs.length > 0) return txs;
      this.#finish(file);
    }
  }

  /**
   * Settles a replayed transaction: `done` (delivered or dropped for good) or `evicted`
   * (pushed out of memory again; it stays in its file). A file whose transactions are all
   * settled is deleted, or rewritten with the evicted ones and becomes loadable again.
   */
  settle(origin: { file: string; index: number }, state: "done" | "evicted"): void {
    const file = this.#files.find((f) => f.name === origin.file);
    if (!file?.entries) return;
    file.entries[origin.index] = state;
    if (!file.entries.includes("memory")) this.#finish(file);
  }

  /** On stop: rewrites loaded files to hold only what was not settled, and unloads them. */
  persistLoaded(): void {
    for (const f of [...this.#files]) {
      if (!f.entries) continue;
      f.entries = f.entries.map((s) => (s === "memory" ? "evicted" : s));
      this.#finish(f);
    }
  }

  #finish(file: FileState): void {
    const keep = file.entries!.flatMap((s, i) => (s === "evicted" ? [i] : []));
    file.entries = undefined;
    if (keep.length === 0) return this.#remove(file);
    if (keep.length === file.count) return;
    const path = join(this.#o.dir, file.name);
    let decoded: DecodedFile;
    try {
      decoded = decodeFile(readFileSync(path));
    } catch {
      decoded = { ok: false, reason: "disk_corrupt" };
    }
    this.#remove(file);
    if (!decoded.ok) return this.#o.onDrop(decoded.reason, keep.length);
    const txs = keep.map((i) => {
      const { meta, body } = decoded.entries[i];
      return makeTransaction({
        domain: this.#o.domain,
        route: meta.route,
        apiKey: this.#keys.get(meta.keyHash) ?? "",
        headers: meta.headers,
        body,
        storable: true,
        kind: meta.kind,
        createdAt: meta.createdAt,
      });
    });
    try {
      this.#write(Number(file.name.slice(0, 15)), encodeFile(txs), txs.length);
    } catch (e) {
      this.#writeFailed(e);
      this.#o.onDrop("disk_write_failed", txs.length);
    }
  }

  #writeFailed(e: unknown): void {
    const err = e as { code?: unknown; message?: unknown };
    this.#o.onWriteError(
      typeof err?.code === "string" ? err.code : "unknown",
      String(err?.message ?? e),
    );
  }

  /** Throws when the file cannot be written. */
  #write(createdAt: number, data: Uint8Array, count: number): void {
    const name = `${String(createdAt).padStart(15, "0")}-${
      randomBytes(4).toString("hex")
    }-${count}${SUFFIX}`;
    mkdirSync(this.#o.dir, { recursive: true, mode: 0o700 });
    writeFileAtomic(join(this.#o.dir, name), data);
    const file: FileState = { name, bytes: data.byteLength, count };
    const at = this.#files.findIndex((f) => f.name > name);
    this.#files.splice(at < 0 ? this.#files.length : at, 0, file);
    this.#bytes += file.bytes;
  }

  #remove(file: FileState): void {
    try {
      unlinkSync(join(this.#o.dir, file.name));
    } catch { /* already gone */ }
    this.#files = this.#files.filter((f) => f !== file);
    this.#bytes -= file.bytes;
  }

  #diskTooFull(): boolean {
    try {
      const s = statfsSync(this.#o.dir);
      return s.blocks > 0 && 1 - s.bavail / s.blocks > this.#o.maxDiskRatio;
    } catch {
      return false; // the runtime cannot tell: rely on maxBytes alone
    }
  }
}

function countOf(name: string): number {
  const m = /-(\d+)\.retry$/.exec(name);
  return m ? Number(m[1]) : 0;
}
