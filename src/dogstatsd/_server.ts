/**
 * The DogStatsD server: UDP and unix datagram listeners, raw packet forwarding, parsing and
 * delivery of parsed items to a sink (the aggregator).
 */
import type { Config } from "../config/mod.ts";
import type { Built, Component } from "../component.ts";
import type { Log, Logger } from "../log/mod.ts";
import type { Event, MetricSample, ServiceCheck } from "../metrics/model.ts";
import type { Datagram, DatagramSocket, DatagramStats, Runtime } from "../runtime/types.ts";
import {
  type Counter,
  type CounterVec,
  DOGSTATSD,
  dogstatsdServerEvents,
  LossReporter,
  type Registry,
} from "../telemetry/mod.ts";
import { DogStatsDParser, type ParsedItems, type ParserOptions } from "./_parse.ts";
import { MetricStats } from "./_metric_stats.ts";
import { CaptureWriter } from "./_capture.ts";
import { OutpostError } from "../errors.ts";

/** Where the server hands parsed items; the aggregator implements it. Calls are
 * synchronous and arrays are handed over (the server does not touch them again). Tag
 * arrays may be shared by the samples of one multi-value message: treat them as read-only. */
export interface DogStatsDSink {
  addSamples(samples: MetricSample[]): void;
  addEvent(event: Event): void;
  addServiceCheck(check: ServiceCheck): void;
}

/** Resolved server settings (see {@linkcode dogstatsdSettings}). */
export interface DogStatsDSettings {
  /** `use_dogstatsd`: false builds no server at all. @default true */
  enabled?: boolean;
  /** Address the UDP socket binds to. */
  udpHost: string;
  /** UDP port; 0 picks a free one, null disables UDP (config `dogstatsd_port: 0`). */
  udpPort: number | null;
  /** Unix datagram socket path; "" disables it. */
  socketPath: string;
  /** Largest datagram read; longer ones are truncated, as the agent's read buffer does. */
  bufferSize: number;
  /** SO_RCVBUF asked for; 0 asks for {@linkcode DEFAULT_RECEIVE_BUFFER_BYTES}. */
  receiveBufferSize: number;
  /** Bytes the reader thread may hold for the parser before it drops and counts. @default DEFAULT_MAX_QUEUE_BYTES */
  queueBytes?: number;
  /** Transports on which an unterminated last message is dropped. */
  eolRequired: { udp: boolean; uds: boolean };
  /** Raw packets are also sent to this UDP `host`/`port`; empty host disables it. */
  forward: { host: string; port: number };
  parser: ParserOptions;
  /** `dogstatsd_stats_enable`: count samples per context for `dogstatsd-stats`. @default false */
  metricStats?: boolean;
  /**
   * UDP read on the main thread with the OS receive buffer, no reader thread: the Lambda mode,
   * where one function sends between flushes and a worker's VM would cost megabytes.
   * @default false
   */
  mainThreadReader?: boolean;
}

/**
 * Reads the server settings from the config; `hostname` is the agent's host name.
 *
 * @example Port 0 turns UDP off
 * ```ts
 * import * as v from "valibot";
 * import { configSchema } from "../config/mod.ts";
 * import { dogstatsdSettings } from "./_server.ts";
 * const settings = dogstatsdSettings(v.parse(configSchema, { dogstatsd_port: 0 }));
 * console.log(settings.udpPort); // null
 * ```
 */
export function dogstatsdSettings(config: Config, hostname = ""): DogStatsDSettings {
  const bindHost = ipFor(config.bind_host);
  return {
    enabled: config.use_dogstatsd,
    udpHost: config.dogstatsd_non_local_traffic ? "0.0.0.0" : bindHost,
    udpPort: config.dogstatsd_port === 0 ? null : config.dogstatsd_port,
    socketPath: config.dogstatsd_socket,
    bufferSize: config.dogstatsd_buffer_size,
    receiveBufferSize: config.dogstatsd_so_rcvbuf,
    queueBytes: config.dogstatsd_queue_max_bytes,
    eolRequired: {
      udp: config.dogstatsd_eol_required.includes("udp"),
      uds: config.dogstatsd_eol_required.includes("uds"),
    },
    forward: {
      host: config.statsd_forward_port > 0 ? ipFor(config.statsd_forward_host) : "",
      port: config.statsd_forward_port,
    },
    metricStats: config.dogstatsd_stats_enable,
    parser: {
      namespace: config.statsd_metric_namespace,
      namespaceExclude: config.statsd_metric_namespace_blacklist,
      blocklist: config.statsd_metric_blocklist,
      blocklistMatchPrefix: config.statsd_metric_blocklist_match_prefix,
      extraTags: config.dogstatsd_tags,
      defaultHostname: hostname,
      readTimestamps: config.dogstatsd_no_aggregation_pipeline,
      internerSize: config.dogstatsd_string_interner_size,
      maxTags: config.dogstatsd_max_tags_per_message,
    },
  };
}

/**
 * The receive buffer asked for when `dogstatsd_so_rcvbuf` is 0: 4 MiB, a few seconds of a busy
 * client at the main thread's worst pause. The kernel caps it at `net.core.rmem_max` unless the
 * agent may use SO_RCVBUFFORCE (root or CAP_NET_ADMIN); the granted size is in
 * `dogstatsd-udp.ReceiveBufferBytes`.
 */
export const DEFAULT_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

/** How often the reader's and the kernel's drop counts are checked for the log. */
const LOSS_CHECK_MS = 10_000;

/** "localhost" may resolve to ::1 first, and Bun's UDP sockets take only IP addresses; the
 * agent and DogStatsD clients mean 127.0.0.1. */
function ipFor(host: string): string {
  return host === "localhost" ? "127.0.0.1" : host;
}

/** Everything the server needs besides its settings. */
export interface DogStatsDDeps {
  runtime: Runtime;
  sink: DogStatsDSink;
  registry: Registry;
  logger: Logger;
  /** Where datagrams lost before parsing are told; the agent shares one. @default a new one */
  losses?: LossReporter;
}

type TransportCounters = ReturnType<typeof dogstatsdServerEvents>["udp"];

/** How often, at most, a parse error is logged at warn level. */
const PARSE_ERROR_LOG_INTERVAL_MS = 60_000;

/**
 * The DogStatsD server component.
 *
 * @example Listen on a random UDP port and print what arrives
 * ```ts
 * import { runtime } from "../runtime/mod.ts";
 * import { Registry } from "../telemetry/mod.ts";
 * import { createLogger } from "../log/mod.ts";
 * import { DogStatsDServer } from "./_server.ts";
 * const server = new DogStatsDServer({
 *   udpHost: "127.0.0.1", udpPort: 0, socketPath: "", bufferSize: 8192, receiveBufferSize: 0,
 *   eolRequired: { udp: false, uds: false }, forward: { host: "", port: 0 }, parser: {},
 * }, {
 *   runtime, registry: new Registry(), logger: createLogger(),
 *   sink: { addSamples: console.log, addEvent: console.log, addServiceCheck: console.log },
 * });
 * await server.start();
 * await server.stop();
 * ```
 */
export class DogStatsDServer implements Component {
  readonly name = "dogstatsd";
  readonly parser: DogStatsDParser;
  /** The per-context counts, or null when `dogstatsd_stats_enable` is off. */
  readonly metricStats: MetricStats | null;
  readonly #settings: DogStatsDSettings;
  readonly #deps: DogStatsDDeps;
  readonly #log: Log;
  readonly #udp: TransportCounters;
  readonly #uds: TransportCounters;
  readonly #dropped: CounterVec;
  readonly #parseErrors: Counter[];
  #sockets: DatagramSocket[] = [];
  /** The listeners by transport, read by the published receive-path figures. */
  readonly #listeners: { udp?: DatagramSocket; uds?: DatagramSocket } = {};
  #lossTimer?: ReturnType<typeof setInterval>;
  readonly #losses: LossReporter;
  /** The reader's and the kernel's drop counts already told, by transport. */
  readonly #lossTold = { udp: { queue: 0, kernel: 0 }, uds: { queue: 0, kernel: 0 } };
  #udpSocket?: DatagramSocket;
  #forwarder?: DatagramSocket;
  #started = false;
  /** The capture under way, if any (`dogstatsd-capture`). */
  #capture?: CaptureWriter;
  #forwardErrorLogged = false;
  #lastErrorCount = 0;
  #lastErrorLog = -Infinity;

  constructor(settings: DogStatsDSettings, deps: DogStatsDDeps) {
    this.#settings = settings;
    this.#deps = deps;
    this.#log = deps.logger.for("dogstatsd");
    const r = deps.registry;
    this.#losses = deps.losses ?? new LossReporter({ registry: r, logger: deps.logger });
    this.parser = new DogStatsDParser(r, settings.parser);
    this.metricStats = settings.metricStats ? new MetricStats() : null;
    const events = dogstatsdServerEvents(r, (t) => {
      const stat = <K extends keyof DatagramStats>(k: K) => () => this.#listeners[t]?.stats()[k];
      return {
        queueBytes: stat("queuedBytes"),
        queueDroppedPackets: stat("queueDroppedDatagrams"),
        queueDroppedBytes: stat("queueDroppedBytes"),
        kernelDrops: stat("kernelDrops"),
        receiveBufferBytes: () => this.#listeners[t]?.receiveBufferSize,
      };
    });
    this.#udp = events.udp;
    this.#uds = events.uds;
    this.#dropped = events.dropped;
    this.#parseErrors = [
      events.metricParseErrors,
      events.eventParseErrors,
      events.serviceCheckParseErrors,
    ];
  }

  /** The bound UDP port (useful with port 0), or 0 when UDP is off. */
  get udpPort(): number {
    return this.#udpSocket?.port ?? 0;
  }

  /** Binds the configured listeners. */
  async start(): Promise<void> {
    const s = this.#settings;
    const { runtime } = this.#deps;
    try {
      if (s.forward.host !== "") {
        this.#forwarder = await runtime.listenUdp(
          s.forward.host.includes(":") ? "::" : "0.0.0.0",
          0,
          { onBatch: () => {}, onError: (e) => this.#forwardFailed(e) },
        );
        this.#sockets.push(this.#forwarder);
      }
      if (s.udpPort === null) this.#log.info("UDP is disabled (dogstatsd_port is 0)");
      else {
        this.#udpSocket = await runtime.listenUdp(s.udpHost, s.udpPort, {
          bufferSize: s.bufferSize,
          receiveBufferSize: s.mainThreadReader ? 0 : this.#receiveBuffer,
          maxQueueBytes: s.queueBytes,
          dedicatedReader: !s.mainThreadReader,
          onBatch: (batch) => this.handleBatch(batch, "udp"),
          onError: (e) => this.#readError(this.#udp, "udp", e),
        });
        this.#sockets.push(this.#udpSocket);
        this.#listeners.udp = this.#udpSocket;
        this.#log.info(
          `Listening for DogStatsD on udp ${s.udpHost}:${this.#udpSocket.port}` +
            this.#checkRcvbuf(this.#udpSocket, "UDP"),
        );
      }
      if (s.socketPath !== "") {
        const uds = await runtime.listenUnixDatagram(s.socketPath, {
          bufferSize: s.bufferSize,
          receiveBufferSize: this.#receiveBuffer,
          maxQueueBytes: s.queueBytes,
          onBatch: (batch) => this.handleBatch(batch, "uds"),
          onError: (e) => this.#readError(this.#uds, "uds", e),
        });
        this.#sockets.push(uds);
        this.#listeners.uds = uds;
        this.#log.info(
          `Listening for DogStatsD on unix socket ${s.socketPath}` +
            this.#checkRcvbuf(uds, "the unix socket"),
        );
      }
    } catch (e) {
      await this.stop();
      throw e;
    }
    this.#lossTimer = setInterval(() => this.#checkLosses(), LOSS_CHECK_MS);
    (this.#lossTimer as { unref?: () => void }).unref?.();
    this.#started = true;
  }

  /** Closes every listener. */
  async stop(): Promise<void> {
    clearInterval(this.#lossTimer);
    this.#checkLosses();
    for (const socket of this.#sockets) socket.close();
    this.#sockets = [];
    delete this.#listeners.udp;
    delete this.#listeners.uds;
    this.#udpSocket = undefined;
    this.#forwarder = undefined;
    this.#started = false;
  }

  healthy(): boolean {
    return this.#started;
  }

  /**
   * Writes every datagram received in the next `durationMs` to a capture file at `path`, as
   * received; resolves when the file is complete. One capture at a time.
   */
  async capture(path: string, durationMs: number): Promise<{ datagrams: number; bytes: number }> {
    if (this.#capture) {
      throw new OutpostError(
        "capture_busy",
        `A capture is already being written to ${this.#capture.path}`,
      );
    }
    const writer = new CaptureWriter(path);
    this.#capture = writer;
    try {
      await new Promise((r) => setTimeout(r, durationMs));
    } finally {
      this.#capture = undefined;
      writer.close();
    }
    return { datagrams: writer.datagrams, bytes: writer.bytes };
  }

  /**
   * Counts, forwards, parses and delivers one read batch of datagrams. Public so that other
   * transports (and benchmarks) can feed the same path.
   */
  handleBatch(batch: Datagram[], transport: "udp" | "uds"): void {
    const items: ParsedItems = { samples: [], events: [], serviceChecks: [] };
    const { bufferSize } = this.#settings;
    const counters = transport === "udp" ? this.#udp : this.#uds;
    const eolRequired = this.#settings.eolRequired[transport];
    for (const { data, truncated } of batch) {
      counters.packets.inc();
      counters.bytes.inc(data.length);
      this.#capture?.write(data);
      if (this.#forwarder) this.#forward(data);
      let packet = data;
      if (truncated || packet.length > bufferSize) {
        // The agent reads into a buffer of dogstatsd_buffer_size, so the tail is lost there;
        // do the same whatever the runtime's own buffer, and count it.
        packet = packet.subarray(0, bufferSize);
        this.#dropped.with("truncated_packet").inc();
      }
      this.parser.parsePacket(packet, items, eolRequired);
    }
    this.#deliver(items);
    this.#logParseErrors();
  }

  #forward(data: Uint8Array): void {
    try {
      this.#forwarder!.send(data, this.#settings.forward.host, this.#settings.forward.port);
    } catch (e) {
      // Bun sends only to IP addresses; a bad address must not stop the packet's parsing.
      this.#forwardFailed(e as Error);
    }
  }

  #forwardFailed(e: Error): void {
    this.#dropped.with("forward_error").inc();
    if (this.#forwardErrorLogged) return;
    this.#forwardErrorLogged = true;
    const { host, port } = this.#settings.forward;
    this.#log.error(
      `Cannot forward packets to ${host}:${port}: ${e.message} (statsd_forward_host must be ` +
        `an IP address on Bun); counting them in ${DOGSTATSD.dropped}.forward_error`,
    );
  }

  #deliver({ samples, events, serviceChecks }: ParsedItems): void {
    const { sink } = this.#deps;
    try {
      // Counted before the sink takes the arrays over.
      if (samples.length > 0) this.metricStats?.record(samples);
      if (samples.length > 0) sink.addSamples(samples);
      for (const e of events) sink.addEvent(e);
      for (const c of serviceChecks) sink.addServiceCheck(c);
    } catch (e) {
      this.#dropped.with("sink_error").inc(samples.length + events.length + serviceChecks.length);
      this.#log.error(`Cannot hand parsed items to the aggregator: ${(e as Error).message}`);
    }
  }

  #logParseErrors(): void {
    let total = 0;
    for (const c of this.#parseErrors) total += c.value;
    if (total === this.#lastErrorCount) return;
    const newErrors = total - this.#lastErrorCount;
    this.#lastErrorCount = total;
    const last = this.parser.recentErrors.list().at(-1);
    if (!last) return;
    const line = `${newErrors} DogStatsD message(s) could not be parsed; last: ${last.code}` +
      ` in ${JSON.stringify(last.message)}`;
    const now = Date.now();
    if (now - this.#lastErrorLog >= PARSE_ERROR_LOG_INTERVAL_MS) {
      this.#lastErrorLog = now;
      this.#log.warn(`${line} (logged at most once a minute; see ${DOGSTATSD.recentParseErrors})`);
    } else if (this.#log.enabled("debug")) this.#log.debug(line);
  }

  #readError(counters: TransportCounters, transport: string, e: Error): void {
    counters.packetReadingErrors.inc();
    this.#log.debug(`Cannot read a ${transport} packet: ${e.message}`);
  }

  /** The receive buffer to ask for: the configured one, else the default. */
  get #receiveBuffer(): number {
    return this.#settings.receiveBufferSize || DEFAULT_RECEIVE_BUFFER_BYTES;
  }

  /**
   * Warns when a configured receive buffer could not be set (the default one failing is
   * expected on Deno); returns the granted size for the log.
   */
  #checkRcvbuf(socket: DatagramSocket, what: string): string {
    if (socket.receiveBufferSize !== undefined) {
      return ` (receive buffer ${socket.receiveBufferSize} bytes for ${this.#receiveBuffer} asked)`;
    }
    if (this.#settings.receiveBufferSize > 0) {
      this.#log.warn(
        `dogstatsd_so_rcvbuf is not supported for ${what} on ${this.#deps.runtime.name}; ` +
          "the OS default receive buffer is used",
      );
    }
    return "";
  }

  /**
   * Tells the datagrams lost before parsing since the last check: dropped by the reader (the
   * parser fell behind) or by the kernel (the receive buffer was full). Both are counters the
   * listeners keep, so they are read every LOSS_CHECK_MS and at stop.
   */
  #checkLosses(): void {
    for (const t of ["udp", "uds"] as const) {
      const listener = this.#listeners[t];
      const st = listener?.stats();
      if (!st) continue;
      const told = this.#lossTold[t];
      const kernel = st.kernelDrops ?? 0;
      this.#losses.lost({
        component: "dogstatsd",
        reason: "reader_queue_full",
        count: st.queueDroppedDatagrams - told.queue,
        unit: "datagrams",
        where: t,
        detail: "the parser fell behind; dogstatsd_queue_max_bytes",
      });
      this.#losses.lost({
        component: "dogstatsd",
        reason: "receive_buffer_full",
        count: kernel - told.kernel,
        unit: "datagrams",
        where: t,
        detail: `dropped by the kernel; dogstatsd_so_rcvbuf, granted ${
          listener?.receiveBufferSize ?? "the OS default"
        } bytes`,
      });
      told.queue = st.queueDroppedDatagrams;
      told.kernel = kernel;
    }
  }
}

/** Builds the DogStatsD server from its settings; null when `use_dogstatsd` is false. */
export function buildDogstatsd(
  settings: DogStatsDSettings,
  deps: DogStatsDDeps,
): Built<DogStatsDServer> | null {
  if (settings.enabled === false) return null;
  const server = new DogStatsDServer(settings, deps);
  return { component: server, healthcheck: () => server.healthy() };
}
