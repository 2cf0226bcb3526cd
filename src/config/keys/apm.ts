/**
 * Keys of the trace agent (`apm_config`), with the Datadog Agent's names and defaults unless
 * noted. Besides the derived `DD_APM_CONFIG_*` names, each key is also read from the Agent's
 * shorter `DD_APM_*` names (`DD_APM_RECEIVER_PORT`, `DD_APM_DD_URL`); see `config/_env.ts`.
 */
import * as v from "valibot";
import {
  bool,
  host,
  HOUR,
  int,
  list,
  listOf,
  MiB,
  oneOf,
  path,
  port,
  seconds,
  size,
  str,
  text,
  url,
  urlKey,
} from "../_kinds.ts";

/** `{url: [api keys]}`, as the core `additional_endpoints`. */
const endpoints = () =>
  v.optional(
    v.pipe(
      v.record(
        urlKey,
        listOf(text(256), [], { max: 100 }),
        "expected a map of URL to a list of API keys",
      ),
      v.maxEntries(100, "expected at most 100 endpoints"),
    ),
    {},
  );

/** An obfuscator switch with the `keep_values` list most of them take. */
const jsonObfuscator = () =>
  v.optional(
    v.object({ enabled: bool(true), keep_values: list(), obfuscate_sql_values: list() }),
    {},
  );

export const apmKeys = {
  apm_config: v.optional(
    v.object({
      enabled: bool(true),
      /** Address of the receiver; `apm_non_local_traffic` makes it every interface. */
      receiver_host: host("localhost", { listen: true }),
      /** 0 turns the TCP receiver off. */
      receiver_port: port(8126),
      /** A unix socket to listen on as well; "" for none. */
      receiver_socket: path(""),
      /** Seconds a request may take to arrive. */
      receiver_timeout: seconds(5, 1, HOUR),
      /** The Agent's `max_request_bytes`: bodies over it get 413. */
      max_payload_size: size(25 * MiB, 1024 * MiB),
      /** Concurrent decoders; 0 = max(1, cores / 2). */
      decoders: int(0, 0, 1024),
      /** Milliseconds a request waits for a decoder before it is refused. */
      decoder_timeout: int(1000, 1, 60_000),
      /** Listen on every interface instead of `receiver_host` (`DD_APM_NON_LOCAL_TRAFFIC`). */
      apm_non_local_traffic: bool(false),
      /** Where traces and stats go; "" = `https://trace.agent.<site>`. */
      apm_dd_url: url(),
      additional_endpoints: endpoints(),
      /** Default env of spans without one; "" = the core `env`, else `none`. */
      env: str(""),
      target_traces_per_second: int(10, 0, 1_000_000),
      errors_per_second: int(10, 0, 1_000_000),
      max_events_per_second: int(200, 0, 1_000_000),
      compute_stats_by_span_kind: bool(true),
      peer_tags_aggregation: bool(true),
      /** Extra peer tag keys, added to the default list. */
      peer_tags: list(),
      obfuscation: v.optional(
        v.object({
          credit_cards: v.optional(
            v.object({ enabled: bool(true), luhn: bool(false), keep_values: list() }),
            {},
          ),
          elasticsearch: jsonObfuscator(),
          opensearch: jsonObfuscator(),
          mongodb: jsonObfuscator(),
          sql_exec_plan: jsonObfuscator(),
          sql_exec_plan_normalize: jsonObfuscator(),
          http: v.optional(
            v.object({ remove_query_string: bool(false), remove_paths_with_digits: bool(false) }),
            {},
          ),
          memcached: v.optional(v.object({ enabled: bool(true), keep_command: bool(false) }), {}),
          redis: v.optional(v.object({ enabled: bool(true), remove_all_args: bool(false) }), {}),
          valkey: v.optional(v.object({ enabled: bool(true), remove_all_args: bool(false) }), {}),
          remove_stack_traces: bool(false),
          cache: v.optional(
            v.object({ enabled: bool(true), max_size: int(5_000_000, 0, 1024 * MiB) }),
            {},
          ),
        }),
        {},
      ),
      /** "" = the legacy SQL obfuscator, the only one outpost has; the others are accepted for
       * compatibility and obfuscate as "" does. */
      sql_obfuscation_mode: oneOf([
        "",
        "obfuscate_only",
        "normalize_only",
        "obfuscate_and_normalize",
      ], ""),
      evp_proxy_config: v.optional(
        v.object({
          enabled: bool(true),
          max_payload_size: size(5 * MiB, 1024 * MiB),
          dd_url: url(),
          additional_endpoints: endpoints(),
        }),
        {},
      ),
      telemetry: v.optional(
        v.object({ enabled: bool(true), dd_url: url(), additional_endpoints: endpoints() }),
        {},
      ),
      profiling_dd_url: url(),
      profiling_additional_endpoints: endpoints(),
      /** Full URL of Dynamic Instrumentation uploads; "" = `https://debugger-intake.<site>/api/v2/debugger`. */
      debugger_dd_url: url(),
      /** Full URL of symbol database uploads; "" = `https://debugger-intake.<site>/api/v2/debugger`. */
      symdb_dd_url: url(),
      /** Traces queued between receiver and processing; 0 = the receiver's own default. */
      trace_buffer: int(0, 0, 1_000_000),
      /** outpost: seconds between the trace writer's periodic flushes. */
      flush_period: seconds(5, 1, HOUR),
      /** Accepted for compatibility (the Agent has deprecated its connection limit); 0 = none. */
      connection_limit: int(0, 0, 1_000_000),
    }),
    {},
  ),
};
