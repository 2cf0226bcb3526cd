/**
 * Datagram sockets through libc (bun:ffi), for the Bun runtime only; `bun.ts` loads this file on
 * first use so that nothing else (Deno in particular) ever sees `bun:ffi`.
 */
import { rmSync } from "node:fs";
import { CString, dlopen, FFIType, ptr, read } from "bun:ffi";
import type { Datagram, DatagramOptions, DatagramSocket } from "./types.ts";
import { DATAGRAM_QUEUE_OVERHEAD, DEFAULT_MAX_QUEUE_BYTES, NotSupportedError } from "./types.ts";
import { socketInode, udpKernelDrops } from "./_proc_net.ts";
import { removeStaleSocket, setSocketMode } from "./_unix_socket.ts";

// Datagram sockets through libc (bun:ffi). Bun has UDP and unix *stream* sockets but no unix
// datagram socket, and its UDP socket cannot set SO_RCVBUF. A blocking recv() would stall the
// event loop, so a Worker thread does the blocking reads and posts batches (one transferred
// buffer per batch, and at most maxQueueBytes not yet handled); close() sets a shared stop
// flag and shutdown() wakes the blocked read.
// Linux only: the constants and the socket address layouts below are Linux's.
const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SO_RCVBUFFORCE = 33;
const SHUT_RDWR = 2;
const SUN_PATH_MAX = 108;
/** Datagrams read without blocking after the first one, before a batch is posted. */
const MAX_BATCH = 32;

const LIBC_SYMBOLS = {
  socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  bind: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  setsockopt: {
    args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32],
    returns: FFIType.i32,
  },
  getsockopt: {
    args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr],
    returns: FFIType.i32,
  },
  getsockname: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  sendto: {
    args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.u32],
    returns: FFIType.i64,
  },
  shutdown: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  close: { args: [FFIType.i32], returns: FFIType.i32 },
  __errno_location: { args: [], returns: FFIType.ptr },
  strerror: { args: [FFIType.i32], returns: FFIType.ptr },
} as const;

type Libc = ReturnType<typeof dlopen<typeof LIBC_SYMBOLS>>;
let libc: { lib: Libc; name: string } | undefined;

function openLibc(): { lib: Libc; name: string } {
  if (libc) return libc;
  if (process.platform !== "linux") {
    throw new NotSupportedError(`unix datagram sockets on ${process.platform}`, "bun");
  }
  const arch = process.arch === "arm64" ? "aarch64" : "x86_64";
  // glibc, then musl (its libc is the dynamic loader itself).
  for (const name of ["libc.so.6", `libc.musl-${arch}.so.1`, `ld-musl-${arch}.so.1`]) {
    try {
      libc = { lib: dlopen(name, LIBC_SYMBOLS), name };
      return libc;
    } catch { /* try the next name */ }
  }
  throw new NotSupportedError("unix datagram sockets (no libc found to load)", "bun");
}

function libcAvailable(): boolean {
  try {
    openLibc();
    return true;
  } catch {
    return false;
  }
}

function lastError(lib: Libc): string {
  const errno = read.i32(lib.symbols.__errno_location()!);
  return `${new CString(lib.symbols.strerror(errno)!)} (errno ${errno})`;
}

// Layout of the buffer the worker and the main thread share: [stop flag, queued bytes] as
// Int32, then [read, dropped datagrams, dropped bytes] as BigInt64 (bytes can pass 2^31).
const SHARED_BYTES = 8 + 3 * 8;

// The worker's source: it runs in its own thread, so it loads libc itself. It is built from a
// string so that it also works inside a `bun build --compile` binary without an extra entry.
const LIBC_DATAGRAM_WORKER = `
import { dlopen, FFIType, ptr, read } from "bun:ffi";
const MSG_DONTWAIT = 0x40, MSG_TRUNC = 0x20, EINTR = 4, EBADF = 9, EINVAL = 22, ENOTSOCK = 88;
self.onmessage = ({ data }) => {
  const { fd, bufferSize, libName, shared, maxBatch, maxQueueBytes, overhead } = data;
  const { symbols: c } = dlopen(libName, {
    recv: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i64 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
  const state = new Int32Array(shared, 0, 2);
  const counts = new BigInt64Array(shared, 8, 3);
  // Datagrams are read back to back into one reused buffer; each batch posts a right-sized
  // copy, so a quiet socket does not allocate maxBatch buffers per datagram.
  const buf = new Uint8Array(bufferSize * maxBatch);
  for (;;) {
    const lengths = [];
    let used = 0;
    // MSG_TRUNC: the result is the datagram's real length, so truncation can be reported.
    let n = Number(c.recv(fd, ptr(buf), bufferSize, MSG_TRUNC));
    if (Atomics.load(state, 0) === 1) break;
    if (n < 0) {
      const errno = read.i32(c.__errno_location());
      if (errno === EINTR) continue;
      postMessage({ errno });
      if (errno === EBADF || errno === EINVAL || errno === ENOTSOCK) break;
      continue;
    }
    do {
      lengths.push(n);
      used += Math.min(n, bufferSize);
      if (lengths.length === maxBatch) break;
      n = Number(c.recv(fd, ptr(buf, used), bufferSize, MSG_DONTWAIT | MSG_TRUNC));
    } while (n >= 0);
    Atomics.add(counts, 0, BigInt(lengths.length));
    // The bound: while the main thread holds maxQueueBytes, keep reading (so the kernel's
    // buffer stays free for bursts the main thread can take) but drop and count.
    const cost = used + overhead * lengths.length;
    if (Atomics.load(state, 1) + cost > maxQueueBytes) {
      Atomics.add(counts, 1, BigInt(lengths.length));
      Atomics.add(counts, 2, BigInt(used));
      continue;
    }
    Atomics.add(state, 1, cost);
    const out = buf.slice(0, used);
    postMessage({ buf: out.buffer, lengths, cost }, [out.buffer]);
  }
  postMessage({ done: true });
};
`;

/** Binds a unix datagram socket with libc. */
export function bindUnixDatagram(path: string, options: DatagramOptions): DatagramSocket {
  const pathBytes = new TextEncoder().encode(path);
  if (pathBytes.length >= SUN_PATH_MAX) {
    throw new Error(`Cannot listen on "${path}": a unix socket path is limited to 107 bytes`);
  }
  const addr = new Uint8Array(2 + SUN_PATH_MAX);
  new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  addr.set(pathBytes, 2);
  removeStaleSocket(path);
  const socket = bindLibcDatagram(AF_UNIX, addr.subarray(0, 2 + pathBytes.length + 1), {
    ...options,
    what: `"${path}"`,
  });
  setSocketMode(path, options.mode ?? 0o722);
  return {
    ...socket,
    close: () => {
      socket.close();
      rmSync(path, { force: true });
    },
  };
}

/** `struct sockaddr_in` for an IPv4 literal, `sockaddr_in6` for an IPv6 one, else undefined. */
function sockaddrIn(host: string, port: number): Uint8Array | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return sockaddrIn6(host, port);
  if (m.slice(1).some((o) => Number(o) > 255)) return undefined;
  const addr = new Uint8Array(16);
  const view = new DataView(addr.buffer);
  view.setUint16(0, AF_INET, true);
  view.setUint16(2, port, false); // network byte order
  addr.set(m.slice(1).map(Number), 4);
  return addr;
}

/** `struct sockaddr_in6` for an IPv6 literal without a zone (`::`, `::1`, `fd00::5`…). */
function sockaddrIn6(host: string, port: number): Uint8Array | undefined {
  const literal = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (!/^[0-9a-fA-F:]+$/.test(literal) || literal.split("::").length > 2) return undefined;
  const [head, tail] = literal.includes("::") ? literal.split("::") : [literal, undefined];
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const missing = 8 - h.length - t.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return undefined;
  const all = [...h, ...Array(tail === undefined ? 0 : missing).fill("0"), ...t];
  if (all.some((g) => g.length === 0 || g.length > 4)) return undefined;
  const addr = new Uint8Array(28);
  const view = new DataView(addr.buffer);
  view.setUint16(0, AF_INET6, true);
  view.setUint16(2, port, false);
  all.forEach((g, i) => view.setUint16(8 + 2 * i, parseInt(g, 16), false));
  return addr;
}

/**
 * A datagram socket made with libc, read by a worker thread. Used for unix sockets (Bun has
 * none) and for IPv4 UDP (Bun's UDP socket cannot set SO_RCVBUF and reads on the main thread).
 * The worker keeps draining the kernel queue while the main thread is busy or collecting
 * garbage; what it holds for the main thread is bounded by `maxQueueBytes`.
 */
function bindLibcDatagram(
  family: number,
  addr: Uint8Array,
  {
    onBatch,
    bufferSize = 8192,
    receiveBufferSize = 0,
    maxQueueBytes = DEFAULT_MAX_QUEUE_BYTES,
    onError,
    what,
  }: DatagramOptions & { what: string },
): DatagramSocket {
  const { lib, name } = openLibc();
  const c = lib.symbols;
  const fd = c.socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new Error(`Cannot create a datagram socket: ${lastError(lib)}`);
  // Before bind, so that no datagram arrives into the default-sized buffer.
  const appliedRcvbuf = receiveBufferSize > 0
    ? setReceiveBuffer(lib, fd, receiveBufferSize)
    : undefined;
  if (c.bind(fd, ptr(addr), addr.length) !== 0) {
    const reason = lastError(lib);
    c.close(fd);
    throw new Error(`Cannot listen on ${what}: ${reason}`);
  }
  let port = 0;
  if (family !== AF_UNIX) {
    const bound = new Uint8Array(28);
    const len = new Uint32Array([28]);
    if (c.getsockname(fd, ptr(bound), ptr(len)) === 0) {
      port = new DataView(bound.buffer).getUint16(2, false);
    }
  }
  const inode = family !== AF_UNIX ? socketInode(fd) : undefined;

  const shared = new SharedArrayBuffer(SHARED_BYTES);
  const state = new Int32Array(shared, 0, 2);
  const counts = new BigInt64Array(shared, 8, 3);
  let open = true;
  const worker = new Worker(
    URL.createObjectURL(new Blob([LIBC_DATAGRAM_WORKER], { type: "application/javascript" })),
  );
  worker.onmessage = ({ data }) => {
    if (data.done) {
      c.close(fd);
      worker.terminate();
    } else if (data.errno !== undefined) {
      onError?.(new Error(`Cannot read from ${what}: errno ${data.errno}`));
    } else {
      const lengths: number[] = data.lengths;
      try {
        if (!open) {
          // Read before close() but not delivered: counted, so that no loss goes unseen.
          Atomics.add(counts, 1, BigInt(lengths.length));
          Atomics.add(counts, 2, BigInt(data.buf.byteLength));
          return;
        }
        const batch: Datagram[] = [];
        let offset = 0;
        for (const length of lengths) {
          const n = Math.min(length, bufferSize);
          batch.push({
            data: new Uint8Array(data.buf, offset, n),
            from: "",
            truncated: length > bufferSize,
          });
          offset += n;
        }
        onBatch(batch);
      } finally {
        Atomics.sub(state, 1, data.cost);
      }
    }
  };
  worker.postMessage({
    fd,
    bufferSize,
    libName: name,
    shared,
    maxBatch: MAX_BATCH,
    maxQueueBytes,
    overhead: DATAGRAM_QUEUE_OVERHEAD,
  });
  (worker as unknown as { unref(): void }).unref(); // a listener alone keeps no process alive

  return {
    port,
    receiveBufferSize: appliedRcvbuf,
    send: (data, host, toPort) => {
      const to = family !== AF_UNIX ? sockaddrIn(host, toPort) : undefined;
      if (!to || to.length !== addr.length) {
        throw new NotSupportedError(`sending to "${host}" from ${what}`, "bun");
      }
      const copy = Uint8Array.from(data);
      c.sendto(fd, ptr(copy), copy.length, 0, ptr(to), to.length);
    },
    stats: () => ({
      read: Number(Atomics.load(counts, 0)),
      queuedBytes: Atomics.load(state, 1),
      queueDroppedDatagrams: Number(Atomics.load(counts, 1)),
      queueDroppedBytes: Number(Atomics.load(counts, 2)),
      kernelDrops: inode === undefined ? undefined : udpKernelDrops({ inode }),
    }),
    close: () => {
      if (!open) return;
      open = false;
      Atomics.store(state, 0, 1);
      c.shutdown(fd, SHUT_RDWR); // wakes the worker's blocked recv; it then reports done
    },
  };
}

/**
 * Asks for a receive buffer of `bytes` and returns what the kernel granted (its figure, which
 * counts bookkeeping and so is about twice the request), or undefined when it refused both.
 * SO_RCVBUFFORCE passes `net.core.rmem_max` but needs CAP_NET_ADMIN; without it, SO_RCVBUF
 * is capped at rmem_max.
 */
function setReceiveBuffer(lib: Libc, fd: number, bytes: number): number | undefined {
  const c = lib.symbols;
  const value = new Int32Array([Math.min(bytes, 0x3fffffff)]);
  if (
    c.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, ptr(value), 4) !== 0 &&
    c.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, ptr(value), 4) !== 0
  ) return undefined;
  const len = new Uint32Array([4]);
  return c.getsockopt(fd, SOL_SOCKET, SO_RCVBUF, ptr(value), ptr(len)) === 0 ? value[0] : undefined;
}

/** A UDP socket read by a worker thread, or undefined when `hostname` is not an IP literal or libc is missing. */
export function bindLibcUdp(
  hostname: string,
  port: number,
  options: DatagramOptions,
): DatagramSocket | undefined {
  const addr = sockaddrIn(hostname, port);
  if (!addr || !libcAvailable()) return undefined;
  return bindLibcDatagram(addr.length === 16 ? AF_INET : AF_INET6, addr, {
    ...options,
    what: `udp ${hostname}:${port}`,
  });
}
