/**
 * The flare builder: a private temp directory whose files all sit under `<hostname>/`, a
 * creation log written first, providers run one at a time under a timeout, and `save()`
 * that adds the permission table and the scrubber's report, masks every value learned on the
 * way in every file, then zips.
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
import { Buffer } from "node:buffer";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, normalize, relative } from "node:path";
import { type Zippable, zipSync } from "fflate";
import { KnownSecrets, scrubFileReport, type ScrubOptions, scrubText } from "../config/scrub.ts";
import { OutpostError } from "../errors.ts";

/** Options of {@linkcode FlareBuilder.create}. */
export interface FlareBuilderOptions {
  /** Host name; cleaned, `unknown` when empty. It names the archive's root folder. */
  hostname: string;
  /** Why the flare is built without the running agent; writes the `local` marker. */
  localReason?: string;
  /** Scrubber settings (`flare_stripped_keys`). The flare's own `api_key` rule is always on. */
  scrub?: Omit<ScrubOptions, "known">;
  /**
   * Secret values to mask in every file (the config's, the environment's, the auth token);
   * the builder adds every value its scrubbing masks. @default none yet
   */
  known?: KnownSecrets;
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
  /**
   * Adds a file, scrubbed by its name (heap snapshots by their strings, YAML as objects, the
   * rest as text). Throws when a heap snapshot does not parse.
   */
  add(dest: string, content: string): void;
  /**
   * Copies a file from the host, scrubbed, and records its permissions. `content` replaces
   * the file's own (a log tail, for example). Binary content keeps its bytes: the text rules
   * and known values are masked in it, which `non_scrubbed_files.json` says.
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
  readonly #known: KnownSecrets;
  readonly #outDir: string;
  readonly #now: () => number;
  /** Files not scrubbed as their format asks, and why. */
  readonly #shortfalls = new Map<string, string>();
  readonly #sources = new Map<string, string>();
  #saved = false;

  private constructor(options: FlareBuilderOptions) {
    this.hostname = cleanHostname(options.hostname);
    this.#tmp = mkdtempSync(join(tmpdir(), "outpost-flare-"));
    chmodSync(this.#tmp, 0o700);
    this.#root = join(this.#tmp, this.hostname);
    mkdirSync(this.#root, { mode: 0o700 });
    this.#known = options.known ?? new KnownSecrets();
    this.#scrub = { ...options.scrub, flare: true, known: this.#known };
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
    // Lines carry error messages, which can quote what failed to parse.
    appendFileSync(
      join(this.#root, "flare_creation.log"),
      `${ts} ${scrubText(line, this.#scrub)}\n`,
    );
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
   * Adds `permissions.log` and `non_scrubbed_files.json`, masks every known secret value in
   * every file (values learned after a file was added included), zips the tree to
   * `outpost-flare-<hostname>-<UTC time>.zip` (mode 0600; `-2`, `-3`… when that file exists),
   * removes the temp tree and returns the zip's path. Later writes are ignored.
   */
  save(): string {
    if (this.#saved) throw new OutpostError("flare_saved", "Cannot save a flare twice");
    this.log("flare creation finished, saving");
    this.#write("permissions.log", scrubText(this.#permissionsTable(), this.#scrub));
    this.#write("non_scrubbed_files.json", JSON.stringify(this.#report(), null, 2) + "\n");
    this.#saved = true;
    const stamp = new Date(this.#now()).toISOString().replace(/\.\d+Z$/, "Z").replaceAll(":", "-");
    const mtime = new Date(this.#now());
    const files: Zippable = {};
    // flare_creation.log leads the archive: it is the first thing to read.
    const order = [...walk(this.#root)].sort((a, b) =>
      Number(b === "flare_creation.log") - Number(a === "flare_creation.log")
    );
    for (const rel of order) {
      const data = maskBytes(readFileSync(join(this.#root, rel)), this.#known);
      files[`${this.hostname}/${rel}`] = [data, { mtime }];
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
      add: (dest, content) => guard(dest, () => this.#addScrubbed(dest, content)),
      copy: (src, dest, content) =>
        guard(dest, () => {
          this.#sources.set(src, dest);
          if (content !== undefined) return this.#addScrubbed(dest, content);
          const bytes = readFileSync(src);
          const text = utf8(bytes);
          if (text !== null) return this.#addScrubbed(dest, text);
          // Latin-1 maps bytes to characters one to one, so what is not masked is kept as is.
          const masked = scrubText(Buffer.from(bytes).toString("latin1"), this.#scrub);
          this.#write(dest, Buffer.from(masked, "latin1"));
          this.#shortfalls.set(
            dest,
            "binary content: known values and text patterns were masked in its bytes, " +
              "secrets in any other encoding are left",
          );
        }),
      log: (line) => this.log(line),
    };
  }

  #addScrubbed(dest: string, content: string): void {
    const { text, shortfall } = scrubFileReport(dest, content, this.#scrub);
    this.#write(dest, text);
    if (shortfall !== null) this.#shortfalls.set(dest, shortfall);
  }

  /** `non_scrubbed_files.json`: what the scrubber could not do, in so many words. */
  #report(): Record<string, unknown> {
    const files = [...this.#shortfalls.keys()].sort();
    const how = "every file went through the scrubber (heap snapshots by their strings, YAML " +
      "as objects, the rest as text), which masks the secrets it recognizes by key and by " +
      `pattern, and ${this.#known.size} value(s) learned from the config, the environment ` +
      "and the files wherever they appear; a secret it does not recognize can remain, so " +
      "review the files before sending them";
    return {
      files,
      count: files.length,
      reasons: Object.fromEntries(files.map((f) => [f, this.#shortfalls.get(f)])),
      message: files.length === 0
        ? `No file was added as is: ${how}`
        : `${files.length} file(s) could not be scrubbed as their format asks (see reasons); ${how}`,
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

/** The bytes as UTF-8 text, or null when they are not text (a NUL byte, invalid UTF-8). */
function utf8(bytes: Uint8Array): string | null {
  if (bytes.includes(0)) return null;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** A file's bytes with every known value masked; text stays UTF-8, other bytes are kept. */
function maskBytes(bytes: Uint8Array, known: KnownSecrets): Uint8Array {
  const text = utf8(bytes);
  const encoding = text !== null ? "utf8" : "latin1";
  const before = text ?? Buffer.from(bytes).toString("latin1");
  const after = known.mask(before);
  return after === before ? bytes : new Uint8Array(Buffer.from(after, encoding));
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
