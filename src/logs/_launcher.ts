/**
 * The file launcher (A.2.1): globs every file source, picks at most `open_files_limit` files
 * (`by_name`: each source in turn, its matches by descending base name; `by_modification_time`:
 * plain paths first, then all wildcard matches newest first), starts a tailer per new file,
 * stops tailers of files no longer picked, and starts the new file of a rotation. It scans
 * when started and every `file_scan_period`; a file first seen by a later scan is read from
 * its start.
 *
 * @module
 */
import { statSync } from "node:fs";
import type { LogSource } from "./_message.ts";
import { glob, hasWildcard, matches } from "./_glob.ts";
import { FileTailer, type TailerContext, type TailerStart } from "./_tailer.ts";

/** Options of {@linkcode FileLauncher}. */
export interface LauncherOptions {
  openFilesLimit: number;
  scanPeriodMs: number;
  selectionMode: "by_name" | "by_modification_time";
}

/** Tails the files of every file source. */
export class FileLauncher {
  readonly #sources: LogSource[];
  readonly #o: LauncherOptions;
  readonly #ctx: TailerContext;
  /** Tailers of the current files, by path. */
  readonly #active = new Map<string, { tailer: FileTailer; source: LogSource }>();
  /** Tailers still draining a rotated file. */
  readonly #draining = new Set<FileTailer>();
  /** Paths rotated whose new file is not open yet: it is read from byte 0, whoever opens it. */
  readonly #rotated = new Set<string>();
  readonly #starting = new Set<string>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #scanning: Promise<void> = Promise.resolve();
  #stopped = false;
  /** The global warning when the limit is reached, or "". */
  warning = "";

  constructor(sources: LogSource[], o: LauncherOptions, ctx: TailerContext) {
    this.#sources = sources;
    this.#o = o;
    this.#ctx = ctx;
  }

  /** Runs the first scan (files there now use the source's `start_position`) and schedules the rest. */
  async start(): Promise<void> {
    await this.scan("initial");
    this.#timer = setInterval(() => {
      this.#scanning = this.#scanning.then(() => this.scan("scan"));
    }, this.#o.scanPeriodMs);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#scanning;
    const all = [...[...this.#active.values()].map((a) => a.tailer), ...this.#draining];
    this.#active.clear();
    this.#draining.clear();
    await Promise.all(all.map((t) => t.stop()));
    this.#ctx.events.tailersOpen.set(0);
  }

  /** Files open now (current and draining). */
  get open(): number {
    return this.#active.size + this.#draining.size;
  }

  /** One scan: pick the files, stop what is no longer picked, start what is new. */
  async scan(how: TailerStart = "scan"): Promise<void> {
    if (this.#stopped) return;
    const picked = this.#select();
    for (const [path, a] of this.#active) {
      // A file that vanished ends by itself once its end is read; only a deselected one stops.
      if (!picked.has(path) && exists(path)) {
        this.#active.delete(path);
        await a.tailer.stop();
      }
    }
    for (const [path, source] of picked) {
      if (!this.#active.has(path)) await this.#startTailer(path, source, how);
    }
    for (const s of this.#sources) {
      s.info.inputs = [...this.#active].filter(([, a]) => a.source === s).map(([p]) => p);
    }
    this.#ctx.events.tailersOpen.set(this.open);
  }

  async #startTailer(path: string, source: LogSource, how: TailerStart): Promise<void> {
    if (this.#active.has(path) || this.#starting.has(path)) return;
    this.#starting.add(path);
    try {
      await this.#open(path, source, this.#rotated.delete(path) ? "rotated" : how);
    } finally {
      this.#starting.delete(path);
    }
  }

  async #open(path: string, source: LogSource, how: TailerStart): Promise<void> {
    const t = new FileTailer(source, path, this.#ctx);
    t.onRotated = () => {
      this.#active.delete(path);
      this.#draining.add(t);
      this.#rotated.add(path);
      // The new file: from byte 0, after what the old one had at rotation was read.
      this.#scanning = this.#scanning.then(() => this.#startTailer(path, source, "rotated"));
    };
    t.onClosed = () => {
      this.#draining.delete(t);
      // A file created later at a path whose file was removed is new: read from byte 0.
      if (t.removed) this.#rotated.add(path);
      if (this.#active.get(path)?.tailer === t) this.#active.delete(path);
      this.#ctx.events.tailersOpen.set(this.open);
    };
    try {
      await t.start(how);
    } catch (e) {
      if (how === "rotated") this.#rotated.add(path);
      source.status = {
        state: "error",
        message: `cannot read file ${path}: ${(e as Error).message}`,
      };
      return;
    }
    if (this.#stopped) {
      await t.stop();
      return;
    }
    this.#active.set(path, { tailer: t, source });
    source.info.inputs = [...new Set([...source.info.inputs, path])];
    source.status = { state: "ok" };
    this.#ctx.events.tailersOpen.set(this.open);
  }

  /** Files to tail now, each with its source, within the limit (A.2.1). */
  #select(): Map<string, LogSource> {
    const limit = this.#o.openFilesLimit - this.#draining.size;
    const picked = new Map<string, LogSource>();
    const found = this.#sources.map((s) => ({ s, files: this.#match(s) }));
    let total = 0;
    const add = (path: string, s: LogSource) => {
      if (picked.has(path)) return;
      if (picked.size >= limit) return;
      picked.set(path, s);
    };
    if (this.#o.selectionMode === "by_name") {
      for (const { s, files } of found) for (const f of files) add(f, s);
    } else {
      for (const { s, files } of found) {
        if (!hasWildcard(s.config.path)) files.forEach((f) => add(f, s));
      }
      const pool = found.filter(({ s }) => hasWildcard(s.config.path))
        .flatMap(({ s, files }) => files.map((f) => ({ f, s, mtime: mtimeOf(f) })))
        .sort((a, b) => b.mtime - a.mtime);
      for (const { f, s } of pool) add(f, s);
    }
    for (const { s, files } of found) {
      total += files.length;
      const tailed = [...picked.values()].filter((x) => x === s).length;
      if (hasWildcard(s.config.path)) {
        s.info.messages = [`${tailed} files tailed out of ${files.length} files matching`];
        if (files.length === 0) {
          s.status = {
            state: "error",
            message:
              `could not find any file matching pattern ${s.config.path}, check that all its subdirectories are executable`,
          };
        } else if (s.status.state === "error" && s.status.message?.startsWith("could not find")) {
          s.status = { state: "ok" };
        }
      } else if (files.length === 0) {
        s.status = {
          state: "error",
          message: `cannot read file ${s.config.path}: no such file or directory`,
        };
      }
    }
    this.warning = total > limit
      ? `The limit on the maximum number of files in use (${this.#o.openFilesLimit}) has been reached. Increase this limit (thanks to the attribute logs_config.open_files_limit in datadog.yaml) or decrease the number of tailed file.`
      : "";
    return picked;
  }

  /** A source's files, excludes removed, in `by_name` order (descending base name). */
  #match(s: LogSource): string[] {
    const files = glob(s.config.path)
      .filter((f) => !s.config.excludePaths.some((x) => matches(x, f)))
      .filter(isRegularFile)
      .reverse();
    const base = (p: string) => p.slice(p.lastIndexOf("/") + 1);
    return files.sort((a, b) => (base(a) < base(b) ? 1 : base(a) > base(b) ? -1 : 0));
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

function isRegularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function mtimeOf(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Date.UTC(1900, 0, 1);
  }
}
