/** Keys of the dogstatsd component. */
import * as v from "valibot";
import { bool, host, int, list, MiB, path, port, str } from "../_kinds.ts";
import { DEFAULT_MAX_QUEUE_BYTES } from "../../runtime/types.ts";

/**
 * Default most tags one line may carry. The agent's `dogstatsd_max_metrics_tags` has no limit
 * by default; outpost has one, because a 10,000-tag line costs its tags in every context it
 * makes (issue: 1,500 such lines took 1.7 GB). Real clients send tens of tags.
 */
export const DEFAULT_MAX_TAGS = 1000;

/** Names the agent never prefixes with `statsd_metric_namespace`. */
export const DEFAULT_NAMESPACE_EXCLUDE: readonly string[] = [
  "datadog.agent",
  "datadog.dogstatsd",
  "datadog.process",
  "datadog.trace_agent",
  "datadog.tracer",
  "activemq",
  "activemq_58",
  "airflow",
  "cassandra",
  "confluent",
  "hazelcast",
  "hive",
  "ignite",
  "jboss",
  "jvm",
  "kafka",
  "presto",
  "sidekiq",
  "solr",
  "tomcat",
  "runtime",
];

const TRANSPORTS = ["udp", "uds", "named_pipe"] as const;

export const dogstatsdKeys = {
  bind_host: host("localhost"),
  use_dogstatsd: bool(true),
  dogstatsd_port: port(8125),
  dogstatsd_socket: path(""),
  dogstatsd_non_local_traffic: bool(false),
  dogstatsd_buffer_size: int(8192, 1, 16 * MiB),
  /** SO_RCVBUF in bytes; 0 keeps the OS default. */
  dogstatsd_so_rcvbuf: int(0, 0, 2 ** 31 - 1),
  /** Transports on which a message without a final newline is dropped. */
  dogstatsd_eol_required: v.optional(
    v.array(
      v.picklist(TRANSPORTS, `expected a list of ${TRANSPORTS.join(", ")}`),
      `expected a list of ${TRANSPORTS.join(", ")}`,
    ),
    [],
  ),
  dogstatsd_tags: list(),
  /** Count samples per metric context for `outpost dogstatsd-stats` (memory per context). */
  dogstatsd_stats_enable: bool(false),
  dogstatsd_string_interner_size: int(4096, 1, 10_000_000),
  statsd_forward_host: host("", { optional: true }),
  statsd_forward_port: port(0),
  statsd_metric_namespace: str("", 200),
  statsd_metric_namespace_blacklist: list([...DEFAULT_NAMESPACE_EXCLUDE]),
  statsd_metric_blocklist: list(),
  statsd_metric_blocklist_match_prefix: bool(false),
  /**
   * Bytes of datagrams the reader thread may hold for the parser (16 MiB); past it, datagrams
   * are dropped and counted (`dogstatsd-udp.QueueDroppedPackets`).
   */
  dogstatsd_queue_max_bytes: int(DEFAULT_MAX_QUEUE_BYTES, 64 * 1024, 1024 * 1024 * 1024),
  /**
   * Most tags one message may carry; a line with more is refused and counted
   * (`dogstatsd.ParseErrorsByReason` `too_many_tags`). 0 removes the limit.
   */
  dogstatsd_max_tags_per_message: int(DEFAULT_MAX_TAGS, 0, 1_000_000),
};
