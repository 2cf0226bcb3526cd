/**
 * Atomic file replacement: the one way the agent writes a state, queue or history file, so a
 * crash or a power cut at any moment leaves the old file or the new one, never a torn one.
 *
 * @module
 */
import {
  closeSync,
  fchmodSync,
  fsyncSync,
  linkSync,
  openSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";

/** Temp files start with this; a directory's owner may remove such leftovers of a crash. */
const ATOMIC_TEMP_PREFIX = ".tmp-";

/** Temp files made by this process so far: with the pid, a name no live writer shares. */
let written = 0;

/** True when `name` (a file name, not a path) is a temp file of {@linkcode writeFileAtomic}. */
export function isAtomicTemp(name: string): boolean {
  return name.startsWith(ATOMIC_TEMP_PREFIX);
}

/** Options of {@linkcode writeFileAtomic} and {@linkcode replaceAtomic}. */
export interface AtomicOptions {
  /**
   * Fail with `EEXIST` instead of replacing an existing target (a hard link, where a rename
   * would replace): for files that two processes may race to create.
   * @default false
   */
  exclusive?: boolean;
}

/** Options of {@linkcode writeFileAtomic}. */
export interface WriteAtomicOptions extends AtomicOptions {
  /** The file's permission bits, set exactly (the umask does not narrow them). @default 0o600 */
  mode?: number;
}

/**
 * Writes `data` to `path`: a temp file in the same directory is written, fsynced, renamed over
 * the target, then the directory is fsynced so the rename itself survives a power cut. On any
 * failure the temp file is removed and the original error is rethrown with its `code`
 * (`ENOSPC`, `EISDIR`, `EEXIST` with `exclusive`, …): a full disk is not filled further by
 * leftovers, and callers can count what failed.
 *
 * @example Replace a state file
 * ```ts
 * import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { writeFileAtomic } from "./mod.ts";
 * const dir = mkdtempSync(join(tmpdir(), "outpost-atomic-"));
 * writeFileAtomic(join(dir, "state.json"), '{"v":1}\n', { mode: 0o644 });
 * console.log(readFileSync(join(dir, "state.json"), "utf8"), statSync(join(dir, "state.json")).mode & 0o777);
 * rmSync(dir, { recursive: true });
 * ```
 */
export function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: WriteAtomicOptions = {},
): void {
  const { mode = 0o600, ...rest } = options;
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  replaceAtomic(path, (temp) => {
    // "w", not "wx": a leftover of that dead process is garbage to overwrite.
    const fd = openSync(temp, "w", mode);
    try {
      fchmodSync(fd, mode);
      // writeSync may write less than asked (a signal, a pipe-like filesystem): loop to the end.
      let off = 0;
      while (off < bytes.byteLength) off += writeSync(fd, bytes, off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }, rest);
}

/**
 * Puts what `create(temp)` makes at `temp` (a file, a symlink) in place of `path` in one step:
 * rename over the target (or, with `exclusive`, a hard link that fails on an existing one),
 * then an fsync of the directory. `temp` is a fresh name beside `path`; whatever `create`
 * left there is removed when any step fails, and the error is rethrown unchanged.
 *
 * @example Switch a symlink atomically
 * ```ts
 * import { mkdtempSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { replaceAtomic } from "./mod.ts";
 * const dir = mkdtempSync(join(tmpdir(), "outpost-atomic-"));
 * replaceAtomic(join(dir, "stable"), (temp) => symlinkSync("2.0.0", temp));
 * console.log(readlinkSync(join(dir, "stable"))); // "2.0.0"
 * rmSync(dir, { recursive: true });
 * ```
 */
export function replaceAtomic(
  path: string,
  create: (temp: string) => void,
  options: AtomicOptions = {},
): void {
  const dir = dirname(path);
  // Unique among live writers: only a dead process of the same pid can have left this name.
  const temp = join(dir, `${ATOMIC_TEMP_PREFIX}${basename(path)}.${process.pid}.${++written}`);
  try {
    create(temp);
    (options.exclusive ? linkSync : renameSync)(temp, path);
  } catch (e) {
    try {
      rmSync(temp, { force: true });
    } catch { /* the error that matters is the first one */ }
    throw e;
  }
  if (options.exclusive) {
    // The target is in place: a temp name left behind is only clutter the owner sweeps.
    try {
      unlinkSync(temp);
    } catch { /* a second name of the same content is clutter, not harm */ }
  }
  syncDir(dir);
}

/**
 * Flushes a directory's entries (renames, new links, removals) to disk. Best effort: some
 * filesystems refuse an fsync of a directory, and a rename is still atomic there.
 */
export function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Refused by the filesystem or the platform: nothing more can be done for durability.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
