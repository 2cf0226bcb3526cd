/**
 * A unix datagram client for tests: Bun has no unix datagram socket and hot-shots' own UDS
 * transport needs the `unix-dgram` native addon, so this sends through libc with bun:ffi.
 * Each `send` is one real datagram on a real socket.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";

const AF_UNIX = 1;
const SOCK_DGRAM = 2;

const libc = dlopen("libc.so.6", {
  socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  sendto: {
    args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.u32],
    returns: FFIType.i64,
  },
  close: { args: [FFIType.i32], returns: FFIType.i32 },
});

/** Opens an unbound unix datagram socket that sends to `path`. */
export function unixDatagramClient(path: string) {
  const pathBytes = new TextEncoder().encode(path);
  const addr = new Uint8Array(110);
  new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  addr.set(pathBytes, 2);
  const fd = libc.symbols.socket(AF_UNIX, SOCK_DGRAM, 0);
  if (fd < 0) throw new Error("Cannot create a unix datagram socket");
  return {
    send(data: Uint8Array): void {
      const copy = Uint8Array.from(data); // a stable, non-empty backing store for ptr()
      const n = libc.symbols.sendto(
        fd,
        ptr(copy),
        copy.length,
        0,
        ptr(addr),
        2 + pathBytes.length + 1,
      );
      if (Number(n) !== copy.length) throw new Error(`Cannot send to "${path}"`);
    },
    close(): void {
      libc.symbols.close(fd);
    },
  };
}
