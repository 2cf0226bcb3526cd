/** Keys of the forwarder component (Datadog Agent names and defaults unless noted). */
import * as v from "valibot";
import { bool, int, num, size, str } from "../_kinds.ts";

export const forwarderKeys = {
  /** Total per-request timeout, seconds. */
  forwarder_timeout: int(20, 1),
  forwarder_num_workers: int(1, 1),
  forwarder_max_concurrent_requests: int(10, 1),
  forwarder_high_prio_buffer_size: int(100, 1),
  forwarder_low_prio_buffer_size: int(100, 1),
  /** Seconds to wait on stop for in-flight and queued sends before persisting the rest. */
  forwarder_stop_timeout: int(2, 0),
  forwarder_backoff_base: num(2),
  forwarder_backoff_factor: num(2),
  forwarder_backoff_max: num(64),
  forwarder_recovery_interval: int(2, 1),
  forwarder_recovery_reset: bool(false),
  /** Payload bytes kept in memory per domain before the oldest spill to disk. */
  forwarder_retry_queue_payloads_max_size: size(15 * 1024 ** 2),
  /** Bytes of retry files on disk per domain; 0 disables the disk queue. outpost: on by default. */
  forwarder_storage_max_size_in_bytes: size(512 * 1024 ** 2),
  forwarder_storage_max_disk_ratio: num(0.8),
  forwarder_outdated_file_in_days: int(10, 1),
  /** Where retry files go. @default `<run_path>/transactions_to_retry` */
  forwarder_storage_path: str(""),
  forwarder_flush_to_disk_mem_ratio: num(0.5),
  /**
   * outpost addition: retries that waited this many seconds go to disk even when memory has
   * room, so a crash or power cut during an outage loses at most this much; 0 = only when
   * memory is full or on stop.
   */
  forwarder_storage_spill_after_seconds: num(30),
  /** Minutes between API key validations. */
  forwarder_apikey_validation_interval: int(60, 1),
  /** outpost addition: a PEM file of extra trusted CA certificates for the intake. */
  forwarder_ca_bundle: str(""),
  allow_arbitrary_tags: bool(false),
  no_proxy_nonexact_match: bool(false),
  use_proxy_for_cloud_metadata: bool(false),
  convert_dd_site_fqdn: v.optional(v.object({ enabled: bool(true) }), {}),
};
