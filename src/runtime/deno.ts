/**
 * The Deno implementation of {@linkcode Runtime}. Datagram sockets need `--unstable-net`.
 *
 * @module
 */
import { constants, zstdCompressSync, zstdDecompressSync } from "node:zlib";
import type { DatagramOptions, DatagramSocket, Runtime, SpawnOptions } from "./types.ts";
import { NotSupportedError } from "./types.ts";
import { removeStaleSocket, setSocketMode } from "./_unix_socket.ts";

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
  readonly stdin: WritableStream<Uint8Array>;
  output(): Promise<{ code: number; stdout: Uint8Array; stderr: Uint8Array }>;
  kill(signal?: string): void;
}
interface DenoApi {
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
}
declare const Deno: DenoApi;

export const denoRuntime: Runtime = {
  name: "deno",
  version: Deno.version.deno,

  async serve(address, fetch) {
    if ("path" in address) removeStaleSocket(address.path);
    const { promise: listening, resolve } = Promise.withResolvers<void>();
    const options = "path" in address
      ? { path: address.path, onListen: () => resolve() }
      : { hostname: address.hostname, port: address.port, onListen: () => resolve() };
    const server = Deno.serve(options, fetch);
    await listening;
    if ("path" in address) setSocketMode(address.path, address.mode ?? 0o600);
    return { port: server.addr.port ?? 0, close: () => server.shutdown() };
  },

  async listenUdp(hostname, port, options) {
    return receiveLoop(listen({ transport: "udp", hostname, port }), options);
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

  zstdCompress: (data, level) =>
    zstdCompressSync(data, { params: { [constants.ZSTD_c_compressionLevel]: level } }),
  zstdDecompress: (data) => zstdDecompressSync(data),

  memory() {
    const m = Deno.memoryUsage();
    return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external };
  },

  hostname: () => Deno.hostname(),
  exit: (code) => Deno.exit(code),
};

function listen(options: Record<string, unknown>): DenoDatagramConn {
  if (!Deno.listenDatagram) {
    throw new NotSupportedError("datagram sockets without --unstable-net", "deno");
  }
  return Deno.listenDatagram(options);
}

function receiveLoop(
  conn: DenoDatagramConn,
  { onBatch, bufferSize = 8192, onError }: DatagramOptions,
): DatagramSocket {
  let open = true;
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
      onBatch([{ data, from: addr.path ?? `${addr.hostname}:${addr.port}` }]);
    }
  })();
  return {
    port: conn.addr.port ?? 0,
    send: (data, hostname, port) =>
      void conn.send(data, { transport: "udp", hostname, port }).catch((e) => onError?.(e)),
    close: () => {
      open = false;
      conn.close();
    },
  };
}
