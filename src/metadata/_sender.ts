/**
 * Sends the host metadata payload at start and then every interval (1800 s, or the `host`
 * entry of `metadata_providers` when it is within 300–14400 s).
 */
import { alwaysHealthy, type Built, type Component } from "../component.ts";
import type { Config } from "../config/mod.ts";
import type { Log } from "../log/mod.ts";
import { metadataEvents, type Registry } from "../telemetry/mod.ts";
import type { HostMetadata, HostPayload } from "./_payload.ts";

/** Default interval between two host metadata payloads, in seconds. */
export const HOST_METADATA_INTERVAL_S = 1800;
const MIN_INTERVAL_S = 300;
const MAX_INTERVAL_S = 14400;

/**
 * What the forwarder is handed. `storable: false` because the payload carries the API key,
 * so it must never reach the disk-backed retry queue.
 */
export interface MetadataSubmission {
  route: "/intake/";
  payload: HostPayload;
  storable: false;
}

/** Delivers one submission; a rejection is logged and counted, never fatal. */
export type SendMetadata = (submission: MetadataSubmission) => Promise<void>;

/** Timers, injectable so tests can fire the interval without waiting. */
export interface Timers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const GLOBAL_TIMERS: Timers = {
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
};

/** Settings of the host metadata sender (see {@linkcode hostMetadataSettings}). */
export interface HostMetadataSettings {
  /** Seconds between two payloads. */
  intervalS: number;
}

/** What the host metadata sender needs besides its settings. */
export interface HostMetadataDeps {
  metadata: HostMetadata;
  send: SendMetadata;
  log: Log;
  registry: Registry;
  /** @default the global timers */
  timers?: Timers;
  /** Awaited before the first payload is built (the FQDN read in the background). */
  ready?: Promise<unknown>;
}

/**
 * Reads the interval of the `host` provider in `metadata_providers`: its configured value when
 * within 300–14400 s, otherwise the default (with a warning for an out-of-range value).
 */
export function hostMetadataSettings(
  config: Pick<Config, "metadata_providers">,
  log?: Log,
): HostMetadataSettings {
  const entry = config.metadata_providers.find((p) => p.name === "host");
  if (!entry) return { intervalS: HOST_METADATA_INTERVAL_S };
  if (entry.interval < MIN_INTERVAL_S || entry.interval > MAX_INTERVAL_S) {
    log?.warn(
      `Config key "metadata_providers" host interval ${entry.interval} is outside ${MIN_INTERVAL_S}-${MAX_INTERVAL_S} s: using ${HOST_METADATA_INTERVAL_S}`,
    );
    return { intervalS: HOST_METADATA_INTERVAL_S };
  }
  return { intervalS: entry.interval };
}

/**
 * Builds the host metadata sender: one payload at start, then one per interval. Counts into `metadata.host_payloads_sent`
 * and `metadata.host_payload_errors`, and publishes `metadata.host_last_sent` (ms since epoch).
 *
 * @example Send at start, then every 900 s
 * ```ts
 * import assert from "node:assert/strict";
 * import { configDefaults } from "../config/mod.ts";
 * import { createLogger } from "../log/mod.ts";
 * import { Registry } from "../telemetry/mod.ts";
 * import { buildHostMetadata, HostMetadata } from "./mod.ts";
 * import { type MetadataSubmission } from "./_sender.ts";
 * const hostname = { hostname: "edge-1", provider: "configuration", osHostname: "edge-1", fqdn: "edge-1", errors: {} } as const;
 * const sent: MetadataSubmission[] = [];
 * const { component } = buildHostMetadata({ intervalS: 900 }, {
 *   metadata: new HostMetadata({ config: configDefaults(), configFile: null, hostname }),
 *   send: async (s) => void sent.push(s),
 *   log: createLogger().for("metadata"),
 *   registry: new Registry(),
 * });
 * await component.start();
 * await component.stop();
 * assert.equal(sent[0].payload.internalHostname, "edge-1");
 * ```
 */
export function buildHostMetadata(
  settings: HostMetadataSettings,
  deps: HostMetadataDeps,
): Built<HostMetadataComponent> {
  const { metadata, send, log, registry, timers = GLOBAL_TIMERS } = deps;
  const { intervalS } = settings;
  let lastSent = 0;
  const { hostPayloadsSent: sent, hostPayloadErrors: failed } = metadataEvents(registry, {
    hostLastSent: () => lastSent,
  });
  let handle: unknown;

  async function sendOnce(): Promise<void> {
    try {
      await deps.ready;
      await send({ route: "/intake/", payload: metadata.getPayload(), storable: false });
      sent.inc();
      lastSent = Date.now();
    } catch (e) {
      failed.inc();
      log.warn(`Cannot send host metadata: ${(e as Error).message}`);
    }
  }

  const component: HostMetadataComponent = {
    name: "host-metadata",
    intervalS,
    async start() {
      // Not awaited: a slow intake must not hold up the agent's start.
      void sendOnce();
      handle = timers.setInterval(() => void sendOnce(), intervalS * 1000);
    },
    async stop() {
      timers.clearInterval(handle);
    },
  };
  return { component, healthcheck: alwaysHealthy };
}

/** The host metadata sender as a component; `intervalS` is its period. */
export interface HostMetadataComponent extends Component {
  readonly intervalS: number;
}
