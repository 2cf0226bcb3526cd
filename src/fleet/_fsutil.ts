/**
 * File helpers the fleet shares: atomic symlink switch, capped reads, and opening `file://`
 * sources only as regular files under allowed roots.
 */
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readlinkSync,
  readSync,
  realpathSync,
  symlinkSync,
} from "node:fs";
import { dirname, resolve, sep } from "node:path";
import { replaceAtomic } from "../fs/mod.ts";
import { FleetError } from "./_errors.ts";

/** Points the symlink `link` at `target` by creating a new link and renaming it over the old. */
export function switchLink(link: string, target: string): void {
  replaceAtomic(link, (temp) => symlinkSync(target, temp));
}

/** The target of a symlink, or null when there is none. */
export function readLink(link: string): string | null {
  try {
    return readlinkSync(link);
  } catch {
    return null;
  }
}

/** True when `path` is `root` or lies below it (both absolute and normalized). */
export function isWithin(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * The real path of `path` when it lies under one of `roots` (`fleet.file_roots`), both before
 * and after resolving links. A path outside every root is refused before anything touches it,
 * so the answer tells nothing about files elsewhere.
 */
export function resolveUnderRoots(path: string, roots: readonly string[]): string {
  const abs = resolve(path);
  const refused = () =>
    new FleetError(
      "forbidden",
      roots.length === 0
        ? `Refused file://${abs}: no fleet.file_roots are configured, so file:// URLs are off`
        : `Refused file://${abs}: file:// URLs must name a regular file or an OCI layout under fleet.file_roots`,
    );
  if (!roots.some((r) => isWithin(abs, resolve(r)))) throw refused();
  const realRoots = roots.flatMap((r) => {
    try {
      return [realpathSync(r)];
    } catch {
      return [];
    }
  });
  const inside = (p: string) => {
    try {
      const real = realpathSync(p);
      return realRoots.some((r) => isWithin(real, r)) ? real : null;
    } catch {
      return null;
    }
  };
  const real = inside(abs);
  if (real !== null) return real;
  // "Missing" is told only when the directory is really under a root: through a link that
  // leads out, a missing file and a present one get the same answer.
  if (inside(dirname(abs)) !== null && lstatSync(abs, { throwIfNoEntry: false }) === undefined) {
    throw new FleetError("not_found", `file://${abs} does not exist`);
  }
  throw refused();
}

/**
 * Opens a `file://` source for reading: only a regular file under `roots`. O_NONBLOCK keeps a
 * FIFO from blocking the open, O_NOFOLLOW refuses a link swapped in after the path was
 * resolved, and the type is checked on the open descriptor, so a FIFO or a device is never read.
 */
export function openRegularFile(path: string, roots: readonly string[]): number {
  const real = resolveUnderRoots(path, roots);
  let fd: number;
  try {
    fd = openSync(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch {
    throw new FleetError(
      "forbidden",
      `Refused file://${resolve(path)}: cannot open it for reading`,
    );
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new FleetError("forbidden", `Refused file://${resolve(path)}: not a regular file`);
  }
  return fd;
}

/** Reads a whole regular file under `roots`, refusing one longer than `maxBytes`. */
export function readRegularFile(
  path: string,
  roots: readonly string[],
  maxBytes: number,
): Uint8Array {
  const fd = openRegularFile(path, roots);
  try {
    const size = fstatSync(fd).size;
    if (size > maxBytes) {
      throw new FleetError(
        "too_large",
        `file://${resolve(path)} is over the cap of ${maxBytes} bytes`,
      );
    }
    const buf = new Uint8Array(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a body up to `maxBytes`, cancelling the stream as soon as it passes (and throwing
 * `tooLarge()`): a huge body is never held whole.
 */
export async function readCapped(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  tooLarge: () => Error,
): Promise<Uint8Array> {
  if (body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    // Leaving the loop by a throw cancels the stream.
    if (total > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  const all = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  return all;
}
