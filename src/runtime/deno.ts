/**
 * The Deno implementation of {@linkcode Runtime}. Datagram sockets need `--unstable-net`.
 *
 * @module
 */
import type {
  DatagramOptions,
  DatagramSocket,
  HttpServer,
  ListenAddress,
  Runtime,
  SpawnOptions,
  SqlValue,
  StartOptions,
} from "./types.ts";
import { NotSupportedError } from "./types.ts";
import { removeStaleSocket, setSocketMode } from "./_unix_socket.ts";
import { inspectorCpuProfile } from "./_inspector.ts";
import { udpKernelDrops } from "./_proc_net.ts";
import { listenTcpNode } from "./_tcp.ts";

// The slice of the Deno namespace this file uses, declared here so that the project
// type-checks with one set of ambient types (bun-types) and no Deno declarations.
interface DenoAddr {
  transport: string;
  hostname?: string;
  port?: number;
  path?: string;
}
interface DenoDatagramConn {
  readonly addr: DenoAddr;
  receive(p?: Uint8Array): Promise<[Uint8Array, DenoAddr]>;
  send(p: Uint8Array, addr: DenoAddr): Promise<number>;
  close(): void;
}
interface DenoChild {
  readonly pid: number;
  readonly status: Promise<{ code: number; signal: string | null }>;
  readonly stdin: WritableStream<Uint8Array>;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  output(): Promise<{ code: number; stdout: Uint8Array; stderr: Uint8Array }>;
  kill(signal?: string): void;
}
interface DenoListener extends AsyncIterable<unknown> {
  readonly addr: DenoAddr;
  close(): void;
}
interface DenoHttpConn extends
  AsyncIterable<{
    request: Request;
    respondWith(r: Response): Promise<void>;
  }> {
  close(): void;
}
interface DenoApi {
  listen(options: Record<string, unknown>): DenoListener;
  serveHttp(conn: unknown): DenoHttpConn;
  version: { deno: string };
  serve(
    options: Record<string, unknown>,
    handler: (req: Request) => Response | Promise<Response>,
  ): { addr: DenoAddr; shutdown(): Promise<void>; finished: Promise<void> };
  listenDatagram?(options: Record<string, unknown>): DenoDatagramConn;
  addSignalListener(signal: string, handler: () => void): void;
  removeSignalListener(signal: string, handler: () => void): void;
  Command: new (cmd: string, options: Record<string, unknown>) => { spawn(): DenoChild };
  memoryUsage(): { rss: number; heapUsed: number; heapTotal: number; external: number };
  hostname(): string;
  exit(code: number): never;
  env: { toObject(): Record<string, string> };
  createHttpClient(options: { proxy?: { url: string }; caCerts?: string[] }): object;
}
declare const Deno: DenoApi;

export const denoRuntime: Runtime = {
  name: "deno",
  get version() {
    return Deno.version.deno;
  },

  async serve(address, fetch, serveOptions) {
    if ("path" in address) removeStaleSocket(address.path);
    if (serveOptions?.allowDrop) return serveDroppable(address, fetch);
    const { promise: listening, resolve } = Promise.withResolvers<void>();
    const options = "path" in address
      ? { path: address.path, onListen: () => resolve() }
      : { hostname: address.hostname, port: address.port, onListen: () => resolve() };
    const server = Deno.serve(options, fetch);
    await listening;
    if ("path" in address) setSocketMode(address.path, address.mode ?? 0o600);
    return { port: server.addr.port ?? 0, close: () => server.shutdown() };
  },

  listenTcp: listenTcpNode,

  async listenUdp(hostname, port, options) {
    const socket = receiveLoop(listen({ transport: "udp", hostname, port }), options);
    // Deno hides the fd, so the socket is found in /proc/net/udp by its port.
    const stats = socket.stats;
    return {
      ...socket,
      stats: () => ({ ...stats(), kernelDrops: udpKernelDrops({ port: socket.port }) }),
    };
  },

  async listenUnixDatagram(path, options) {
    removeStaleSocket(path);
    const conn = listen({ transport: "unixpacket", path });
    setSocketMode(path, options.mode ?? 0o722);
    return receiveLoop(conn, options);
  },

  onSignal(signal, handler) {
    Deno.addSignalListener(signal, handler);
    return () => Deno.removeSignalListener(signal, handler);
  },

  fetch(url, init, { proxy, insecure = false, ca } = {}) {
    // Deno's own client skips verification only process-wide
    // (--unsafely-ignore-certificate-errors); undici does it per request (ARCHITECTURE.md,
    // "Outbound HTTP").
    if (insecure) return insecureFetch(url, init, proxy, ca);
    if (!proxy && !ca) return fetch(url, init);
    return fetch(url, { ...init, client: httpClient(proxy, ca) } as RequestInit);
  },

  async spawn(cmd, { stdin, timeoutMs = 30_000, env }: SpawnOptions = {}) {
    const child = new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: env ?? Deno.env.toObject(),
      clearEnv: env !== undefined,
    }).spawn();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    try {
      const writer = child.stdin.getWriter();
      if (stdin) await writer.write(stdin).catch(() => {}); // a command may exit without reading
      await writer.close().catch(() => {});
      const out = await child.output();
      return { code: out.code, stdout: out.stdout, stderr: out.stderr, timedOut };
    } finally {
      clearTimeout(timer);
    }
  },

  async fetchUnix(socketPath, request) {
    // Deno's fetch has no unix-socket option without unstable flags; node:http has socketPath.
    const { request: httpRequest } = await import("node:http");
    const body = new Uint8Array(await request.arrayBuffer());
    const url = new URL(request.url);
    return await new Promise<Response>((resolve, reject) => {
      const req = httpRequest({
        socketPath,
        method: request.method,
        path: url.pathname + url.search,
        headers: { ...Object.fromEntries(request.headers), "content-length": String(body.length) },
      }, (res) => {
        const chunks: Uint8Array[] = [];
        res.on("data", (c: Uint8Array) => chunks.push(c));
        res.on("end", () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (typeof v === "string") headers.set(k, v);
          }
          resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500, headers }));
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(body);
    });
  },

  start(cmd, { env, pipe = false }: StartOptions = {}) {
    const child = new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      stdin: pipe ? "piped" : "null",
      stdout: pipe ? "piped" : "inherit",
      stderr: pipe ? "piped" : "inherit",
      env: env ?? Deno.env.toObject(),
      clearEnv: env !== undefined,
    }).spawn();
    const handle = {
      pid: child.pid,
      kill: (signal: "SIGTERM" | "SIGKILL" | "SIGINT" = "SIGTERM") => {
        try {
          child.kill(signal);
        } catch { /* already exited */ }
      },
      // Deno reports a signal death as code 128 + signal number already.
      exited: child.status.then((s) => s.code),
    };
    if (!pipe) return handle;
    // One writer for the child's life: its writes queue in order.
    const writer = child.stdin.getWriter();
    return {
      ...handle,
      stdin: {
        write(data: Uint8Array) {
          writer.write(data).catch(() => {/* the child has exited: its pipe is closed */});
        },
        close() {
          writer.close().catch(() => {/* already closed */});
        },
      },
      stdout: child.stdout,
      stderr: child.stderr,
    };
  },

  dropConnection() {
    // The body is the mark `serveDroppable` looks for: frameworks may copy the Response (hono
    // does) but keep its body. Served by plain Deno.serve, the failing body at least breaks
    // the response after its status line.
    const body = new ReadableStream({ start: (controller) => controller.error(undefined) });
    DROPPED.add(body);
    return new Response(body);
  },

  zstdCompress(data, level) {
    const z = zlib();
    return z.zstdCompressSync(data, { params: { [z.constants.ZSTD_c_compressionLevel]: level } });
  },
  zstdDecompress: (data) => zlib().zstdDecompressSync(data),
  // Deno's DecompressionStream has no zstd, and for gzip it decodes a whole input chunk at
  // once (1 MiB of a bomb gave 1 GiB); node:zlib's streams pause when their reader does.
  decompressStream: (format) =>
    webPair(format === "gzip" ? zlib().createGunzip() : zlib().createZstdDecompress()),

  memory() {
    const m = Deno.memoryUsage();
    return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external };
  },

  hostname: () => Deno.hostname(),
  async heapSnapshot() {
    const chunks: Uint8Array[] = [];
    for await (const c of process.getBuiltinModule("node:v8").getHeapSnapshot()) {
      chunks.push(typeof c === "string" ? Buffer.from(c) : c);
    }
    return Buffer.concat(chunks);
  },
  cpuProfile: inspectorCpuProfile,
  openSqlite(path) {
    const { DatabaseSync } = process.getBuiltinModule(
      "node:sqlite",
    ) as typeof import("node:sqlite");
    const db = new DatabaseSync(path);
    return {
      exec: (sql) => db.exec(sql),
      prepare(sql) {
        const s = db.prepare(sql);
        type Row = Record<string, SqlValue>;
        return {
          run: (...p) => s.run(...p),
          all: (...p) => s.all(...p) as Row[],
          get: (...p) => s.get(...p) as Row | undefined,
          iterate: (...p) => s.iterate(...p) as IterableIterator<Row>,
        };
      },
      close: () => db.close(),
    };
  },
  exit: (code) => Deno.exit(code),
  // Deno resolves specifiers before any user code can hook in (no runtime loader plugins).
  registerVirtualModule: () => false,
};

/**
 * A node:zlib transform as a web stream pair, pausing it while the reader's queue is full.
 * Deno's `Duplex.toWeb` is not used: after a cancel it still enqueues and throws uncaught.
 */
function webPair(
  t: ReturnType<typeof import("node:zlib").createGunzip>,
): ReadableWritablePair<Uint8Array, Uint8Array> {
  let done = false;
  const readable = new ReadableStream<Uint8Array>({
    start(c) {
      t.pause();
      t.on("data", (d: Uint8Array) => {
        if (done) return;
        c.enqueue(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
        if ((c.desiredSize ?? 0) <= 0) t.pause();
      });
      t.on("end", () => {
        if (!done) c.close();
        done = true;
      });
      t.on("error", (e) => {
        if (!done) c.error(e);
        done = true;
      });
    },
    pull: () => void t.resume(),
    cancel() {
      done = true;
      t.destroy();
    },
  }, { highWaterMark: 1 });
  const writable = new WritableStream<Uint8Array>({
    write: (chunk) =>
      new Promise<void>((resolve, reject) => {
        if (t.destroyed) return reject(new Error("The decoder was closed"));
        if (t.write(chunk)) resolve();
        else t.once("drain", resolve);
      }),
    close: () => void t.end(),
    abort() {
      done = true;
      t.destroy();
    },
  });
  return { readable, writable };
}

// Loaded on first use: this file is also loaded (unused) under Bun, where importing node:zlib
// up front would cost start-up time and memory.
function zlib(): typeof import("node:zlib") {
  return process.getBuiltinModule("node:zlib");
}

const DROPPED = new WeakSet<ReadableStream>();

/**
 * Serves each connection with `Deno.serveHttp`, the one Deno API that can close a single
 * connection: a handler answering with `dropConnection()` gets its connection closed unanswered.
 */
function serveDroppable(
  address: ListenAddress,
  fetch: (req: Request) => Response | Promise<Response>,
): HttpServer {
  const listener = "path" in address
    ? Deno.listen({ transport: "unix", path: address.path })
    : Deno.listen({ hostname: address.hostname, port: address.port });
  if ("path" in address) setSocketMode(address.path, address.mode ?? 0o600);
  const open = new Set<DenoHttpConn>();
  const serveConn = async (http: DenoHttpConn) => {
    open.add(http);
    try {
      for await (const { request, respondWith } of http) {
        let res: Response;
        try {
          res = await fetch(request);
        } catch {
          res = new Response("Internal Server Error", { status: 500 });
        }
        if (res.body && DROPPED.has(res.body)) break;
        await respondWith(res).catch(() => {}); // the client went away
      }
    } catch {
      // a broken connection ends its loop
    } finally {
      open.delete(http);
      try {
        http.close();
      } catch { /* already closed */ }
    }
  };
  (async () => {
    for await (const conn of listener) void serveConn(Deno.serveHttp(conn));
  })().catch(() => {}); // the listener was closed
  return {
    port: listener.addr.port ?? 0,
    close: async () => {
      listener.close();
      for (const http of open) http.close();
    },
  };
}

// One client per proxy/CA pair: a client owns a connection pool, so it is kept and reused.
const clients = new Map<string, object>();
function httpClient(proxy: string | undefined, ca: string | undefined): object {
  const key = `${proxy ?? ""}\n${ca ?? ""}`;
  let client = clients.get(key);
  if (!client) {
    client = Deno.createHttpClient({
      ...(proxy ? { proxy: { url: proxy } } : {}),
      ...(ca ? { caCerts: [ca] } : {}),
    });
    clients.set(key, client);
  }
  return client;
}

// One undici dispatcher per proxy/CA pair, for the same reason as the clients above.
const dispatchers = new Map<string, object>();
/** A request that skips certificate verification, through undici (loaded on first use). */
async function insecureFetch(
  url: string,
  init: RequestInit,
  proxy: string | undefined,
  ca: string | undefined,
): Promise<Response> {
  const undici = await import("undici");
  const key = `${proxy ?? ""}\n${ca ?? ""}`;
  let dispatcher = dispatchers.get(key);
  if (!dispatcher) {
    const tls = { rejectUnauthorized: false, ...(ca ? { ca } : {}) };
    dispatcher = proxy
      ? new undici.ProxyAgent({ uri: proxy, requestTls: tls })
      : new undici.Agent({ connect: tls });
    dispatchers.set(key, dispatcher);
  }
  const res = await undici.fetch(
    url,
    { ...init, dispatcher } as Parameters<typeof undici.fetch>[1],
  );
  return res as unknown as Response;
}

function listen(options: Record<string, unknown>): DenoDatagramConn {
  if (!Deno.listenDatagram) {
    throw new NotSupportedError("datagram sockets without --unstable-net", "deno");
  }
  return Deno.listenDatagram(options);
}

/**
 * Reads one datagram at a time on the main thread and hands it over at once: Deno has no
 * reader thread (and no SO_RCVBUF), so nothing is queued and the kernel's buffer is the only
 * queue.
 */
function receiveLoop(
  conn: DenoDatagramConn,
  { onBatch, bufferSize = 8192, onError }: DatagramOptions,
): DatagramSocket {
  let open = true;
  let reads = 0;
  (async () => {
    while (open) {
      let received: [Uint8Array, DenoAddr];
      try {
        received = await conn.receive(new Uint8Array(bufferSize));
      } catch (e) {
        if (!open) return;
        onError?.(e as Error);
        continue;
      }
      const [data, addr] = received;
      reads++;
      onBatch([{ data, from: addr.path ?? `${addr.hostname}:${addr.port}` }]);
    }
  })();
  return {
    port: conn.addr.port ?? 0,
    send: (data, hostname, port) =>
      void conn.send(data, { transport: "udp", hostname, port }).catch((e) => onError?.(e)),
    stats: () => ({ read: reads, queuedBytes: 0, queueDroppedDatagrams: 0, queueDroppedBytes: 0 }),
    close: () => {
      open = false;
      conn.close();
    },
  };
}
