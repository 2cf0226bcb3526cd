/**
 * Where and how the logs sender delivers: the intake domains of the `logs` pipeline (reliable,
 * audited) and of `logs-unreliable` (best effort), the batch limits and the compression.
 */
import type { Config } from "../config/mod.ts";
import { type DomainKeys, mergeDomains } from "../forwarder/mod.ts";

/** The forwarder pipeline whose deliveries the auditor waits for. */
export const LOGS_PIPELINE = "logs";
/** The pipeline of `is_reliable: false` endpoints: every batch, nobody waits for it. */
export const LOGS_UNRELIABLE_PIPELINE = "logs-unreliable";

/** Settings of the logs sender (see {@linkcode logsSenderSettings}). */
export interface LogsSenderSettings {
  /** The main intake and the reliable additional endpoints. */
  reliable: DomainKeys[];
  /** Additional endpoints with `is_reliable: false`. */
  unreliable: DomainKeys[];
  /** `logs_config.batch_wait` in ms. */
  batchWaitMs: number;
  /** `logs_config.batch_max_size`: events per batch. */
  batchMaxSize: number;
  /** `logs_config.batch_max_content_size`: uncompressed bytes per batch and per event. */
  batchMaxContentSize: number;
  /** `logs_config.batch_max_concurrent_send`, with 0 meaning 1 (which keeps the order). */
  concurrentSend: number;
  /** `none` when `use_compression` is false. */
  compression: "zstd" | "gzip" | "none";
  /** `zstd_compression_level` (gzip uses zlib's default, 6, as `compression_level` does). */
  zstdLevel: number;
  /** The agent version for `DD-EVP-ORIGIN-VERSION`. */
  version: string;
}

/** `https://host:port`, or `http://` with `logs_no_ssl`; port 443 is left out. */
function hostUrl(host: string, port: number, noSsl: boolean): string {
  const scheme = noSsl ? "http" : "https";
  const h = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return (noSsl && port === 80) || (!noSsl && port === 443)
    ? `${scheme}://${h}`
    : `${scheme}://${h}:${port}`;
}

/**
 * The main logs intake URL: `logs_config.logs_dd_url` (`host:port`), else `logs_config.dd_url`,
 * else `https://agent-http-intake.logs.<site>` (the host agent's prefix; not versioned), or
 * `https://http-intake.logs.<site>` for the Lambda extension (the serverless agents' prefix).
 *
 * @example
 * ```ts
 * import { configDefaults } from "../config/mod.ts";
 * import { logsIntakeUrl } from "./_sender_settings.ts";
 * const c = configDefaults();
 * logsIntakeUrl({ ...c, site: "datadoghq.eu" }); // "https://agent-http-intake.logs.datadoghq.eu"
 * ```
 */
export function logsIntakeUrl(config: Config, serverless = false): string {
  const lc = config.logs_config;
  if (lc.logs_dd_url) {
    const i = lc.logs_dd_url.lastIndexOf(":");
    return hostUrl(lc.logs_dd_url.slice(0, i), Number(lc.logs_dd_url.slice(i + 1)), lc.logs_no_ssl);
  }
  if (lc.dd_url) return lc.dd_url.replace(/\/+$/, "");
  const prefix = serverless ? "http-intake" : "agent-http-intake";
  return `https://${prefix}.logs.${config.site.replace(/\.$/, "")}`;
}

/**
 * Reads the logs delivery keys.
 *
 * @example Dual shipping to an unreliable endpoint
 * ```ts
 * import { configDefaults } from "../config/mod.ts";
 * import { logsSenderSettings } from "./_sender_settings.ts";
 * const c = configDefaults();
 * const s = logsSenderSettings({
 *   ...c,
 *   api_key: "k1",
 *   logs_config: {
 *     ...c.logs_config,
 *     additional_endpoints: [{ api_key: "k2", Host: "logs.example.com", Port: 443, is_reliable: false }],
 *   },
 * }, "7.60.0");
 * console.assert(s.unreliable[0].url === "https://logs.example.com");
 * ```
 */
export function logsSenderSettings(
  config: Config,
  version: string,
  serverless = false,
): LogsSenderSettings {
  const lc = config.logs_config;
  const key = lc.api_key || config.api_key;
  const extra = (reliable: boolean) =>
    lc.additional_endpoints
      .filter((e) => e.is_reliable === reliable)
      .map((e) => [hostUrl(e.Host, e.Port, lc.logs_no_ssl), [e.api_key]] as const);
  return {
    reliable: mergeDomains([[logsIntakeUrl(config, serverless), [key]], ...extra(true)], version),
    unreliable: mergeDomains(extra(false), version),
    batchWaitMs: lc.batch_wait * 1000,
    batchMaxSize: lc.batch_max_size,
    batchMaxContentSize: lc.batch_max_content_size,
    concurrentSend: Math.max(1, lc.batch_max_concurrent_send),
    compression: lc.use_compression ? lc.compression_kind : "none",
    zstdLevel: lc.zstd_compression_level,
    version,
  };
}
