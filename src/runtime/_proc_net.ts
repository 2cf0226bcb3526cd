/**
 * The kernel's per-socket drop count, from `/proc/net/udp` and `/proc/net/udp6` (Linux). The
 * `drops` column counts datagrams the kernel discarded because the socket's receive buffer was
 * full; it is what SO_RXQ_OVFL would report, readable without a recvmsg control buffer and the
 * same on every runtime.
 */
import { readFileSync, readlinkSync } from "node:fs";

/** Which socket to look up: its inode (exact) or, where the runtime hides the fd, its local port. */
export type SocketRef = { inode: number } | { port: number };

/** The inode of file descriptor `fd` when it is a socket, or undefined (not Linux, no /proc). */
export function socketInode(fd: number): number | undefined {
  try {
    const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The kernel's drop count of a UDP socket, or undefined when it is not found. */
export function udpKernelDrops(ref: SocketRef): number | undefined {
  for (const file of ["/proc/net/udp", "/proc/net/udp6"]) {
    let text: string;
    try {
      text = readFileSync(file, "latin1");
    } catch {
      continue;
    }
    const found = findDrops(text, ref);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The `drops` column of the row matching `ref` in one `/proc/net/udp*` table. */
export function findDrops(table: string, ref: SocketRef): number | undefined {
  const rows = table.split("\n");
  for (let i = 1; i < rows.length; i++) {
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
    const f = rows[i].trim().split(/\s+/);
    if (f.length < 13) continue;
    const match = "inode" in ref
      ? Number(f[9]) === ref.inode
      : parseInt(f[1].slice(f[1].lastIndexOf(":") + 1), 16) === ref.port;
    if (match) return Number(f[12]);
  }
  return undefined;
}
