/**
 * The Bun implementation of {@linkcode Runtime}.
 *
 * @module
 */
import { hostname } from "node:os";
import { rmSync } from "node:fs";
import { CString, dlopen, FFIType, ptr, read } from "bun:ffi";
import type {
  Datagram,
  DatagramOptions,
  DatagramSocket,
  Runtime,
  Signal,
  SpawnOptions,
} from "./types.ts";
import { NotSupportedError } from "./types.ts";
import { removeStaleSocket, setSocketMode } from "./_unix_socket.ts";

export const bunRuntime: Runtime = {
  name: "bun",
  version: Bun.version,

  async serve(address, fetch) {
    if ("path" in address) removeStaleSocket(address.path);
    const server = "path" in address
      ? Bun.serve({ unix: address.path, fetch })
      : Bun.serve({ hostname: address.hostname, port: address.port, fetch });
    if ("path" in address) setSocketMode(address.path, address.mode ?? 0o600);
    return {
      port: server.port ?? 0,
      close: () => server.stop(true),
    };
  },

  async listenUdp(hostname, port, options) {
    return await bindUdp(hostname, port, options);
  },

  async listenUnixDatagram(path, options) {
    return bindUnixDatagram(path, options);
  },

  onSignal(signal: Signal, handler) {
    process.on(signal, handler);
    return () => process.off(signal, handler);
  },

  async spawn(cmd, { stdin, timeoutMs = 30_000, env }: SpawnOptions = {}) {
    const proc = Bun.spawn({
      cmd,
      stdin: stdin ?? "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: env ?? process.env,
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      proc.kill("SIGKILL");
    }, timeoutMs);
    try {
      const [stdout, stderr, code] = await Promise.all([
        new Response(proc.stdout).bytes(),
        new Response(proc.stderr).bytes(),
        proc.exited,
      ]);
      return { code, stdout, stderr, timedOut };
    } finally {
      clearTimeout(timer);
    }
  },

  zstdCompress: (data, level) => Bun.zstdCompressSync(data, { level }),
  zstdDecompress: (data) => Bun.zstdDecompressSync(data),

  memory() {
    const m = process.memoryUsage();
    return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external };
  },

  hostname: () => hostname(),
  exit: (code) => process.exit(code),
};

async function bindUdp(
  host: string,
  port: number,
  { onBatch, onError }: DatagramOptions,
): Promise<DatagramSocket> {
  // Bun reads several datagrams per wakeup (recvmmsg) and calls `data` for each in one go;
  // collecting them until the next microtask hands the whole read to the consumer at once.
  let batch: Datagram[] = [];
  const flush = () => {
    const b = batch;
    batch = [];
    onBatch(b);
  };
  const socket = await Bun.udpSocket({
    hostname: host,
    port,
    socket: {
      data(_s, buf, rport, raddr) {
        if (batch.length === 0) queueMicrotask(flush);
        batch.push({ data: buf, from: `${raddr}:${rport}` });
      },
      error(_s, e) {
        onError?.(e);
      },
    },
  });
  return {
    port: socket.port,
    send: (data, h, p) => void socket.send(data, p, h),
    close: () => socket.close(),
  };
}

// Unix datagram sockets. Bun has UDP and unix *stream* sockets but no unix datagram socket, so
// this one is made with libc through bun:ffi. A blocking recv() would stall the event loop,
// so a Worker thread does the blocking reads and posts batches (one transferred buffer per
// batch); close() sets a shared stop flag and shutdown() wakes the blocked read. Linux only:
// the constants and the sockaddr_un layout below are Linux's.
const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
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

function lastError(lib: Libc): string {
  const errno = read.i32(lib.symbols.__errno_location()!);
  return `${new CString(lib.symbols.strerror(errno)!)} (errno ${errno})`;
}

// The worker's source: it runs in its own thread, so it loads libc itself. It is built from a
// string so that it also works inside a `bun build --compile` binary without an extra entry.
const UNIXGRAM_WORKER = `
import { dlopen, FFIType, ptr, read } from "bun:ffi";
const MSG_DONTWAIT = 0x40, EINTR = 4, EAGAIN = 11;
self.onmessage = ({ data }) => {
  const { fd, bufferSize, libName, stop, maxBatch } = data;
  const { symbols: c } = dlopen(libName, {
    recv: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i64 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
  const stopped = new Int32Array(stop);
  for (;;) {
    const buf = new Uint8Array(bufferSize * maxBatch);
    const lengths = [];
    let n = Number(c.recv(fd, ptr(buf), bufferSize, 0));
    if (Atomics.load(stopped, 0) === 1) break;
    if (n < 0) {
      const errno = read.i32(c.__errno_location());
      if (errno !== EINTR) postMessage({ errno });
      continue;
    }
    lengths.push(n);
    while (lengths.length < maxBatch) {
      n = Number(c.recv(fd, ptr(buf, lengths.length * bufferSize), bufferSize, MSG_DONTWAIT));
      if (n < 0) break;
      lengths.push(n);
    }
    postMessage({ buf: buf.buffer, lengths }, [buf.buffer]);
  }
  postMessage({ done: true });
};
`;

async function bindUnixDatagram(
  path: string,
  { onBatch, bufferSize = 8192, mode = 0o722, receiveBufferSize = 0, onError }: DatagramOptions,
): Promise<DatagramSocket> {
  const { lib, name } = openLibc();
  const c = lib.symbols;
  const pathBytes = new TextEncoder().encode(path);
  if (pathBytes.length >= SUN_PATH_MAX) {
    throw new Error(`Cannot listen on "${path}": a unix socket path is limited to 107 bytes`);
  }
  const addr = new Uint8Array(2 + SUN_PATH_MAX);
  new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  addr.set(pathBytes, 2);

  removeStaleSocket(path);
  const fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new Error(`Cannot create a unix datagram socket: ${lastError(lib)}`);
  if (c.bind(fd, ptr(addr), 2 + pathBytes.length + 1) !== 0) {
    const reason = lastError(lib);
    c.close(fd);
    throw new Error(`Cannot listen on "${path}": ${reason}`);
  }
  setSocketMode(path, mode);

  let appliedRcvbuf: number | undefined;
  if (receiveBufferSize > 0) {
    const value = new Int32Array([receiveBufferSize]);
    if (c.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, ptr(value), 4) === 0) {
      const len = new Uint32Array([4]);
      if (c.getsockopt(fd, SOL_SOCKET, SO_RCVBUF, ptr(value), ptr(len)) === 0) {
        appliedRcvbuf = value[0];
      }
    }
  }

  const stop = new SharedArrayBuffer(4);
  const worker = new Worker(
    URL.createObjectURL(new Blob([UNIXGRAM_WORKER], { type: "application/javascript" })),
  );
  worker.onmessage = ({ data }) => {
    if (data.done) {
      c.close(fd);
      worker.terminate();
    } else if (data.errno !== undefined) {
      onError?.(new Error(`Cannot read from "${path}": errno ${data.errno}`));
    } else {
      const batch: Datagram[] = [];
      const lengths: number[] = data.lengths;
      for (let i = 0; i < lengths.length; i++) {
        batch.push({ data: new Uint8Array(data.buf, i * bufferSize, lengths[i]), from: "" });
      }
      onBatch(batch);
    }
  };
  worker.postMessage({ fd, bufferSize, libName: name, stop, maxBatch: MAX_BATCH });
  (worker as unknown as { unref(): void }).unref(); // a listener alone keeps no process alive

  let open = true;
  return {
    port: 0,
    receiveBufferSize: appliedRcvbuf,
    send: () => {
      throw new NotSupportedError("sending on a unix datagram listener", "bun");
    },
    close: () => {
      if (!open) return;
      open = false;
      Atomics.store(new Int32Array(stop), 0, 1);
      c.shutdown(fd, SHUT_RDWR); // wakes the worker's blocked recv; it then reports done
      rmSync(path, { force: true });
    },
  };
}
