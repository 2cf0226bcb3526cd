/**
 * Keys of log collection (`logs_enabled`, `logs_config.*`), with the Datadog Agent's names and
 * defaults unless noted. A few are accepted for compatibility and do nothing on a host (noted).
 */
import * as v from "valibot";
import {
  bool,
  DAY,
  HOUR,
  int,
  isHost,
  listOf,
  MiB,
  num,
  oneOf,
  path,
  pattern,
  port,
  ratio,
  seconds,
  str,
  STRING,
  text,
  url,
} from "../_kinds.ts";

/** Types of a processing rule, global or per source. */
export const PROCESSING_RULE_TYPES = [
  "exclude_at_match",
  "include_at_match",
  "mask_sequences",
  "multi_line",
] as const;

/**
 * One processing rule as written in YAML. The pattern is only bounded here; whether it compiles
 * (and uses nothing RE2 lacks) is checked when the logs settings are built, naming the rule.
 */
export const processingRuleSchema = v.object({
  type: v.picklist(PROCESSING_RULE_TYPES, `expected one of ${PROCESSING_RULE_TYPES.join(", ")}`),
  name: v.optional(text(256), ""),
  pattern: v.pipe(text(4096), v.minLength(1, "expected a non-empty pattern")),
  replace_placeholder: v.optional(text(4096), ""),
});

/** A dual-shipping destination (`logs_config.additional_endpoints`). */
const additionalEndpoint = v.object({
  api_key: text(1024),
  Host: v.pipe(v.string(STRING), v.check(isHost, "expected a host name or an IP address")),
  Port: v.optional(port(443), 443),
  is_reliable: bool(true),
});

/** `host:port` with an integer port, as `logs_config.logs_dd_url` takes it. */
const HOST_PORT = /^$|^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+):\d{1,5}$/i;

export const logsKeys = {
  /** The master switch of log collection. */
  logs_enabled: bool(false),
  logs_config: v.optional(
    v.object({
      /** Seconds a batch may wait before it is sent. */
      batch_wait: num(5, 0, 60, { above: true }),
      batch_max_size: int(1000, 1, 100_000),
      /** Uncompressed bytes of one batch, and so the largest single event. */
      batch_max_content_size: int(5_000_000, 1, 64 * MiB),
      /** 0 means one request in flight per destination. */
      batch_max_concurrent_send: int(0, 0, 1000),
      input_chan_size: int(100, 1, 100_000),
      message_channel_size: int(100, 1, 100_000),
      use_compression: bool(true),
      compression_kind: oneOf(["zstd", "gzip"] as const, "zstd"),
      zstd_compression_level: int(1, 1, 22),
      compression_level: int(6, 0, 9),
      /** HTTP is the only transport in outpost; these are accepted for compatibility. */
      force_use_http: bool(false),
      use_http: bool(false),
      force_use_tcp: bool(false),
      use_tcp: bool(false),
      /** `host:port` of a proxy or another intake; `""` uses the site's intake. */
      logs_dd_url: pattern("", HOST_PORT, 'expected host:port with an integer port, or ""', 300),
      /** The logs intake URL; `""` uses the site's intake. */
      dd_url: url(""),
      logs_no_ssl: bool(false),
      additional_endpoints: listOf(additionalEndpoint, [], {
        max: 32,
        message: "expected a list of {api_key, Host, Port, is_reliable}",
      }),
      /** Seconds after which connections are recycled; 0 = never. */
      connection_reset_interval: seconds(0, 0, DAY),
      sender_backoff_factor: num(2, 1, 1000),
      sender_backoff_base: num(1, 0, HOUR, { above: true }),
      sender_backoff_max: num(120, 0, DAY, { above: true }),
      sender_recovery_interval: int(2, 1, 1000),
      sender_recovery_reset: bool(false),
      /** A logs-specific API key; `""` uses `api_key`. */
      api_key: str(""),
      /** Files tailed at once, over all sources. */
      open_files_limit: int(500, 1, 100_000),
      /** Seconds between wildcard re-globs and rotation checks. */
      file_scan_period: num(10, 0, HOUR, { above: true }),
      file_wildcard_selection_mode: oneOf(["by_name", "by_modification_time"] as const, "by_name"),
      /** Where `registry.json` lives; `""` is `run_path`. */
      run_path: path(""),
      /** Hours after which registry entries of files no longer tailed are purged. */
      auditor_ttl: int(23, 1, 24 * 365),
      /** Always atomic in outpost (temp file, fsync, rename); accepted for compatibility. */
      atomic_registry_write: bool(true),
      /**
       * Lambda: the Telemetry API types sent as logs, space-separated among `platform`,
       * `function` and `extension`; empty is all three (the Go serverless agent's).
       */
      lambda_logs_type: str("", 64),
      processing_rules: listOf(processingRuleSchema, [], {
        max: 256,
        message: "expected a list of {type, name, pattern, replace_placeholder}",
      }),
      /** Longest line or multi-line event; longer content is cut with `...TRUNCATED...`. */
      max_message_size_bytes: int(256_000, 64, 16 * MiB),
      /** Tag truncated events with `truncated:<reason>`. */
      tag_truncated_logs: bool(false),
      /** Read buffer of TCP listeners and the largest UDP datagram kept. */
      frame_size: int(9000, 64, 16 * MiB),
      /** Seconds a rotated file is still read before what is left is counted as missed. */
      close_timeout: seconds(60, 0, DAY),
      /** Milliseconds of silence after which a pending multi-line event is sent. */
      aggregation_timeout: int(1000, 1, HOUR * 1000),
      /** Seconds spent draining on stop. */
      stop_grace_period: seconds(30, 0, HOUR),
      /** Group lines into events by leading timestamps (A.3.3). */
      auto_multi_line_detection: bool(false),
      /** More patterns that start an event under auto detection (beside the timestamps). */
      auto_multi_line_extra_patterns: listOf(text(4096), [], { max: 100 }),
      /** The legacy (v1) detector's sampling; accepted, outpost implements the v2 subset. */
      auto_multi_line_default_sample_size: int(500, 1, 100_000),
      auto_multi_line_default_match_timeout: seconds(30, 1, HOUR),
      auto_multi_line_default_match_threshold: ratio(0.48),
      auto_multi_line: v.optional(
        v.object({
          enable_datetime_detection: bool(true),
          enable_json_detection: bool(true),
        }),
        {},
      ),
      /** Adds `source_host:<peer ip>` to TCP and UDP messages. */
      use_sourcehost_tag: bool(true),
      /** Seconds after start during which the host tags are added to every log. */
      expected_tags_duration: seconds(0, 0, DAY),
      /** Container-only in the Datadog Agent; accepted and ignored. */
      tagger_warmup_duration: seconds(0, 0, HOUR),
      container_collect_all: bool(false),
      /** TCP transport only; accepted and ignored (outpost sends over HTTP). */
      use_port_443: bool(false),
      dd_port: port(10516),
      socks5_proxy_address: str(""),
    }),
    {},
  ),
};
