/**
 * The forwarder's settings: the only place its config keys are read. Defaults are the config
 * schema's; the proxy, CA, TLS and timeout keys belong to the outbound HTTP client (`src/http`),
 * which the forwarder is given.
 */
import { join } from "node:path";
import type { Config } from "../config/mod.ts";
import { BUILD } from "../version.ts";
import type { BackoffPolicy } from "./_breaker.ts";
import { type DomainKeys, resolveDomains } from "./_endpoints.ts";

/** Resolved forwarder settings (see {@linkcode forwarderSettings}). */
export interface ForwarderSettings {
  /** Every domain with its API keys, the version prefix applied to Datadog hosts. */
  domains: DomainKeys[];
  /**
   * Other pipelines by name (`traces`, `logs`), each with its own domains, filled by the
   * composition root from those components' settings. A payload picks one with
   * `Payload.pipeline`; all share the queues, the disk and the retry loop.
   */
  pipelines?: Record<string, DomainKeys[]>;
  /** Agent version sent in headers and used in domain names. */
  version: string;
  backoff: BackoffPolicy;
  /** `forwarder_storage_path`, else `<run_path>/transactions_to_retry`. */
  storageRoot: string;
  storageMaxBytes: number;
  storageMaxDiskRatio: number;
  outdatedDays: number;
  retryQueueBytes: number;
  flushToDiskRatio: number;
  highPrioSize: number;
  lowPrioSize: number;
  /** `forwarder_num_workers × forwarder_max_concurrent_requests` per domain. */
  concurrency: number;
  spillAfterMs: number;
  apiKeyValidationIntervalMs: number;
  /** `forwarder_stop_timeout`: how long `stop` keeps sending before it persists the rest. */
  stopTimeoutMs: number;
  /** Adds `Allow-Arbitrary-Tag-Value: true` to every request. */
  allowArbitraryTags: boolean;
}

/** The backoff and circuit breaker keys (`forwarder_backoff_*`, `forwarder_recovery_*`). */
export function backoffSettings(config: Config): BackoffPolicy {
  return {
    base: config.forwarder_backoff_base,
    factor: config.forwarder_backoff_factor,
    max: config.forwarder_backoff_max,
    recoveryInterval: config.forwarder_recovery_interval,
    recoveryReset: config.forwarder_recovery_reset,
  };
}

/** The root of the disk queue: `forwarder_storage_path`, else under `run_path`. */
function storageRoot(config: Config): string {
  return config.forwarder_storage_path || join(config.run_path, "transactions_to_retry");
}

/** The directory of one domain's retry files. */
export function storageDir(config: Config, domain: string): string {
  return domainDir(storageRoot(config), domain);
}

/** One domain's directory under the storage root: its URL made a file name. */
export function domainDir(root: string, domain: string): string {
  return join(root, domain.replace(/^([a-z]+):\/\//, "$1_").replace(/[^A-Za-z0-9._-]/g, "_"));
}

/**
 * Reads the forwarder's keys.
 *
 * @example
 * ```ts
 * import { configDefaults } from "../config/mod.ts";
 * import { forwarderSettings } from "./_settings.ts";
 * const s = forwarderSettings({ ...configDefaults(), api_key: "k" }, "7.60.0");
 * console.log(s.domains[0].url); // https://7-60-0-app.agent.datadoghq.com.
 * ```
 */
export function forwarderSettings(
  config: Config,
  version: string = BUILD.agentVersion,
): ForwarderSettings {
  return {
    domains: resolveDomains(config, version),
    version,
    backoff: backoffSettings(config),
    storageRoot: storageRoot(config),
    storageMaxBytes: config.forwarder_storage_max_size_in_bytes,
    storageMaxDiskRatio: config.forwarder_storage_max_disk_ratio,
    outdatedDays: config.forwarder_outdated_file_in_days,
    retryQueueBytes: config.forwarder_retry_queue_payloads_max_size,
    flushToDiskRatio: config.forwarder_flush_to_disk_mem_ratio,
    highPrioSize: config.forwarder_high_prio_buffer_size,
    lowPrioSize: config.forwarder_low_prio_buffer_size,
    concurrency: config.forwarder_num_workers * config.forwarder_max_concurrent_requests,
    spillAfterMs: config.forwarder_storage_spill_after_seconds * 1000,
    apiKeyValidationIntervalMs: config.forwarder_apikey_validation_interval * 60_000,
    stopTimeoutMs: config.forwarder_stop_timeout * 1000,
    allowArbitraryTags: config.allow_arbitrary_tags,
  };
}
