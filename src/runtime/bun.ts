/**
 * The Bun implementation of {@linkcode Runtime}.
 *
 * @module
 */
import { constants, hostname } from "node:os";
import type {
  Datagram,
  DatagramOptions,
  DatagramSocket,
  Runtime,
  Signal,
  SpawnOptions,
  SqlValue,
  StartOptions,
} from "./types.ts";
import { removeStaleSocket, setSocketMode } from "./_unix_socket.ts";
import { inspectorCpuProfile } from "./_inspector.ts";
import { udpKernelDrops } from "./_proc_net.ts";
import { listenTcpNode } from "./_tcp.ts";

export const bunRuntime: Runtime = {
  name: "bun",
  get version() {
    return Bun.version;
  },

  async serve(address, fetch) {
    if ("path" in address) removeStaleSocket(address.path);
    let server: ReturnType<typeof Bun.serve>;
    try {
      server = "path" in address
        ? Bun.serve({ unix: address.path, fetch })
        : Bun.serve({ hostname: address.hostname, port: address.port, fetch });
    } catch (e) {
      // Bun says "Failed to start server. Is port N in use?": say it in the style of the rest.
      if ((e as { code?: string }).code !== "EADDRINUSE") throw e;
      const where = "path" in address
        ? `"${address.path}"`
        : `tcp ${address.hostname}:${address.port}`;
      throw Object.assign(new Error(`Cannot listen on ${where}: address already in use`), {
        code: "EADDRINUSE",
      });
    }
    if ("path" in address) setSocketMode(address.path, address.mode ?? 0o600);
    return {
      port: server.port ?? 0,
      close: () => server.stop(true),
    };
  },

  listenTcp: listenTcpNode,

  async listenUdp(hostname, port, options) {
    // Bun's own UDP socket reads on the main thread and cannot set SO_RCVBUF; the libc one
    // can (IP literals on Linux). scripts/bench/udp-load.ts: 4x the loss-free rate at the same
    // buffer size, 12x with a 4 MB buffer.
    if (options.dedicatedReader || (options.receiveBufferSize ?? 0) > 0) {
      const socket = (await import("./_bun_libc.ts")).bindLibcUdp(hostname, port, options);
      if (socket) return socket;
    }
    return await bindUdp(hostname, port, options);
  },

  async listenUnixDatagram(path, options) {
    // Loaded on first use: bun:ffi exists only in Bun, and Deno also loads this file.
    return (await import("./_bun_libc.ts")).bindUnixDatagram(path, options);
  },

  onSignal(signal: Signal, handler) {
    process.on(signal, handler);
    return () => process.off(signal, handler);
  },

  fetch(url, init, { proxy, insecure = false, ca } = {}) {
    return fetch(url, {
      ...init,
      proxy,
      tls: { rejectUnauthorized: !insecure, ...(ca ? { ca } : {}) },
    } as RequestInit);
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

  fetchUnix: (socketPath, request) => fetch(request, { unix: socketPath }),

  start(cmd, { env, pipe = false }: StartOptions = {}) {
    const proc = Bun.spawn({
      cmd,
      stdin: pipe ? "pipe" : "ignore",
      stdout: pipe ? "pipe" : "inherit",
      stderr: pipe ? "pipe" : "inherit",
      env: env ?? process.env,
    });
    const exited = proc.exited.then((code) =>
      proc.signalCode ? 128 + signalNumber(String(proc.signalCode)) : code
    );
    const handle = {
      pid: proc.pid,
      kill: (signal: "SIGTERM" | "SIGKILL" | "SIGINT" = "SIGTERM") => proc.kill(signal),
      exited,
    };
    if (!pipe) return handle;
    const sink = proc.stdin as import("bun").FileSink;
    return {
      ...handle,
      stdin: {
        write(data: Uint8Array) {
          try {
            sink.write(data);
            // Without a flush Bun holds small writes back until its buffer fills.
            void Promise.resolve(sink.flush()).catch(() => {});
          } catch { /* the child has exited: its pipe is closed */ }
        },
        close() {
          try {
            void Promise.resolve(sink.end()).catch(() => {});
          } catch { /* already closed */ }
        },
      },
      stdout: proc.stdout as ReadableStream<Uint8Array>,
      stderr: proc.stderr as ReadableStream<Uint8Array>,
    };
  },
  // Bun writes the status line only with the first body chunk: a body that fails before any
  // chunk makes it reset the connection. Erroring with `undefined` keeps Bun from logging it.
  dropConnection: () =>
    new Response(new ReadableStream({ start: (controller) => controller.error(undefined) })),

  zstdCompress: (data, level) => Bun.zstdCompressSync(data, { level }),
  zstdDecompress: (data) => Bun.zstdDecompressSync(data),
  // Bun's DecompressionStream knows zstd (the DOM typings do not list it yet) and decodes
  // only as fast as its reader reads.
  decompressStream: (format) =>
    new DecompressionStream(format as CompressionFormat) as unknown as TransformStream<
      Uint8Array,
      Uint8Array
    >,

  memory() {
    const m = process.memoryUsage();
    return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external };
  },

  hostname: () => hostname(),
  heapSnapshot: async () => new Uint8Array(Bun.generateHeapSnapshot("v8", "arraybuffer")),
  cpuProfile: inspectorCpuProfile,
  openSqlite(path) {
    // Required on first use: this file is also loaded (unused) under Deno, which has no bun:sqlite.
    const { Database } = require("bun:sqlite") as typeof import("bun:sqlite");
    const db = new Database(path, { create: true });
    return {
      exec: (sql) => void db.exec(sql),
      prepare(sql) {
        const s = db.prepare<Record<string, SqlValue>, SqlValue[]>(sql);
        return {
          run: (...p) => s.run(...p),
          all: (...p) => s.all(...p),
          get: (...p) => s.get(...p) ?? undefined,
          iterate: (...p) => s.iterate(...p),
        };
      },
      close: () => db.close(),
    };
  },
  exit: (code) => process.exit(code),
  registerVirtualModule(specifier, exports) {
    Bun.plugin({
      name: `virtual module ${specifier}`,
      setup(build) {
        build.module(specifier, () => ({ exports, loader: "object" }));
      },
    });
    return true;
  },
};

async function bindUdp(
  host: string,
  port: number,
  { onBatch, onError }: DatagramOptions,
): Promise<DatagramSocket> {
  // Bun reads several datagrams per wakeup (recvmmsg) and calls `data` for each in one go;
  // collecting them until the next microtask hands the whole read to the consumer at once.
  let batch: Datagram[] = [];
  let reads = 0;
  const flush = () => {
    const b = batch;
    batch = [];
    onBatch(b);
  };
  const socket = await Bun.udpSocket({
    hostname: host,
    port,
    socket: {
      data(_s, buf, rport, raddr, flags) {
        reads++;
        if (batch.length === 0) queueMicrotask(flush);
        batch.push({ data: buf, from: `${raddr}:${rport}`, truncated: flags?.truncated });
      },
      error(_s, e) {
        onError?.(e);
      },
    },
  });
  return {
    port: socket.port,
    send: (data, h, p) => void socket.send(data, p, h),
    // Read on the main thread: nothing is queued, so nothing is dropped before onBatch.
    stats: () => ({
      read: reads,
      queuedBytes: 0,
      queueDroppedDatagrams: 0,
      queueDroppedBytes: 0,
      kernelDrops: udpKernelDrops({ port: socket.port }),
    }),
    close: () => socket.close(),
  };
}

function signalNumber(name: string): number {
  return (constants.signals as Record<string, number>)[name] ?? 0;
}
