/**
 * Safe tar unpacking for packages: every entry is checked before anything of it is written.
 * Refused: absolute paths, `..` segments, symlinks that resolve outside the destination (links
 * followed on disk, chained links too), hard links to anything but a regular file of the
 * package, device files and fifos, setuid/setgid/sticky bits, writing through a symlink,
 * archives whose decoded stream passes the size cap, and archives with more entries than the
 * entry cap. Modes are normalized: group and other never get write permission (files keep
 * at most 0755, directories get 0700 plus read and search of 0755).
 *
 * @module
 */
import {
  chmodSync,
  closeSync,
  constants,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readlinkSync,
  realpathSync,
  symlinkSync,
  writeSync,
} from "node:fs";
import { posix } from "node:path";
import { createTarDecoder, type TarHeader } from "modern-tar";
import { FleetError } from "./_errors.ts";
import { syncDir } from "../fs/mod.ts";
import { isWithin } from "./_fsutil.ts";

/** Entries an archive may hold unless told otherwise (`fleet.max_package_entries`). */
export const DEFAULT_MAX_ENTRIES = 10_000;

/** Options of {@linkcode unpackTarSafely}. */
export interface UnpackOptions {
  /** Largest tar stream, and so the largest total of the entries' content. @default no limit */
  maxBytes?: number;
  /** Most entries (of any type) the archive may hold. @default DEFAULT_MAX_ENTRIES */
  maxEntries?: number;
}

/** Kernel's limit on links followed in one lookup (Linux MAXSYMLINKS). */
const MAX_LINK_HOPS = 40;

/**
 * Unpacks the tar stream into `dest` (created if missing). On a refused entry it throws a
 * `FleetError` with code `unsafe_archive` (or `too_large` past a cap); the caller removes
 * `dest`. Files are flushed to disk only once the whole archive was accepted, so a refused
 * archive costs no fsync.
 *
 * @example Unpack an archive into a temp directory
 * ```ts ignore
 * await unpackTarSafely(file.stream(), "/tmp/pkg", { maxBytes: 1 << 30, maxEntries: 10_000 });
 * ```
 */
export async function unpackTarSafely(
  tar: ReadableStream<Uint8Array>,
  dest: string,
  { maxBytes = Infinity, maxEntries = DEFAULT_MAX_ENTRIES }: UnpackOptions = {},
): Promise<{ entries: number; bytes: number }> {
  dest = posix.resolve(dest);
  mkdirSync(dest, { recursive: true, mode: 0o755 });
  let entries = 0;
  let bytes = 0;
  const files: string[] = [];
  const dirs = new Set<string>([dest]);
  const links: string[] = [];
  const mkParent = (target: string) => {
    // Archives may omit directory entries; parents are created as plain 0755 directories.
    mkdirSync(posix.dirname(target), { recursive: true, mode: 0o755 });
    for (let d = posix.dirname(target); d !== dest && !dirs.has(d); d = posix.dirname(d)) {
      dirs.add(d);
    }
  };
  for await (const entry of tar.pipeThrough(capStream(maxBytes)).pipeThrough(createTarDecoder())) {
    const h = entry.header;
    if (++entries > maxEntries) {
      await entry.body.cancel();
      throw new FleetError(
        "too_large",
        `Refused to unpack the archive: it holds more than ${maxEntries} entries (fleet.max_package_entries)`,
      );
    }
    const type = h.type ?? "file";
    if (type === "pax-header" || type === "pax-global-header") {
      await entry.body.cancel();
      continue;
    }
    const rel = safeName(h.name);
    if (rel === null) {
      await entry.body.cancel();
      continue; // the archive root itself ("./")
    }
    checkMode(h, rel);
    const target = posix.join(dest, rel);
    checkNoSymlinkParent(dest, rel);
    switch (type) {
      case "directory":
        mkParent(target);
        mkdirSync(target, { recursive: true, mode: 0o700 });
        // Set explicitly: the umask narrows the mode at creation, and an existing directory
        // (made as a parent earlier) keeps its old one.
        chmodSync(target, dirMode(h.mode));
        dirs.add(target);
        await entry.body.cancel();
        break;
      case "file": {
        bytes += h.size; // capped by capStream, which counts every byte of the tar stream
        mkParent(target);
        await writeFile(entry.body, target, fileMode(h.mode));
        files.push(target);
        break;
      }
      case "symlink": {
        const link = h.linkname ?? "";
        if (link.startsWith("/") || escapes(posix.join(posix.dirname(rel), link))) {
          refuse(rel, `the symlink points outside the package (${link})`);
        }
        mkParent(target);
        symlinkSync(link, target);
        links.push(rel);
        await entry.body.cancel();
        break;
      }
      case "link": {
        const from = safeName(h.linkname ?? "");
        if (from === null) refuse(rel, `the hard link points outside the package (${h.linkname})`);
        checkNoSymlinkParent(dest, posix.dirname(from));
        // A hard link to a symlink would copy the link's text to another directory, where it
        // may resolve elsewhere; a link to a directory the kernel refuses anyway.
        if (!lstatSync(posix.join(dest, from), { throwIfNoEntry: false })?.isFile()) {
          refuse(rel, `the hard link must name a regular file of the package (${h.linkname})`);
        }
        mkParent(target);
        linkSync(posix.join(dest, from), target);
        await entry.body.cancel();
        break;
      }
      default:
        await entry.body.cancel();
        refuse(rel, `entries of type ${type} are not allowed`);
    }
  }
  // Checked once everything is in place: a later entry can change where an earlier link leads.
  const realDest = realpathSync(dest);
  for (const rel of links) {
    if (!resolvesInside(dest, realDest, rel)) {
      refuse(
        rel,
        `the symlink resolves outside the package (${readlinkSync(posix.join(dest, rel))})`,
      );
    }
  }
  // The directory is renamed into place later; its content must be on disk by then.
  for (const file of files) syncFile(file);
  for (const dir of dirs) syncDir(dir);
  return { entries, bytes };
}

/** Errors the stream once more than `maxBytes` passed, so a bomb stops at the cap. */
function capStream(maxBytes: number): TransformStream<Uint8Array, Uint8Array> {
  let seen = 0;
  return new TransformStream({
    transform(chunk, controller) {
      seen += chunk.length;
      if (seen > maxBytes) {
        throw new FleetError(
          "too_large",
          `Refused to unpack the archive: it expands past the cap of ${maxBytes} bytes (fleet.max_package_size)`,
        );
      }
      controller.enqueue(chunk);
    },
  });
}

/** A file's mode without group and other write, nor any special bit. */
function fileMode(mode: number | undefined): number {
  return (mode ?? 0o644) & 0o755;
}

/** A directory's mode: as for files, and the owner keeps full access so it can be removed. */
function dirMode(mode: number | undefined): number {
  return ((mode ?? 0o755) & 0o755) | 0o700;
}

function refuse(name: string, why: string): never {
  throw new FleetError("unsafe_archive", `Refused to unpack "${name}": ${why}`);
}

/** The entry's path relative to the destination, or null for the root; throws if it escapes. */
function safeName(name: string): string | null {
  if (name.includes("\0")) refuse(name, "the path holds a NUL byte");
  if (name.startsWith("/")) refuse(name, "absolute paths are not allowed");
  if (name.split("/").includes("..")) refuse(name, `".." is not allowed in paths`);
  const norm = posix.normalize(name).replace(/\/+$/, "");
  return norm === "." || norm === "" ? null : norm;
}

function escapes(path: string): boolean {
  const norm = posix.normalize(path);
  return norm === ".." || norm.startsWith("../") || norm.startsWith("/");
}

function checkMode(h: TarHeader, rel: string): void {
  if ((h.mode ?? 0) & 0o7000) {
    refuse(
      rel,
      `setuid, setgid and sticky bits are not allowed (mode ${(h.mode ?? 0).toString(8)})`,
    );
  }
}

/** Refuses to write below a symlink, so a link in the archive cannot redirect later entries. */
function checkNoSymlinkParent(dest: string, rel: string): void {
  const parts = rel.split("/");
  let cur = dest;
  for (const p of parts) {
    cur = posix.join(cur, p);
    let st;
    try {
      st = lstatSync(cur);
    } catch {
      return; // nothing there yet, so nothing below it either
    }
    if (st.isSymbolicLink()) refuse(rel, "the path goes through a symlink");
  }
}

async function writeFile(
  body: ReadableStream<Uint8Array>,
  path: string,
  mode: number,
): Promise<void> {
  const fd = openSync(
    path,
    constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
    mode,
  );
  try {
    for await (const chunk of body) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
  chmodSync(path, mode); // the umask may have narrowed the mode given at creation
}

function syncFile(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether the symlink at `rel` leads to a place inside the package. A link whose target
 * exists is resolved by the kernel (`realpath`); a dangling one is followed here link by
 * link as the kernel would, with `..` applied to the real path reached so far, never to the
 * text of the path.
 */
function resolvesInside(dest: string, realDest: string, rel: string): boolean {
  try {
    return isWithin(realpathSync(posix.join(dest, rel)), realDest);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") return false; // ELOOP and the like
  }
  let hops = 0;
  const walk = (base: string[], path: string): string[] | null => {
    const cur = [...base];
    for (const part of path.split("/")) {
      if (part === "" || part === ".") continue;
      if (part === "..") {
        if (cur.length === 0) return null;
        cur.pop();
        continue;
      }
      cur.push(part);
      const st = lstatSync(posix.join(dest, ...cur), { throwIfNoEntry: false });
      if (!st?.isSymbolicLink()) continue; // missing from here on: the rest is plain text
      if (++hops > MAX_LINK_HOPS) return null;
      const link = readlinkSync(posix.join(dest, ...cur));
      if (link.startsWith("/")) return null;
      cur.pop();
      const next = walk(cur, link);
      if (next === null) return null;
      cur.splice(0, cur.length, ...next);
    }
    return cur;
  };
  return walk([], rel) !== null;
}
