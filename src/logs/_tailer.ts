/**
 * The file tailer (A.2.2–A.2.5): reads one file from its start position, through the decoder,
 * line handler and processor, and follows it through truncation. At end of file it sleeps
 * (`filePollMs`, 1 s as the Go agent) and then checks the path: a different file there is a
 * rename rotation (the launcher opens the new one from byte 0 while this tailer keeps reading
 * the old one for `close_timeout`), a shorter file is a truncation (read again from 0), no file
 * is a removal (the tailer ends, its end read). It never reads while the sender refuses.
 *
 * @module
 */
import { open, stat } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { basename, dirname } from "node:path";
import type { Log } from "../log/mod.ts";
import type { LogsEvents } from "../telemetry/events/mod.ts";
import type { Auditor } from "./_auditor.ts";
import { Decoder } from "./_decoder.ts";
import { FINGERPRINT_BYTES, fingerprintOf } from "./_fingerprint.ts";
import { createLineHandler, type LineHandler } from "./_lines.ts";
import type { LogMessage, LogSource, StartPosition } from "./_message.ts";
import { createProcessor } from "./_processor.ts";

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
  hostname: string;
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
 * `fingerprint` "0" (unknown) never contradicts.
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
  const replaced = entry.fingerprint !== "0" && file.fingerprint !== "0" &&
    entry.fingerprint !== file.fingerprint;
  // A shorter file or a different one: replaced or truncated while the agent was down.
  if (replaced || offset > file.size) return 0;
  return offset;
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
  #wake: (() => void) | undefined;
  #sleep: ReturnType<typeof setTimeout> | undefined;
  #loop: Promise<void> = Promise.resolve();
  /** Called once when the path now names another file. */
  onRotated: (t: FileTailer) => void = () => {};
  /** Called once when the tailer ended on its own (removed, drained, read error). */
  onClosed: (t: FileTailer) => void = () => {};

  constructor(source: LogSource, path: string, ctx: TailerContext) {
    this.#source = source;
    this.path = path;
    this.identifier = `file:${path}`;
    this.#ctx = ctx;
  }

  /** True once the path was rotated away from this tailer's file. */
  get rotated(): boolean {
    return this.#drainUntil > 0;
  }

  /** Opens the file and starts reading; rejects when the file cannot be opened. */
  async start(how: TailerStart): Promise<void> {
    const fh = await open(this.path, "r");
    const st = await fh.stat();
    this.#fh = fh;
    this.#ino = st.ino;
    this.#dev = st.dev;
    this.#fingerprint = await fingerprintOf(fh);
    const configured = this.#source.config.startPosition;
    const mode: StartPosition = how === "initial" ? configured : "beginning";
    const a = this.#ctx.auditor;
    this.#pos = how === "rotated" ? 0 : resolveStart(mode, a.entry(this.identifier), {
      size: st.size,
      fingerprint: this.#fingerprint,
    });
    this.#decoded = this.#pos;
    a.reset(this.identifier, this.#pos, configured, this.#fingerprint);
    a.setTailed(this.identifier, true);
    this.#pipeline();
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
      tags,
      identifier: () => (this.#drainUntil > 0 ? "" : this.identifier),
      tailingMode: c.startPosition,
      output: ctx.output,
      events: ctx.events,
    });
    const info = this.#source.info;
    this.#handler = createLineHandler(c, {
      maxMessageSize: ctx.maxMessageSize,
      aggregationTimeoutMs: ctx.aggregationTimeoutMs,
      jsonDetection: ctx.jsonDetection,
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
          ctx.auditor.setFingerprint(this.identifier, this.#fingerprint);
        }
        continue;
      }
      if (this.#drainUntil > 0) {
        if (Date.now() >= this.#drainUntil) return this.#close();
      } else {
        const next = await this.#check();
        if (next === "removed") return this.#close();
      }
      await this.#wait(ctx.filePollMs);
    }
    this.#handler.flush();
    await this.#release();
  }

  /** What the path names now, compared with the open file (A.2.5). */
  async #check(): Promise<"same" | "rotated" | "truncated" | "removed"> {
    let st;
    try {
      st = await stat(this.path);
    } catch {
      return "removed";
    }
    if (st.ino !== this.#ino || st.dev !== this.#dev) {
      this.#drainUntil = Date.now() + this.#ctx.closeTimeoutMs;
      this.#rotation();
      this.#ctx.auditor.setTailed(this.identifier, false);
      this.onRotated(this);
      return "rotated";
    }
    if (st.size < this.#pos) {
      this.#rotation();
      this.#decoder.flush();
      this.#handler.flush();
      this.#pos = 0;
      this.#decoded = 0;
      this.#fingerprint = "0";
      this.#ctx.auditor.reset(this.identifier, 0, this.#source.config.startPosition, "0");
      return "truncated";
    }
    return "same";
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

  async #release(): Promise<void> {
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
