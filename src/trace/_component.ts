/**
 * The trace component: the receiver on `receiver_host:receiver_port` and the unix socket,
 * the processing core between it and the writers, the periodic flushes, and an explicit
 * `flush()` that resolves once what was buffered is delivered or stored.
 */
import type { Built, Component } from "../component.ts";
import type { Delivery, Payload } from "../forwarder/mod.ts";
import type { HttpClient } from "../http/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { HttpServer, Runtime } from "../runtime/types.ts";
import type { StatusProvider } from "../status/mod.ts";
import { apmEvents, type Registry } from "../telemetry/mod.ts";
import { BUILD } from "../version.ts";
import { infoDocument } from "./_info.ts";
import { mountProxies } from "./_proxy.ts";
import { createReceiverApp, type DogstatsdFeed, type ReceivedHints } from "./_receiver.ts";
import type { TraceSettings } from "./_settings.ts";
import type { ClientStatsPayload, StatsPayload, TracerPayload } from "./_span.ts";
import { apmStatusProvider } from "./_status.ts";
import { TraceWriter } from "./_writer.ts";
import { StatsWriter } from "./_writer_stats.ts";

/** The Agent's stats bucket: agent-computed stats are flushed every 10 s. */
export const STATS_FLUSH_MS = 10_000;

/** The hints of spans the agent made: nothing computed by a client. */
const AGENT_MADE: ReceivedHints = {
  computedTopLevel: false,
  computedStats: false,
  droppedP0Traces: 0,
  droppedP0Spans: 0,
};

/** What the component needs from the processing core (`TraceProcessor`). */
export interface TraceProcessing {
  process(
    payload: TracerPayload,
    hints: ReceivedHints,
  ): { kept: TracerPayload | null; spans: number; droppedSpans: number };
  rateByService(): Record<string, number>;
  flushStats(force: boolean): StatsPayload | null;
  processClientStats(payload: ClientStatsPayload): ClientStatsPayload;
}

/** Everything {@linkcode buildTrace} needs besides its settings. */
export interface TraceDeps {
  runtime: Runtime;
  registry: Registry;
  logger: Logger;
  /** The shared outbound client, for the proxies. */
  http: HttpClient;
  hostname: string;
  /** The forwarder's `submit`; payloads name the `traces` pipeline. */
  submit: (payload: Payload) => Delivery;
  processor: TraceProcessing;
  /** DogStatsD's batch path, or null when DogStatsD is off (`/dogstatsd/*` then answers 503). */
  dogstatsd: DogstatsdFeed | null;
}

/** The trace component. */
export interface TraceComponent extends Component {
  /** The bound TCP port once started (0 when TCP is off). */
  readonly port: number;
  /** The "APM Agent" status section. */
  readonly statusProvider: StatusProvider;
  /** Hands what is buffered (traces, stats) to the forwarder and waits until it is delivered or stored. */
  flush(): Promise<void>;
  /**
   * Processes, samples and buffers spans made inside the agent (the Lambda `aws.lambda` span)
   * as if a tracer had sent them.
   */
  addTraces(payload: TracerPayload): void;
  /** The sampling rates the receiver answers tracers (`rate_by_service`). */
  rateByService(): Record<string, number>;
}

/**
 * Builds the trace component, or null when `apm_config.enabled` is false.
 *
 * @example
 * ```ts ignore
 * const trace = buildTrace(traceSettings(config), { runtime, registry, logger, http, hostname,
 *   submit: (p) => forwarder.component.submit(p), processor, dogstatsd: dogstatsd?.component ?? null });
 * await trace?.component.start();
 * ```
 */
export function buildTrace(settings: TraceSettings, deps: TraceDeps): Built<TraceComponent> | null {
  if (!settings.enabled) return null;
  const { runtime, registry, processor, hostname } = deps;
  const log = deps.logger.for("trace");
  const servers: HttpServer[] = [];
  const addresses: string[] = [];
  const timers: ReturnType<typeof setInterval>[] = [];
  let clientStats: ClientStatsPayload[] = [];
  let started = false;

  const counters = apmEvents(registry, {
    receiver: () => ({ addresses, rate_by_service: processor.rateByService() }),
  });
  const writer = new TraceWriter({
    counters,
    submit: deps.submit,
    hostname,
    env: settings.processing.defaultEnv,
    targetTPS: settings.processing.targetTPS,
    errorTPS: settings.processing.errorTPS,
  });
  const statsWriter = new StatsWriter({ counters, submit: deps.submit });
  const info = infoDocument(settings);
  const app = createReceiverApp({
    settings,
    info,
    counters,
    dogstatsd: deps.dogstatsd,
    sink: {
      traces: addTraces,
      clientStats(payload) {
        clientStats.push(processor.processClientStats(payload));
      },
      rateByService: () => processor.rateByService(),
    },
  });
  mountProxies(app, { settings, http: deps.http, counters, hostname });
  app.onError((e, c) => {
    log.error(`Cannot handle ${c.req.method} ${c.req.path}: ${e.message}`);
    return c.text(`internal error: ${e.message}`, 500);
  });

  /** Hands finished stats buckets (all with `force`) and the tracers' stats to the writer. */
  function writeStats(force: boolean): void {
    statsWriter.write(processor.flushStats(force));
    if (clientStats.length === 0) return;
    const stats: StatsPayload = {
      agentHostname: hostname,
      agentEnv: settings.processing.defaultEnv,
      stats: clientStats,
      agentVersion: BUILD.agentVersion,
      clientComputed: true,
      splitPayload: false,
    };
    clientStats = [];
    statsWriter.write(stats);
  }

  function addTraces(payload: TracerPayload, hints: ReceivedHints = AGENT_MADE): void {
    const { kept } = processor.process(payload, hints);
    if (kept) writer.add(kept);
  }

  const component: TraceComponent = {
    name: "trace",
    get port() {
      return servers.find((s) => s.port > 0)?.port ?? 0;
    },
    statusProvider: apmStatusProvider({
      counters,
      addresses: () => addresses,
      rateByService: () => processor.rateByService(),
      bufferedSpans: () => writer.bufferedSpans,
    }),
    async start() {
      // Like the Agent's separate trace-agent process, a receiver that cannot bind (port taken)
      // leaves the rest of the agent running: logged, and the component reports unhealthy.
      let failed = false;
      const listen = async (what: string, bind: () => Promise<HttpServer>) => {
        try {
          const server = await bind();
          servers.push(server);
          addresses.push(what.endsWith(":0") ? what.replace(/0$/, String(server.port)) : what);
        } catch (e) {
          failed = true;
          log.error(`Cannot listen for traces on ${what}: ${(e as Error).message}`);
        }
      };
      if (settings.port !== null) {
        await listen(
          `${settings.host}:${settings.port}`,
          () => runtime.serve({ hostname: settings.host, port: settings.port! }, app.fetch),
        );
      }
      if (settings.socket) {
        // Writable by every local user, as the Agent's socket: tracers run as other users.
        await listen(
          settings.socket,
          () => runtime.serve({ path: settings.socket, mode: 0o722 }, app.fetch),
        );
      }
      timers.push(setInterval(() => writer.tick(), settings.flushPeriodMs));
      timers.push(setInterval(() => writeStats(false), STATS_FLUSH_MS));
      started = !failed;
      if (addresses.length) log.info(`Listening for traces on ${addresses.join(" and ")}`);
    },
    async stop() {
      started = false;
      for (const t of timers) clearInterval(t);
      timers.length = 0;
      await Promise.all(servers.map((s) => s.close()));
      servers.length = 0;
      addresses.length = 0;
      // Handed over, not awaited: the forwarder stops after this component and stores what
      // it could not deliver.
      writer.tick();
      writeStats(true);
    },
    addTraces: (payload) => addTraces(payload),
    rateByService: () => processor.rateByService(),
    async flush() {
      writeStats(true);
      await Promise.all([writer.flush(), statsWriter.flush()]);
    },
  };
  return { component, healthcheck: () => started };
}
