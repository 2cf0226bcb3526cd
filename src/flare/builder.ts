/**
 * The flare builder: a private temp directory whose files all sit under `<hostname>/`, a
 * creation log written first, providers run one at a time under a timeout, and `save()`
 * that adds the permission table and the list of unscrubbed files, then zips.
 *
 * @module
 */
import {
  appendFileSync,
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, normalize, relative } from "node:path";
import { type Zippable, zipSync } from "fflate";
import { scrubFile, type ScrubOptions } from "../config/scrub.ts";
import { OutpostError } from "../errors.ts";

/** Options of {@linkcode FlareBuilder.create}. */
export interface FlareBuilderOptions {
  /** Host name; cleaned, `unknown` when empty. It names the archive's root folder. */
  hostname: string;
  /** Why the flare is built without the running agent; writes the `local` marker. */
  localReason?: string;
  /** Scrubber settings (`flare_stripped_keys`). The flare's own `api_key` rule is always on. */
  scrub?: ScrubOptions;
  /** Where the zip goes. @default the OS temp directory */
  outDir?: string;
  /** The clock, for log timestamps, durations and the archive name. @default Date.now */
  now?: () => number;
}

/** Why a provider did not add its files: recorded as a skip, not as a failure. */
export class FlareSkip extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "FlareSkip";
  }
}

/** What a provider writes through; writes after its timeout are ignored. */
export interface FlareWriter {
  /** Adds a file, scrubbed by its name (YAML as objects, the rest as text). */
  add(dest: string, content: string): void;
  /** Adds a file as is, and lists it in `non_scrubbed_files.json`. */
  addUnscrubbed(dest: string, content: Uint8Array | string): void;
  /**
   * Copies a file from the host, scrubbed, and records its permissions. `content` replaces
   * the file's own (a log tail, for example).
   */
  copy(src: string, dest: string, content?: string): void;
  /** Records a line in `flare_creation.log`. */
  log(line: string): void;
}

/** One source of flare content. */
export interface FlareProvider {
  name: string;
  /** Its own timeout in ms; the larger of this and the flare's timeout applies. */
  timeoutMs?: number;
  /** Adds files; throws {@linkcode FlareSkip} when it has nothing to add. */
  run(w: FlareWriter): Promise<void> | void;
}

/** Options of {@linkcode FlareBuilder.runProviders}. */
export interface RunProvidersOptions {
  /** Milliseconds each provider gets (`flare_provider_timeout`). */
  timeoutMs: number;
  /** Called with a short line as each provider starts. */
  onProgress?: (msg: string) => void;
}

/** A flare being built. Create it with {@linkcode FlareBuilder.create}. */
export class FlareBuilder {
  readonly hostname: string;
  readonly #tmp: string;
  readonly #root: string;
  readonly #scrub: ScrubOptions;
  readonly #outDir: string;
  readonly #now: () => number;
  readonly #unscrubbed: string[] = [];
  readonly #sources = new Map<string, string>();
  #saved = false;

  private constructor(options: FlareBuilderOptions) {
    this.hostname = cleanHostname(options.hostname);
    this.#tmp = mkdtempSync(join(tmpdir(), "outpost-flare-"));
    chmodSync(this.#tmp, 0o700);
    this.#root = join(this.#tmp, this.hostname);
    mkdirSync(this.#root, { mode: 0o700 });
    this.#scrub = { ...options.scrub, flare: true };
    this.#outDir = options.outDir ?? tmpdir();
    this.#now = options.now ?? Date.now;
  }

  /** Creates the temp tree, writes `flare_creation.log` and, for local flares, `local`. */
  static create(options: FlareBuilderOptions): FlareBuilder {
    const b = new FlareBuilder(options);
    b.#write("flare_creation.log", "");
    b.log(`flare creation started for host ${b.hostname}`);
    if (options.localReason !== undefined) {
      b.#write("local", options.localReason + "\n");
      b.log(`local flare: ${options.localReason}`);
    }
    return b;
  }

  /** Appends a timestamped line to `flare_creation.log`. */
  log(line: string): void {
    if (this.#saved) return;
    const ts = new Date(this.#now()).toISOString();
    appendFileSync(join(this.#root, "flare_creation.log"), `${ts} ${line}\n`);
  }

  /** A writer for the whole flare (not bound to a provider's timeout). */
  get writer(): FlareWriter {
    return this.#writer(() => this.#saved);
  }

  /**
   * Runs providers one at a time, each under max(`timeoutMs`, its own timeout). A slow one is
   * skipped and its later writes ignored; a failing one is recorded and the next one runs.
   */
  async runProviders(providers: FlareProvider[], options: RunProvidersOptions): Promise<void> {
    const { timeoutMs, onProgress } = options;
    for (const [i, p] of providers.entries()) {
      onProgress?.(`collecting ${p.name} (${i + 1}/${providers.length})`);
      const limit = Math.max(timeoutMs, p.timeoutMs ?? 0);
      const started = this.#now();
      let closed = false;
      const w = this.#writer(() => closed || this.#saved);
      this.log(`provider ${p.name}: started`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<"timeout">((
        r,
      ) => (timer = setTimeout(() => r("timeout"), limit)));
      try {
        const outcome = await Promise.race([Promise.resolve().then(() => p.run(w)), timeout]);
        const ms = this.#now() - started;
        if (outcome === "timeout") {
          closed = true;
          this.log(`provider ${p.name}: skipped, timed out after ${limit} ms`);
        } else {
          this.log(`provider ${p.name}: done in ${ms} ms`);
        }
      } catch (e) {
        const ms = this.#now() - started;
        if (e instanceof FlareSkip) {
          this.log(`provider ${p.name}: skipped, ${e.message} (${ms} ms)`);
        } else this.log(`provider ${p.name}: failed after ${ms} ms: ${(e as Error).message}`);
      } finally {
        closed = true;
        clearTimeout(timer);
      }
    }
  }

  /**
   * Adds `permissions.log` and `non_scrubbed_files.json`, zips the tree to
   * `outpost-flare-<hostname>-<UTC time>.zip` (mode 0600; `-2`, `-3`… when that file exists),
   * removes the temp tree and returns the zip's path. Later writes are ignored.
   */
  save(): string {
    if (this.#saved) throw new OutpostError("flare_saved", "Cannot save a flare twice");
    this.log("flare creation finished, saving");
    this.#write("permissions.log", this.#permissionsTable());
    this.#write(
      "non_scrubbed_files.json",
      JSON.stringify(
        this.#unscrubbed.length > 0
          ? { files: this.#unscrubbed, count: this.#unscrubbed.length }
          : { files: [], message: "All files were scrubbed" },
        null,
        2,
      ),
    );
    this.#saved = true;
    const stamp = new Date(this.#now()).toISOString().replace(/\.\d+Z$/, "Z").replaceAll(":", "-");
    const mtime = new Date(this.#now());
    const files: Zippable = {};
    // flare_creation.log leads the archive: it is the first thing to read.
    const order = [...walk(this.#root)].sort((a, b) =>
      Number(b === "flare_creation.log") - Number(a === "flare_creation.log")
    );
    for (const rel of order) {
      files[`${this.hostname}/${rel}`] = [readFileSync(join(this.#root, rel)), { mtime }];
    }
    const data = zipSync(files, { level: 6 });
    mkdirSync(this.#outDir, { recursive: true });
    // Created exclusively: never replace another flare of the same second, nor follow a link
    // planted in a shared temp directory.
    const name = `outpost-flare-${this.hostname}-${stamp}`;
    let zipPath = join(this.#outDir, `${name}.zip`);
    for (let n = 2;; n++) {
      try {
        writeFileSync(zipPath, data, { mode: 0o600, flag: "wx" });
        break;
      } catch (e) {
        if ((e as { code?: string }).code !== "EEXIST") throw e;
        zipPath = join(this.#outDir, `${name}-${n}.zip`);
      }
    }
    chmodSync(zipPath, 0o600);
    rmSync(this.#tmp, { recursive: true, force: true });
    return zipPath;
  }

  /** Removes the temp tree without saving (after a fatal error). */
  discard(): void {
    this.#saved = true;
    rmSync(this.#tmp, { recursive: true, force: true });
  }

  #writer(isClosed: () => boolean): FlareWriter {
    const guard = (dest: string, fn: () => void) => {
      if (isClosed()) {
        if (!this.#saved) this.log(`ignored a late write to ${dest}`);
        return;
      }
      fn();
    };
    return {
      add: (dest, content) =>
        guard(dest, () => this.#write(dest, scrubFile(dest, content, this.#scrub))),
      addUnscrubbed: (dest, content) =>
        guard(dest, () => {
          this.#write(dest, content);
          this.#unscrubbed.push(dest);
        }),
      copy: (src, dest, content) =>
        guard(dest, () => {
          this.#sources.set(src, dest);
          const text = content ?? readFileSync(src, "utf8");
          this.#write(dest, scrubFile(dest, text, this.#scrub));
        }),
      log: (line) => this.log(line),
    };
  }

  #write(dest: string, content: string | Uint8Array): void {
    const rel = normalize(dest);
    if (isAbsolute(rel) || rel.startsWith("..")) {
      throw new OutpostError(
        "flare_path",
        `Cannot add "${dest}" to a flare: the path must stay inside it`,
      );
    }
    const full = join(this.#root, rel);
    mkdirSync(dirname(full), { recursive: true, mode: 0o700 });
    writeFileSync(full, content, { mode: 0o644 });
  }

  /** `File path | mode | owner | group | error` for every host file the flare copied. */
  #permissionsTable(): string {
    const rows = [["File path", "mode", "owner", "group", "error"]];
    for (const src of [...this.#sources.keys()].sort()) {
      try {
        const st = statSync(src);
        rows.push([src, "0" + (st.mode & 0o7777).toString(8), String(st.uid), String(st.gid), ""]);
      } catch (e) {
        rows.push([src, "", "", "", (e as NodeJS.ErrnoException).code ?? String(e)]);
      }
    }
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join(" | ").trimEnd()).join("\n") +
      "\n";
  }
}

/** The host name as a safe folder name; `unknown` when there is none. */
export function cleanHostname(hostname: string): string {
  const clean = hostname.trim().replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "");
  return clean === "" ? "unknown" : clean;
}

function* walk(root: string, dir = root): Generator<string> {
  for (
    const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name)
    )
  ) {
    const full = join(dir, e.name);
    if (e.isDirectory()) yield* walk(root, full);
    else yield relative(root, full);
  }
}
