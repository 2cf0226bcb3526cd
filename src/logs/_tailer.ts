/**
 * The file tailer (A.2.2–A.2.5): reads one file from its start position, through the decoder,
 * line handler and processor, and follows it through truncation. At end of file it sleeps
 * until the file changes (`fs.watch`) or `filePollMs` (1 s, the Go agent's poll) passes, and
 * then checks the path: a different file there is a
 * rename rotation (the launcher opens the new one from byte 0 while this tailer keeps reading
 * the old one for `close_timeout`); a path that stays empty a while is a removal; a shorter
 * file is a truncation (read again from 0). It never reads while the sender refuses. Unlike the Go agent, messages of
 * a rotated file keep their identifier, each origin carrying its file's fingerprint: until the
 * new file's first ack the registry says "the old file, at this offset", so a crash then reads
 * the old file's rest from its new name on restart, instead of losing it.
 *
 * @module
 */
import { type FSWatcher, watch } from "node:fs";
import { open, readdir, stat } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Log } from "../log/mod.ts";
import type { LogsEvents } from "../telemetry/events/mod.ts";
import type { Auditor } from "./_auditor.ts";
import { Decoder } from "./_decoder.ts";
import { FINGERPRINT_BYTES, fingerprintOf } from "./_fingerprint.ts";
import { createLineHandler, type LineHandler } from "./_lines.ts";
import type { LogMessage, LogSource, StartPosition } from "./_message.ts";
import { createProcessor, truncatedTag } from "./_processor.ts";

/** Bytes asked for per read: large enough that a busy file costs few reads. */
const READ_SIZE = 64 * 1024;
/** How long a paused tailer waits before asking the sender again, in ms. */
const PAUSE_MS = 50;

/** What every tailer of a pipeline shares. */
export interface TailerContext {
  maxMessageSize: number;
  aggregationTimeoutMs: number;
  closeTimeoutMs: number;
  /** Sleep at end of file, in ms. */
  filePollMs: number;
  jsonDetection: boolean;
  autoMultiLinePatterns: RegExp[];
  /** Tag cut events with `truncated:<reason>` (`tag_truncated_logs`). */
  tagTruncated: boolean;
  hostname: string;
  /** Host tags for every message while `expected_tags_duration` runs (set at start). */
  hostTags?: { tags: string[]; until: number };
  auditor: Auditor;
  events: LogsEvents;
  output: (m: LogMessage) => void;
  canAccept: () => boolean;
  log: Log;
}

/** How a tailer came to be, which decides where it starts. */
export type TailerStart = "initial" | "scan" | "rotated";

/**
 * Where a file is read from (A.2.4), given the mode, what the registry knows and the file.
 * A stored fingerprint "0" (the file was shorter than 1024 bytes) never contradicts.
 */
export function resolveStart(
  mode: StartPosition,
  entry: { offset: string; tailingMode: string; fingerprint: string } | undefined,
  file: { size: number; fingerprint: string },
): number {
  if (mode === "forceBeginning") return 0;
  if (mode === "forceEnd") return file.size;
  const fallback = mode === "beginning" ? 0 : file.size;
  if (!entry) return fallback;
  // beginning → end across a restart drops the saved offset (it becomes forceEnd).
  if (mode === "end" && entry.tailingMode === "beginning") return file.size;
  if (!/^\d+$/.test(entry.offset)) return fallback;
  const offset = Number(entry.offset);
  // A stored fingerprint means the file had 1024 bytes then: one without them now is another.
  const replaced = entry.fingerprint !== "0" && entry.fingerprint !== file.fingerprint;
  // A shorter file or a different one: replaced or truncated while the agent was down.
  if (replaced || offset > file.size) return 0;
  return offset;
}

/**
 * How long a path may name no file before its file counts as removed: two polls, at least 1 s,
 * at most `close_timeout`. Long enough for logrotate's rename-then-create, short enough that a
 * deleted file's descriptor is not held for long.
 */
export function removalGraceMs(ctx: { filePollMs: number; closeTimeoutMs: number }): number {
  return Math.min(ctx.closeTimeoutMs, Math.max(2 * ctx.filePollMs, 1000));
}

/** Follows one file. */
export class FileTailer {
  readonly path: string;
  readonly identifier: string;
  readonly #source: LogSource;
  readonly #ctx: TailerContext;
  #fh: FileHandle | undefined;
  #ino = 0;
  #dev = 0;
  #pos = 0;
  #decoded = 0;
  #fingerprint = "0";
  #decoder!: Decoder;
  #handler!: LineHandler;
  #stopped = false;
  /** Set once rotated: keep reading the old file until then, messages no longer recorded. */
  #drainUntil = 0;
  /** Rotated, and the new file not announced yet: first the old one is read to its end. */
  #announce = false;
  /** When the path was first seen naming no file (0: it names one). */
  #missingSince = 0;
  #wake: (() => void) | undefined;
  #watcher: FSWatcher | undefined;
  #sleep: ReturnType<typeof setTimeout> | undefined;
  #loop: Promise<void> = Promise.resolve();
  /** Called once when the path now names another file. */
  onRotated: (t: FileTailer) => void = () => {};
  /** Set when the tailer ended because its path stayed empty: a new file there starts at 0. */
  removed = false;
  /** Called once when the tailer ended on its own (removed, drained, read error). */
  onClosed: (t: FileTailer) => void = () => {};

  constructor(source: LogSource, path: string, ctx: TailerContext) {
    this.#source = source;
    this.path = path;
    this.identifier = `file:${path}`;
    this.#ctx = ctx;
  }

  /** Opens the file and starts reading; rejects when the file cannot be opened. */
  async start(how: TailerStart): Promise<void> {
    const fh = await open(this.path, "r");
    const st = await fh.stat().catch(async (e) => {
      await fh.close();
      throw e;
    });
    this.#fh = fh;
    this.#ino = st.ino;
    this.#dev = st.dev;
    this.#fingerprint = await fingerprintOf(fh);
    const configured = this.#source.config.startPosition;
    const mode: StartPosition = how === "initial" ? configured : "beginning";
    const a = this.#ctx.auditor;
    const entry = a.entry(this.identifier);
    const start = how === "rotated" ? 0 : resolveStart(mode, entry, {
      size: st.size,
      fingerprint: this.#fingerprint,
    });
    this.#pipeline();
    const saved = entry && /^\d+$/.test(entry.offset) ? Number(entry.offset) : 0;
    let keep = how === "rotated";
    if (
      !keep && start === 0 && saved > 0 && entry!.fingerprint !== "0" &&
      entry!.fingerprint !== this.#fingerprint && (mode === "beginning" || mode === "end")
    ) {
      // Rotated or truncated while the agent was down: the old file's unsent rest may be
      // beside it, under another name.
      const own = this.#fingerprint;
      this.#pos = this.#decoded = saved;
      this.#fingerprint = entry!.fingerprint; // its messages are the old file's
      keep = await this.#readSibling(entry!.fingerprint);
      this.#decoder.flush();
      this.#handler.flush();
      this.#fingerprint = own;
    }
    this.#pos = this.#decoded = start;
    // The registry keeps the old file's offset while its messages may still be in flight (a
    // rotation, a rest read from the old file): acks move it to the new file in their turn.
    if (!keep) a.reset(this.identifier, start, configured, this.#fingerprint);
    a.setTailed(this.identifier, true);
    try {
      // Woken by the kernel when the file changes, a tailer reads new lines within
      // milliseconds, which also narrows copytruncate's window between copy and truncate;
      // the poll stays, for rotation checks and where watching is not available.
      this.#watcher = watch(this.path, { persistent: false }, () => this.#wakeUp());
      this.#watcher.on("error", () => this.#unwatch());
    } catch {
      this.#watcher = undefined;
    }
    this.#loop = this.#run();
  }

  /** Stops reading; a pending multi-line group is sent, a partial last line is kept for next time. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wakeUp();
    await this.#loop;
  }

  #pipeline(): void {
    const ctx = this.#ctx;
    const c = this.#source.config;
    const tags = [...c.tags, `filename:${basename(this.path)}`, `dirname:${dirname(this.path)}`];
    if (c.sourceCategory) tags.push(`sourcecategory:${c.sourceCategory}`);
    const process = createProcessor({
      source: this.#source,
      hostname: ctx.hostname,
      hostTags: ctx.hostTags,
      tags,
      truncatedTag: ctx.tagTruncated ? truncatedTag(c) : undefined,
      identifier: () => this.identifier,
      fingerprint: () => this.#fingerprint,
      tailingMode: c.startPosition,
      output: ctx.output,
      events: ctx.events,
    });
    const info = this.#source.info;
    this.#handler = createLineHandler(c, {
      maxMessageSize: ctx.maxMessageSize,
      aggregationTimeoutMs: ctx.aggregationTimeoutMs,
      jsonDetection: ctx.jsonDetection,
      extraPatterns: ctx.autoMultiLinePatterns,
      onEvent: (e) => {
        info.lines++;
        process(e);
      },
      info,
    });
    this.#decoder = new Decoder({
      encoding: c.encoding,
      maxMessageSize: ctx.maxMessageSize,
      onLine: (line) => {
        this.#decoded += line.rawLen;
        if (line.truncated) info.truncated++, ctx.events.logsTruncated.inc();
        this.#handler.add(line, this.#decoded);
      },
      onDecodingError: (n) => {
        info.decodingErrors += n;
        ctx.events.decodingErrors.inc(n);
      },
    });
  }

  async #run(): Promise<void> {
    const buf = new Uint8Array(READ_SIZE);
    const ctx = this.#ctx;
    const info = this.#source.info;
    while (!this.#stopped) {
      if (!ctx.canAccept()) {
        // A rotated file is given up at close_timeout even while the sender refuses.
        if (this.#drainUntil > 0 && Date.now() >= this.#drainUntil) return this.#close();
        await this.#wait(PAUSE_MS);
        continue;
      }
      let n: number;
      try {
        n = (await this.#fh!.read(buf, 0, READ_SIZE, this.#pos)).bytesRead;
      } catch (e) {
        this.#fail(`cannot read file ${this.path}: ${(e as Error).message}`);
        return;
      }
      if (n > 0) {
        this.#pos += n;
        info.bytesRead += n;
        ctx.events.bytesRead.inc(n);
        // A copy of exactly what was read: lines are views of it and may wait in the sender.
        this.#decoder.write(buf.slice(0, n));
        if (this.#fingerprint === "0" && this.#pos >= FINGERPRINT_BYTES && this.#drainUntil === 0) {
          this.#fingerprint = await fingerprintOf(this.#fh!);
        }
        continue;
      }
      if (this.#announce) {
        // The old file is read to its end now: its lines come before the new file's.
        this.#announce = false;
        this.#handler.flush();
        this.onRotated(this);
      } else if (this.#drainUntil > 0) {
        if (Date.now() >= this.#drainUntil) return this.#close();
      } else {
        const next = await this.#check();
        if (next === "gone") {
          this.removed = true;
          return this.#close();
        }
        if (next !== "same") continue; // read on at once: the old file's end, or the new start
      }
      await this.#wait(ctx.filePollMs);
    }
    this.#handler.flush();
    await this.#release();
  }

  /**
   * What the path names now, compared with the open file (A.2.5). A path that names another
   * file is a rotation: this file is read for `close_timeout` more, as a writer may still hold
   * it. A path that names nothing may be between logrotate's rename and create (a few ms), so
   * this file is read on; it is let go, removed, once the path stayed empty for
   * {@linkcode removalGraceMs}.
   */
  async #check(): Promise<"same" | "rotated" | "truncated" | "gone"> {
    let st;
    try {
      st = await stat(this.path);
    } catch {
      this.#missingSince ||= Date.now();
      return Date.now() - this.#missingSince >= removalGraceMs(this.#ctx) ? "gone" : "same";
    }
    this.#missingSince = 0;
    if (st.ino !== this.#ino || st.dev !== this.#dev) {
      this.#drainUntil = Date.now() + this.#ctx.closeTimeoutMs;
      this.#rotation();
      this.#ctx.auditor.setTailed(this.identifier, false);
      this.#announce = true;
      return "rotated";
    }
    if (st.size < this.#pos || await this.#rewritten(st.size)) {
      this.#rotation();
      await this.#readSibling(this.#fingerprint);
      this.#decoder.flush();
      this.#handler.flush();
      this.#pos = 0;
      this.#decoded = 0;
      // The new content's messages say "0" until it has 1024 bytes; no reset: until they are
      // acknowledged the registry keeps the old content's offset and fingerprint.
      this.#fingerprint = "0";
      return "truncated";
    }
    return "same";
  }

  /**
   * A copytruncate followed by more writes than were read before the check: the size no longer
   * tells, the first bytes do. Checked only when the size moved, so an idle file costs nothing.
   */
  async #rewritten(size: number): Promise<boolean> {
    if (this.#fingerprint === "0" || size === this.#pos) return false;
    const now = await fingerprintOf(this.#fh!);
    return now !== "0" && now !== this.#fingerprint;
  }

  /**
   * Lines written after the last read and before a copytruncate's truncation are only in the
   * copy, and those of a file rotated while the agent was down only in the renamed file: find
   * it beside the path (a name that starts with the file's, the first bytes `fingerprint`,
   * longer than what was read; the newest such) and read the rest from there, before the
   * file at the path is read from 0. A compressed copy cannot be read, as in the Go agent.
   */
  async #readSibling(fingerprint: string): Promise<boolean> {
    if (fingerprint === "0") return false;
    const dir = dirname(this.path);
    const base = basename(this.path);
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => n !== base && n.startsWith(base));
    } catch {
      return false;
    }
    const found: { fh: FileHandle; size: number; mtime: number }[] = [];
    for (const n of names) {
      const fh = await open(join(dir, n), "r").catch(() => undefined);
      if (!fh) continue;
      const st = await fh.stat().catch(() => undefined);
      if (st?.isFile() && st.size > this.#pos && (await fingerprintOf(fh)) === fingerprint) {
        found.push({ fh, size: st.size, mtime: st.mtimeMs });
      } else await fh.close();
    }
    found.sort((a, b) => b.mtime - a.mtime);
    const copy = found[0];
    try {
      if (!copy) return false;
      const buf = new Uint8Array(READ_SIZE);
      while (this.#pos < copy.size) {
        const want = Math.min(READ_SIZE, copy.size - this.#pos);
        const n = (await copy.fh.read(buf, 0, want, this.#pos)).bytesRead;
        if (n === 0) break;
        this.#pos += n;
        this.#source.info.bytesRead += n;
        this.#ctx.events.bytesRead.inc(n);
        this.#decoder.write(buf.slice(0, n));
      }
      return true;
    } finally {
      await Promise.all(found.map((f) => f.fh.close()));
    }
  }

  #rotation(): void {
    this.#source.info.lastRotation = Date.now();
    this.#ctx.events.rotations.inc();
  }

  /** The end of this file: send what is held, count what could not be read, close. */
  async #close(): Promise<void> {
    this.#decoder.flush();
    this.#handler.flush();
    if (this.#drainUntil > 0) {
      try {
        const missed = (await this.#fh!.stat()).size - this.#pos;
        if (missed > 0) {
          this.#ctx.events.bytesMissed.inc(missed);
          this.#ctx.log.warn(
            `${missed} bytes remaining unread in rotated file ${this.path}. These unread logs are now lost. Consider increasing DD_LOGS_CONFIG_CLOSE_TIMEOUT`,
          );
        }
      } catch { /* the count is best effort */ }
    } else this.#ctx.auditor.setTailed(this.identifier, false);
    await this.#release();
    this.onClosed(this);
  }

  #fail(message: string): void {
    this.#source.status = { state: "error", message };
    this.#ctx.log.error(message);
    void this.#release().then(() => this.onClosed(this));
  }

  #unwatch(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  async #release(): Promise<void> {
    this.#unwatch();
    const fh = this.#fh;
    this.#fh = undefined;
    await fh?.close().catch(() => {});
  }

  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#sleep = setTimeout(resolve, ms);
    });
  }

  #wakeUp(): void {
    if (this.#sleep !== undefined) clearTimeout(this.#sleep);
    this.#wake?.();
  }
}
