/**
 * The contract between the runtime-agnostic core and the runtime it runs on. Only
 * `bun.ts` and `deno.ts` implement it; the core receives a `Runtime` as a parameter.
 *
 * @module
 */

/** Where an HTTP server listens: a TCP host and port, or a unix socket path. */
export type ListenAddress =
  | { hostname: string; port: number }
  | {
    path: string;
    /** File mode given to the socket file, e.g. 0o600. @default 0o600 */
    mode?: number;
  };

/** Options of {@linkcode Runtime.serve}. */
export interface ServeOptions {
  /**
   * Lets the handler answer with {@linkcode Runtime.dropConnection} to close the connection
   * without a response. Deno's `Deno.serve` cannot close one connection, so with this option
   * Deno serves each connection through its per-connection HTTP API instead, one request at a
   * time per connection (fine for test servers, slower for busy ones). Bun needs nothing.
   * @default false
   */
  allowDrop?: boolean;
}

/** A running HTTP server. */
export interface HttpServer {
  /** The bound TCP port (0 for a unix socket). */
  readonly port: number;
  /** Stops accepting and closes open connections. */
  close(): Promise<void>;
}

/** One received datagram. */
export interface Datagram {
  data: Uint8Array;
  /** Sender address: `host:port` for UDP, the peer path (often empty) for unix sockets. */
  from: string;
  /** True when the datagram was longer than the read buffer and lost its tail. */
  truncated?: boolean;
}

/** Options for a datagram socket. */
export interface DatagramOptions {
  /** Called with every datagram that arrived in one read batch of the runtime. */
  onBatch: (batch: Datagram[]) => void;
  /** Largest datagram accepted; longer ones are truncated by the kernel. @default 8192 */
  bufferSize?: number;
  /** Mode of a unix socket file; clients need write permission to send. @default 0o722 */
  mode?: number;
  /**
   * SO_RCVBUF in bytes where the runtime can set it (SO_RCVBUFFORCE first, which lets a
   * privileged process pass `net.core.rmem_max`); 0 keeps the OS default. @default 0
   */
  receiveBufferSize?: number;
  /**
   * Bytes a reader thread may hold for `onBatch` (each datagram costs its length plus
   * {@linkcode DATAGRAM_QUEUE_OVERHEAD}); past it the reader keeps draining the kernel queue but
   * drops what it reads and counts it in {@linkcode DatagramStats}. @default 16777216
   */
  maxQueueBytes?: number;
  /** Called when a read fails (the socket stays open). @default ignore */
  onError?: (error: Error) => void;
  /** Read on a dedicated thread where the runtime can (Bun on Linux), so the kernel queue
   * keeps draining while the main thread is busy or collecting garbage. @default false */
  dedicatedReader?: boolean;
}

/** What one queued datagram costs besides its bytes, so that empty datagrams fill the queue too. */
export const DATAGRAM_QUEUE_OVERHEAD = 64;

/** Default of {@linkcode DatagramOptions.maxQueueBytes}: 16 MiB. */
export const DEFAULT_MAX_QUEUE_BYTES = 16 * 1024 * 1024;

/** The receive path of a datagram socket, as counted at the moment of the call. */
export interface DatagramStats {
  /** Datagrams read from the kernel (delivered or dropped by the reader). */
  read: number;
  /** Bytes read by the reader thread and not yet handed to `onBatch` (0 without a reader thread). */
  queuedBytes: number;
  /** Datagrams the reader dropped: the queue was full, or the socket closed before delivery. */
  queueDroppedDatagrams: number;
  /** The bytes of those datagrams. */
  queueDroppedBytes: number;
  /**
   * Datagrams the kernel dropped for this socket because its receive buffer was full (the
   * `drops` column of `/proc/net/udp`); undefined where unknown (not Linux, or a unix socket,
   * whose senders wait or fail with EAGAIN instead of being dropped).
   */
  kernelDrops?: number;
}

/** A bound datagram socket (UDP or unix). */
export interface DatagramSocket {
  /** The bound UDP port (0 for a unix socket). */
  readonly port: number;
  /** The kernel's receive buffer after `receiveBufferSize` was applied; undefined where the
   * runtime could not apply it. */
  readonly receiveBufferSize?: number;
  /** Sends one datagram to `host:port` (UDP only). */
  send(data: Uint8Array, host: string, port: number): void;
  /** Counters of the receive path. */
  stats(): DatagramStats;
  close(): void;
}

/** One accepted TCP connection. */
export interface TcpConnection {
  /** The peer's IP address. */
  readonly remoteAddress: string;
  /** Stops reading: the kernel's buffer fills and TCP holds the peer back. */
  pause(): void;
  resume(): void;
  close(): void;
}

/** Options of {@linkcode Runtime.listenTcp}. */
export interface TcpListenOptions {
  /** Called per accepted connection; returns where its bytes and its end go. */
  onConnection(conn: TcpConnection): { onData(chunk: Uint8Array): void; onClose(): void };
  /** Closes a connection silent for this long, in ms; 0 never. @default 0 */
  idleTimeoutMs?: number;
}

/** A listening TCP socket. */
export interface TcpServer {
  /** The bound port. */
  readonly port: number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** What a spawned command produced. */
export interface SpawnResult {
  code: number;
  stdout: Uint8Array;
  stderr: Uint8Array;
  /** True when the command was killed because it ran past the timeout. */
  timedOut: boolean;
}

/** Options for {@linkcode Runtime.spawn}. */
export interface SpawnOptions {
  stdin?: Uint8Array;
  /** Milliseconds before the command is killed. @default 30000 */
  timeoutMs?: number;
  env?: Record<string, string>;
}

/** Options for {@linkcode Runtime.start}. */
export interface StartOptions {
  /** The child's whole environment. @default the parent's environment */
  env?: Record<string, string>;
  /**
   * Pipes the child's stdin, stdout and stderr to the parent instead of inheriting them:
   * {@linkcode ProcessHandle.stdin}, `stdout` and `stderr` are then set. A parent that pipes
   * must read both output streams, or the child blocks once a pipe buffer is full.
   * @default false
   */
  pipe?: boolean;
}

/** The writing end of a child's stdin (see {@linkcode StartOptions.pipe}). */
export interface ProcessInput {
  /**
   * Queues `data` for the child, in order. Never throws: bytes written after the child exited
   * are lost, which the parent learns from {@linkcode ProcessHandle.exited}.
   */
  write(data: Uint8Array): void;
  /** Closes the child's stdin (it reads end of file). */
  close(): void;
}

/** A long-running child process started by {@linkcode Runtime.start}. */
export interface ProcessHandle {
  readonly pid: number;
  /** The child's stdin, with `pipe`. */
  readonly stdin?: ProcessInput;
  /** The child's stdout, with `pipe`. */
  readonly stdout?: ReadableStream<Uint8Array>;
  /** The child's stderr, with `pipe`. */
  readonly stderr?: ReadableStream<Uint8Array>;
  /** Sends a signal. @default "SIGTERM" */
  kill(signal?: "SIGTERM" | "SIGKILL" | "SIGINT"): void;
  /** Resolves with the exit code (128 + the signal number when a signal ended it). */
  readonly exited: Promise<number>;
}

/** Process memory figures in bytes. */
export interface MemoryStats {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}

/** How {@linkcode Runtime.fetch} reaches a server: proxy and TLS settings for one request. */
export interface FetchClientOptions {
  /** Proxy URL (`http://host:port`, credentials allowed); none when absent. */
  proxy?: string;
  /** Skip TLS certificate verification (`skip_ssl_validation`). @default false */
  insecure?: boolean;
  /** Extra trusted root certificates, PEM. */
  ca?: string;
}

/** A value SQLite binds or returns. */
export type SqlValue = string | number | bigint | Uint8Array | null;

/** A prepared statement; parameters are positional (`?`). */
export interface SqlStatement {
  run(...params: SqlValue[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  all(...params: SqlValue[]): Record<string, SqlValue>[];
  /** The first row, or undefined when there is none. */
  get(...params: SqlValue[]): Record<string, SqlValue> | undefined;
  /** The rows one at a time, for results too big to hold at once. */
  iterate(...params: SqlValue[]): IterableIterator<Record<string, SqlValue>>;
}

/** An open SQLite database (synchronous, one connection). */
export interface SqlDatabase {
  exec(sql: string): void;
  prepare(sql: string): SqlStatement;
  close(): void;
}

/** The signals the agent reacts to. */
export type Signal = "SIGTERM" | "SIGINT" | "SIGHUP";

/** Everything the core needs from Bun or Deno. */
export interface Runtime {
  /** `bun` or `deno`. */
  readonly name: "bun" | "deno";
  /** The runtime's own version. */
  readonly version: string;
  /** Serves `fetch` on a TCP address or a unix socket. */
  serve(
    address: ListenAddress,
    fetch: (req: Request) => Response | Promise<Response>,
    options?: ServeOptions,
  ): Promise<HttpServer>;
  /**
   * A response that makes a server started with `allowDrop` close the connection without
   * answering: the client sees a network error (connection reset), as when a peer dies.
   */
  dropConnection(): Response;
  /** Binds a UDP socket; port 0 picks a free port. */
  listenUdp(hostname: string, port: number, options: DatagramOptions): Promise<DatagramSocket>;
  /** Listens for TCP stream connections (raw bytes, not HTTP); port 0 picks a free port. */
  listenTcp(hostname: string, port: number, options: TcpListenOptions): Promise<TcpServer>;
  /** Binds a unix datagram socket; throws {@linkcode NotSupportedError} where the runtime has none. */
  listenUnixDatagram(path: string, options: DatagramOptions): Promise<DatagramSocket>;
  /** Calls `handler` on `signal`; returns a function that removes it. */
  onSignal(signal: Signal, handler: () => void): () => void;
  /**
   * `fetch` with a proxy, TLS verification switch and extra CA certificates. Throws
   * {@linkcode NotSupportedError} for an option the runtime cannot honour.
   */
  fetch(url: string, init: RequestInit, client?: FetchClientOptions): Promise<Response>;
  /** Runs a command to completion, with stdin and a timeout. */
  spawn(cmd: string[], options?: SpawnOptions): Promise<SpawnResult>;
  /** Sends an HTTP request over a unix stream socket (the host in the URL is ignored). */
  fetchUnix(socketPath: string, request: Request): Promise<Response>;
  /**
   * Starts a long-running command; its stdout and stderr go to the parent's, or with `pipe`
   * to the handle's streams.
   */
  start(cmd: string[], options?: StartOptions): ProcessHandle;
  /** zstd at `level`; throws {@linkcode NotSupportedError} where the runtime has none. */
  zstdCompress(data: Uint8Array, level: number): Uint8Array;
  /** Reverses {@linkcode Runtime.zstdCompress}. */
  zstdDecompress(data: Uint8Array): Uint8Array;
  /**
   * A streaming gzip or zstd decoder that honours backpressure, so a reader that stops early
   * (a size cap) stops the decoding too: a small bomb never expands whole in memory.
   */
  decompressStream(format: "gzip" | "zstd"): ReadableWritablePair<Uint8Array, Uint8Array>;
  /** The process's memory figures. */
  memory(): MemoryStats;
  /**
   * Opens (creating when missing) the SQLite database at `path`: `bun:sqlite` on Bun,
   * `node:sqlite` on Deno (2.2 or later, no flag needed).
   */
  openSqlite(path: string): SqlDatabase;
  /** The operating system's host name. */
  hostname(): string;
  /** A heap snapshot of this process as V8 `.heapsnapshot` JSON bytes (DevTools reads it). */
  heapSnapshot(): Promise<Uint8Array>;
  /** Samples this process's CPU for `seconds` and returns a `.cpuprofile` JSON document. */
  cpuProfile(seconds: number): Promise<string>;
  /** Ends the process. */
  exit(code: number): never;
  /**
   * Makes `import { … } from specifier` resolve to `exports` in every module imported from now
   * on, files loaded at run time included (the JS check loader's `outpost:checks`). Bun does it
   * with a runtime plugin, which also works in a compiled executable; Deno has no runtime module
   * hook, so it returns false and the caller falls back to a global.
   */
  registerVirtualModule(specifier: string, exports: Record<string, unknown>): boolean;
}

/** A runtime lacks a feature; the message names both. */
export class NotSupportedError extends Error {
  /** Stable code, usable as a telemetry tag. */
  readonly code = "not_supported";
  constructor(feature: string, runtime: string) {
    super(`Not supported on ${runtime}: ${feature}`);
    this.name = "NotSupportedError";
  }
}
