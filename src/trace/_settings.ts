/**
 * The trace component's settings: where the receiver listens, its limits, where traces,
 * stats and the proxied products go.
 */
import type { Config } from "../config/mod.ts";
import { type DomainKeys, mergeDomains } from "../forwarder/mod.ts";
import { BUILD } from "../version.ts";
import { type TraceProcessingSettings, traceProcessingSettings } from "./_process.ts";

/** Where one proxied product goes: a base URL and its domains' API keys. */
export interface ProxyTarget {
  /** URL of the main endpoint: scheme and host, with the path except for telemetry, whose
   * path is the request's after `/telemetry/proxy`. */
  url: string;
  /** More `[full URL, API keys]` the body is copied to; only the main answer is returned. */
  additional: [string, string[]][];
}

/** Resolved settings of the trace component (see {@linkcode traceSettings}). */
export interface TraceSettings {
  /** `apm_config.enabled`. */
  enabled: boolean;
  /** What the processing core reads (normalization, obfuscation, sampling, stats). */
  processing: TraceProcessingSettings;
  /** TCP address; port null when `receiver_port` is 0. */
  host: string;
  port: number | null;
  /** Unix socket path; "" for none. */
  socket: string;
  /** `receiver_timeout` in ms: the longest a request body may take to arrive. */
  receiverTimeoutMs: number;
  /** `max_payload_size`: bodies over it get 413. */
  maxRequestBytes: number;
  /** Concurrent decoders (`decoders`, 0 resolved to max(1, cores / 2)). */
  decoders: number;
  /** How long a request waits for a decoder slot. */
  decoderTimeoutMs: number;
  /** Writer tick in ms (`flush_period`). */
  flushPeriodMs: number;
  /** `max_events_per_second`, which `/info` reports. */
  maxEPS: number;
  /** Where traces and stats go (the forwarder's `traces` pipeline). */
  domains: DomainKeys[];
  /** The main API key (the proxies add it). */
  apiKey: string;
  /** The site the EVP proxy builds `<subdomain>.<site>` from. */
  site: string;
  /** The DogStatsD port tracers are told in `/info` (0 when off). */
  statsdPort: number;
  /** Whether DogStatsD runs, for the `/dogstatsd/v1|v2/proxy` routes. */
  dogstatsdEnabled: boolean;
  evp: {
    enabled: boolean;
    maxPayloadBytes: number;
    /** "" = `https://<subdomain>.<site>`; else every EVP request goes to this host. */
    url: string;
    additional: [string, string[]][];
  };
  telemetryEnabled: boolean;
  /** Proxied products by name. */
  proxies: {
    telemetry: ProxyTarget;
    profiling: ProxyTarget;
    debugger: ProxyTarget;
    /** `/debugger/v1/input`, which the Agent sends to the logs intake. */
    debuggerLogs: ProxyTarget;
    symdb: ProxyTarget;
    pipelineStats: ProxyTarget;
  };
}

const trim = (u: string) => u.replace(/\/+$/, "");

/** How many decoders `decoders: 0` means: half the cores, at least one (the Agent's default). */
export function defaultDecoders(cores: number): number {
  return Math.max(1, Math.floor(cores / 2));
}

/**
 * Reads the trace settings from the config.
 *
 * @example The intake URL follows the site
 * ```ts
 * import * as v from "valibot";
 * import { configSchema } from "../config/mod.ts";
 * import { traceSettings } from "./_settings.ts";
 * const s = traceSettings(v.parse(configSchema, { api_key: "k", site: "datadoghq.eu" }));
 * console.log(s.domains[0].url); // "https://trace.agent.datadoghq.eu"
 * ```
 */
export function traceSettings(
  config: Config,
  cores = navigator.hardwareConcurrency ?? 2,
): TraceSettings {
  const apm = config.apm_config;
  const site = config.site.replace(/\.$/, "");
  const traceUrl = trim(apm.apm_dd_url || `https://trace.agent.${site}`);
  const key = config.api_key;
  const target = (url: string, more: Record<string, string[]> = {}, path = ""): ProxyTarget => ({
    url: trim(url) + path,
    additional: Object.entries(more).map(([u, keys]) => [trim(u) + path, keys]),
  });
  const debuggerUrl = `https://debugger-intake.${site}/api/v2/debugger`;
  return {
    enabled: apm.enabled,
    processing: traceProcessingSettings(config),
    host: apm.apm_non_local_traffic ? "0.0.0.0" : apm.receiver_host,
    port: apm.receiver_port === 0 ? null : apm.receiver_port,
    socket: apm.receiver_socket,
    receiverTimeoutMs: apm.receiver_timeout * 1000,
    maxRequestBytes: apm.max_payload_size,
    decoders: apm.decoders || defaultDecoders(cores),
    decoderTimeoutMs: apm.decoder_timeout,
    flushPeriodMs: apm.flush_period * 1000,
    maxEPS: apm.max_events_per_second,
    domains: mergeDomains(
      [[traceUrl, [key]], ...Object.entries(apm.additional_endpoints)],
      BUILD.agentVersion,
    ),
    apiKey: key,
    site,
    statsdPort: config.use_dogstatsd ? config.dogstatsd_port : 0,
    dogstatsdEnabled: config.use_dogstatsd,
    evp: {
      enabled: apm.evp_proxy_config.enabled,
      maxPayloadBytes: apm.evp_proxy_config.max_payload_size,
      url: trim(apm.evp_proxy_config.dd_url),
      additional: Object.entries(apm.evp_proxy_config.additional_endpoints).map((
        [u, k],
      ) => [trim(u), k]),
    },
    telemetryEnabled: apm.telemetry.enabled,
    proxies: {
      telemetry: target(
        apm.telemetry.dd_url || `https://instrumentation-telemetry-intake.${site}`,
        apm.telemetry.additional_endpoints,
      ),
      profiling: target(
        apm.profiling_dd_url || `https://intake.profile.${site}/api/v2/profile`,
        apm.profiling_additional_endpoints,
      ),
      debugger: target(apm.debugger_dd_url || debuggerUrl),
      debuggerLogs: target(apm.debugger_dd_url || `https://http-intake.logs.${site}/api/v2/logs`),
      symdb: target(apm.symdb_dd_url || debuggerUrl),
      pipelineStats: target(traceUrl, apm.additional_endpoints, "/api/v0.1/pipeline_stats"),
    },
  };
}
