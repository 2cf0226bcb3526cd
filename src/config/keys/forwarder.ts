/** Keys of the forwarder component (Datadog Agent names and defaults unless noted). */
import * as v from "valibot";
import { bool, DAY, GiB, HOUR, int, MiB, num, path, ratio, seconds, size } from "../_kinds.ts";

export const forwarderKeys = {
  /** Total per-request timeout, seconds. */
  forwarder_timeout: seconds(20, 1, HOUR),
  forwarder_num_workers: int(1, 1, 1024),
  forwarder_max_concurrent_requests: int(10, 1, 1024),
  forwarder_high_prio_buffer_size: int(100, 1, 1_000_000),
  forwarder_low_prio_buffer_size: int(100, 1, 1_000_000),
  /** Seconds to wait on stop for in-flight and queued sends before persisting the rest. */
  forwarder_stop_timeout: seconds(2, 0, HOUR),
  /** Seconds; fractions are allowed. */
  forwarder_backoff_base: num(2, 0, HOUR, { above: true }),
  /** The Datadog Agent falls back to 2 below 2; outpost refuses such a value instead. */
  forwarder_backoff_factor: num(2, 2, 1000),
  forwarder_backoff_max: num(64, 0, DAY, { above: true }),
  forwarder_recovery_interval: int(2, 1, 1000),
  forwarder_recovery_reset: bool(false),
  /** Payload bytes kept in memory per domain before the oldest spill to disk. */
  forwarder_retry_queue_payloads_max_size: size(15 * MiB, 64 * GiB),
  /** Bytes of retry files on disk per domain; 0 disables the disk queue. outpost: on by default. */
  forwarder_storage_max_size_in_bytes: size(512 * MiB, 16 * 1024 * GiB),
  forwarder_storage_max_disk_ratio: ratio(0.8),
  forwarder_outdated_file_in_days: int(10, 1, 3650),
  /** Where retry files go. @default `<run_path>/transactions_to_retry` */
  forwarder_storage_path: path(""),
  forwarder_flush_to_disk_mem_ratio: ratio(0.5),
  /**
   * outpost addition: retries that waited this many seconds go to disk even when memory has
   * room, so a crash or power cut during an outage loses at most this much; 0 = only when
   * memory is full or on stop.
   */
  forwarder_storage_spill_after_seconds: num(30, 0, DAY),
  /** Minutes between API key validations. */
  forwarder_apikey_validation_interval: int(60, 1, 7 * 24 * 60),
  /** outpost addition: a PEM file of extra trusted CA certificates for the intake. */
  forwarder_ca_bundle: path(""),
  allow_arbitrary_tags: bool(false),
  no_proxy_nonexact_match: bool(false),
  use_proxy_for_cloud_metadata: bool(false),
  convert_dd_site_fqdn: v.optional(v.object({ enabled: bool(true) }), {}),
};
