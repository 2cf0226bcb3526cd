/**
 * The logs component: the sources half (tailers, listeners, processing) feeding the sender,
 * the sender feeding the forwarder's `logs` pipeline, and every delivered file batch acked to
 * the auditor, which advances the registry. Also the status section and `stream-logs`.
 */
import type { ApiArea } from "../api/mod.ts";
import type { Built, Component } from "../component.ts";
import type { Config } from "../config/mod.ts";
import type { Delivery, Payload } from "../forwarder/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { Runtime } from "../runtime/types.ts";
import type { StatusProvider } from "../status/mod.ts";
import type { Registry } from "../telemetry/mod.ts";
import type { LogMessage, LogSource, Origin } from "./_message.ts";
import { LogsSender } from "./_sender.ts";
import { type LogsSenderSettings, logsSenderSettings } from "./_sender_settings.ts";
import { logsStatusProvider } from "./_status.ts";
import { StreamHub, streamLogsApiArea } from "./_stream.ts";

/** Settings of {@linkcode buildLogs}. */
export interface LogsComponentSettings {
  /** `logs_enabled`. */
  enabled: boolean;
  sender: LogsSenderSettings;
  /** `logs_config.stop_grace_period` in ms (bounded by the agent's own stop deadline). */
  stopGraceMs: number;
}

/**
 * Most of the agent's stop deadline the sender may spend draining: the registry must still be
 * written after it.
 */
const MAX_STOP_GRACE_MS = 10_000;

/**
 * Reads `logs_enabled` and the delivery keys.
 *
 * @example
 * ```ts
 * import { configDefaults } from "../config/mod.ts";
 * import { logsComponentSettings } from "./_component.ts";
 * console.assert(logsComponentSettings(configDefaults(), "7.60.0").enabled === false);
 * ```
 */
export function logsComponentSettings(
  config: Config,
  version: string,
  serverless = false,
): LogsComponentSettings {
  return {
    enabled: config.logs_enabled,
    sender: logsSenderSettings(config, version, serverless),
    stopGraceMs: Math.min(config.logs_config.stop_grace_period * 1000, MAX_STOP_GRACE_MS),
  };
}

/** The sources half as the component drives it (`buildLogSources` of this folder). */
export interface LogSourcesHandle {
  start(): Promise<void>;
  stop(): Promise<void>;
  sources(): LogSource[];
  /** Warnings of the sources (e.g. the open-files limit reached). */
  warnings(): string[];
}

/** What the sources half needs from the sending half. */
export interface LogsOutput {
  /** One processed message, in order per origin. */
  output(m: LogMessage): void;
  /** False while the sender's queue is full: tailers stop reading. */
  canAccept(): boolean;
}

/** What {@linkcode buildLogs} needs besides its settings. */
export interface LogsDeps {
  runtime: Runtime;
  registry: Registry;
  logger: Logger;
  /** The forwarder's `submit`. */
  submit: (payload: Payload) => Delivery;
  /** The registry writer: offsets advance only through `ack`. */
  auditor: { start(): Promise<void>; stop(): Promise<void>; ack(origins: Origin[]): void };
  /** Builds the sources half around the sending half. */
  sources: (out: LogsOutput) => LogSourcesHandle;
  /** Configuration errors found while reading the `logs:` sections. @default [] */
  configErrors?: string[];
  /** Configuration warnings of the `logs:` sections. @default [] */
  configWarnings?: string[];
}

/** The logs component. */
export interface LogsComponent extends Component {
  /** Seals open batches and waits until the intake answered for them (Lambda mode, tests). */
  flush(): Promise<void>;
  /**
   * Takes a message processed outside the conf.d sources (the Lambda extension's telemetry
   * records): sent like a listener's, never acked to the registry.
   */
  push(m: LogMessage): void;
  sources(): LogSource[];
  readonly statusProvider: StatusProvider;
  /** `POST /agent/stream-logs`. */
  readonly apiArea: ApiArea;
}

/**
 * Builds the logs component; null when `logs_enabled` is false. Start order: auditor, sender,
 * sources; stop: sources, then the sender drains within the grace period, then the auditor
 * writes its last state.
 *
 * @example
 * ```ts ignore
 * const logs = buildLogs(settings, { runtime, registry, logger, submit, auditor,
 *   sources: (out) => buildLogSources(logsSettings(config, configFile), { ...deps, ...out }) });
 * ```
 */
export function buildLogs(
  settings: LogsComponentSettings,
  deps: LogsDeps,
): Built<LogsComponent> | null {
  if (!settings.enabled) return null;
  const { runtime, registry, logger, auditor, configErrors = [], configWarnings = [] } = deps;
  const hub = new StreamHub();
  const sender = new LogsSender(settings.sender, {
    runtime,
    registry,
    logger,
    submit: deps.submit,
    ack: (origins) => auditor.ack(origins),
  });
  const output = (m: LogMessage) => {
    if (hub.active) hub.publish(m);
    sender.add(m);
  };
  const sources = deps.sources({ output, canAccept: () => sender.canAccept() });
  let started = false;
  const component: LogsComponent = {
    name: "logs",
    async start() {
      await auditor.start();
      sender.start();
      await sources.start();
      started = true;
    },
    async stop() {
      started = false;
      await sources.stop();
      await sender.stop(settings.stopGraceMs);
      await auditor.stop();
    },
    flush: () => sender.flush(),
    push: output,
    sources: () => sources.sources(),
    statusProvider: logsStatusProvider(registry, {
      settings: settings.sender,
      sources: () => sources.sources(),
      errors: () => configErrors,
      warnings: () => [...configWarnings, ...sources.warnings()],
    }),
    apiArea: streamLogsApiArea(hub),
  };
  return { component, healthcheck: () => started };
}
