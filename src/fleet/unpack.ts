/**
 * Safe tar unpacking for packages: every entry is checked before anything of it is written.
 * Refused: absolute paths, `..` segments, links that point outside the destination, device
 * files and fifos, setuid/setgid/sticky bits, writing through a symlink, and archives whose
 * content passes the size cap.
 *
 * @module
 */
import {
  chmodSync,
  closeSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  symlinkSync,
  writeSync,
} from "node:fs";
import { posix } from "node:path";
import { createTarDecoder, type TarHeader } from "modern-tar";
import { FleetError } from "./errors.ts";

/** Options of {@linkcode unpackTarSafely}. */
export interface UnpackOptions {
  /** Largest total size of the entries' content. @default no limit */
  maxBytes?: number;
}

/**
 * Unpacks the tar stream into `dest` (created if missing). On a refused entry it throws a
 * `FleetError` with code `unsafe_archive`; the caller removes `dest`.
 *
 * @example Unpack an archive into a temp directory
 * ```ts ignore
 * await unpackTarSafely(file.stream(), "/tmp/pkg");
 * ```
 */
export async function unpackTarSafely(
  tar: ReadableStream<Uint8Array>,
  dest: string,
  { maxBytes = Infinity }: UnpackOptions = {},
): Promise<{ entries: number; bytes: number }> {
  mkdirSync(dest, { recursive: true, mode: 0o755 });
  let entries = 0;
  let bytes = 0;
  for await (const entry of tar.pipeThrough(createTarDecoder())) {
    const h = entry.header;
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
    // Archives may omit directory entries; parents are created as plain 0755 directories.
    if (type !== "directory") mkdirSync(posix.dirname(target), { recursive: true, mode: 0o755 });
    switch (type) {
      case "directory":
        mkdirSync(target, { recursive: true, mode: (h.mode ?? 0o755) & 0o777 });
        await entry.body.cancel();
        break;
      case "file": {
        bytes += h.size;
        if (bytes > maxBytes) refuse(rel, `the archive holds more than ${maxBytes} bytes`);
        await writeFile(entry.body, target, (h.mode ?? 0o644) & 0o777);
        break;
      }
      case "symlink": {
        const link = h.linkname ?? "";
        if (link.startsWith("/") || escapes(posix.join(posix.dirname(rel), link))) {
          refuse(rel, `the symlink points outside the package (${link})`);
        }
        symlinkSync(link, target);
        await entry.body.cancel();
        break;
      }
      case "link": {
        const from = safeName(h.linkname ?? "");
        if (from === null) refuse(rel, `the hard link points outside the package (${h.linkname})`);
        checkNoSymlinkParent(dest, from);
        linkSync(posix.join(dest, from), target);
        await entry.body.cancel();
        break;
      }
      default:
        await entry.body.cancel();
        refuse(rel, `entries of type ${type} are not allowed`);
    }
    entries++;
  }
  return { entries, bytes };
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
  const fd = openSync(path, "w", mode);
  try {
    for await (const chunk of body) writeSync(fd, chunk);
    // The directory is renamed into place later; its files must be on disk by then.
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(path, mode); // the umask may have narrowed the mode given at creation
}
