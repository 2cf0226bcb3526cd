/**
 * The auditor (A.2.7, A.5.1): the registry of offsets in `<run_path>/registry.json`, in the
 * Datadog Agent's version 2 format. Offsets advance only through {@linkcode Auditor.ack}, which
 * the sender calls for messages the intake accepted, so a restart resumes where delivery
 * stopped: lines may repeat (those sent and not yet acknowledged), none are lost.
 *
 * @module
 */
import { mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { writeFileAtomic } from "../fs/mod.ts";
import type { Log } from "../log/mod.ts";
import { nextSeq, type Origin, type StartPosition } from "./_message.ts";

/** One identifier's state. */
interface Entry {
  offset: string;
  tailingMode: string;
  /** Epoch ms of the last change. */
  lastUpdated: number;
  /** Epoch ms the acknowledged message was made (IngestionTimestamp, in ns on disk). */
  ingestion: number;
  /** CRC-64 of the file's first bytes when the offset was set; "0" when unknown. */
  fingerprint: string;
  /** {@linkcode Origin.seq} of the last reset: older acks are ignored. */
  seq: number;
}

/** Options of {@linkcode Auditor}. */
export interface AuditorOptions {
  /** The registry file. */
  path: string;
  /** @default Date.now */
  now?: () => number;
  /** How often a changed registry is written, in ms. @default 1000 */
  flushMs?: number;
  /** Entries not updated for this long and not tailed are removed, in ms. @default 23 h */
  ttlMs?: number;
  log?: Log;
}

const CLEANUP_MS = 300_000;

/**
 * The registry of acknowledged offsets.
 *
 * @example Acknowledge an offset and read it back
 * ```ts
 * import { mkdtempSync, readFileSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { Auditor } from "./_auditor.ts";
 * const dir = mkdtempSync(join(tmpdir(), "auditor-"));
 * const auditor = new Auditor({ path: join(dir, "registry.json") });
 * await auditor.start();
 * auditor.ack([{ identifier: "file:/var/log/a.log", offset: "42", tailingMode: "end", fingerprint: "0", seq: 1 } as never]);
 * await auditor.stop();
 * console.log(JSON.parse(readFileSync(join(dir, "registry.json"), "utf8")).Registry["file:/var/log/a.log"].Offset); // "42"
 * rmSync(dir, { recursive: true });
 * ```
 */
export class Auditor {
  readonly #path: string;
  readonly #now: () => number;
  readonly #flushMs: number;
  readonly #ttlMs: number;
  readonly #log?: Log;
  readonly #entries = new Map<string, Entry>();
  readonly #tailed = new Set<string>();
  #dirty = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastCleanup = 0;
  /** Writes that failed since start (a full disk): the next flush tries again. */
  writeErrors = 0;

  constructor(opts: AuditorOptions) {
    this.#path = opts.path;
    this.#now = opts.now ?? Date.now;
    this.#flushMs = opts.flushMs ?? 1000;
    this.#ttlMs = opts.ttlMs ?? 23 * 3600_000;
    this.#log = opts.log;
  }

  /** Reads the registry (a missing or unreadable one is an empty registry) and starts flushing. */
  start(): Promise<void> {
    this.#load();
    this.#lastCleanup = this.#now();
    this.#timer = setInterval(() => this.flush(), this.#flushMs);
    return Promise.resolve();
  }

  /** Stops flushing and writes the last state. */
  stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#cleanup();
    this.#dirty = true;
    this.flush();
    return Promise.resolve();
  }

  /** Records the messages the intake accepted: each identifier moves to its latest offset. */
  ack(origins: readonly Origin[]): void {
    const now = this.#now();
    for (const o of origins) {
      if (o.identifier === "") continue;
      const e = this.#entries.get(o.identifier);
      if (e && o.seq < e.seq) continue;
      if (e) {
        e.offset = o.offset;
        e.fingerprint = o.fingerprint ?? "0";
        e.tailingMode = o.tailingMode;
        e.lastUpdated = now;
        e.ingestion = now;
        e.seq = o.seq;
      } else {
        this.#entries.set(o.identifier, {
          offset: o.offset,
          tailingMode: o.tailingMode,
          lastUpdated: now,
          ingestion: now,
          fingerprint: o.fingerprint ?? "0",
          seq: o.seq,
        });
      }
      this.#dirty = true;
    }
  }

  /** The acknowledged offset of `identifier`, if any. */
  offset(identifier: string): string | undefined {
    return this.#entries.get(identifier)?.offset;
  }

  /** What the registry knows of `identifier`: offset, tailing mode and fingerprint. */
  entry(
    identifier: string,
  ): { offset: string; tailingMode: string; fingerprint: string } | undefined {
    return this.#entries.get(identifier);
  }

  /**
   * Records where a file opened fresh starts (its end, for `start_position: end`): acks of
   * messages made before this call no longer move it.
   */
  reset(identifier: string, offset: number, tailingMode: StartPosition, fingerprint: string): void {
    const now = this.#now();
    this.#entries.set(identifier, {
      offset: String(offset),
      tailingMode,
      lastUpdated: now,
      ingestion: now,
      fingerprint,
      seq: nextSeq(),
    });
    this.#dirty = true;
  }

  /** Marks `identifier` as tailed (kept past the TTL) or not. */
  setTailed(identifier: string, tailed: boolean): void {
    if (tailed) this.#tailed.add(identifier);
    else this.#tailed.delete(identifier);
  }

  /** Writes the registry if it changed (called every `flushMs`). */
  flush(): void {
    if (this.#now() - this.#lastCleanup >= CLEANUP_MS) this.#cleanup();
    if (!this.#dirty) return;
    try {
      mkdirSync(dirname(this.#path), { recursive: true });
      writeFileAtomic(this.#path, this.#serialize(), { mode: 0o644 });
      this.#dirty = false;
    } catch (e) {
      this.writeErrors++;
      this.#log?.error(`Cannot write the logs registry ${this.#path}: ${(e as Error).message}`);
    }
  }

  #cleanup(): void {
    this.#lastCleanup = this.#now();
    const oldest = this.#now() - this.#ttlMs;
    for (const [id, e] of this.#entries) {
      if (e.lastUpdated < oldest && !this.#tailed.has(id)) {
        this.#entries.delete(id);
        this.#dirty = true;
      }
    }
  }

  #serialize(): string {
    const parts: string[] = [];
    for (const [id, e] of this.#entries) {
      // IngestionTimestamp is int64 ns: written as text, past what a JS number holds exactly.
      parts.push(
        `${JSON.stringify(id)}:{"LastUpdated":${
          JSON.stringify(new Date(e.lastUpdated).toISOString())
        },"Offset":${JSON.stringify(e.offset)},"TailingMode":${
          JSON.stringify(e.tailingMode)
        },"IngestionTimestamp":${e.ingestion}000000,"Fingerprint":${
          JSON.stringify(e.fingerprint)
        }}`,
      );
    }
    return `{"Version":2,"Registry":{${parts.join(",")}}}\n`;
  }

  #load(): void {
    let text: string;
    try {
      text = readFileSync(this.#path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") {
        this.#log?.warn(`Cannot read the logs registry ${this.#path}: ${(e as Error).message}`);
      }
      return;
    }
    try {
      const doc = JSON.parse(text);
      if (doc?.Version !== 2 || typeof doc.Registry !== "object" || doc.Registry === null) {
        throw new Error(`expected Version 2, got ${JSON.stringify(doc?.Version)}`);
      }
      for (const [id, raw] of Object.entries(doc.Registry as Record<string, any>)) {
        if (typeof raw?.Offset !== "string") continue;
        const updated = Date.parse(raw.LastUpdated);
        this.#entries.set(id, {
          offset: raw.Offset,
          tailingMode: typeof raw.TailingMode === "string" ? raw.TailingMode : "end",
          lastUpdated: Number.isFinite(updated) ? updated : this.#now(),
          ingestion: typeof raw.IngestionTimestamp === "number"
            ? Math.floor(raw.IngestionTimestamp / 1e6)
            : 0,
          fingerprint: typeof raw.Fingerprint === "string" ? raw.Fingerprint : "0",
          seq: 0,
        });
      }
    } catch (e) {
      this.#log?.warn(
        `Cannot parse the logs registry ${this.#path}, starting with an empty one: ${
          (e as Error).message
        }`,
      );
    }
  }
}
