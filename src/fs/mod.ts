/**
 * File system helpers shared by every folder: atomic replacement of a file (temp file, fsync,
 * rename, fsync of the directory) or of a symlink, and the durable directory flush.
 *
 * @example
 * ```ts ignore
 * import { writeFileAtomic } from "./mod.ts";
 * writeFileAtomic("/var/lib/outpost/run/state.json", json, { mode: 0o600 });
 * ```
 *
 * @module
 */
export { isAtomicTemp, replaceAtomic, syncDir, writeFileAtomic } from "./_atomic.ts";
