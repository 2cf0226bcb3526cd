/**
 * The `/info` document tracers read to pick their protocol and features, and the
 * `Datadog-Agent-State` hash of it that every response carries.
 */
import { createHash } from "node:crypto";
import { BUILD } from "../version.ts";
import type { TraceSettings } from "./_settings.ts";
import { STATS_SPAN_KINDS } from "./_stats.ts";

/** The endpoints `/info` lists: exactly the visible routes the receiver serves. */
export function visibleEndpoints(s: TraceSettings): string[] {
  return [
    "/v0.3/traces",
    "/v0.3/services",
    "/v0.4/traces",
    "/v0.4/services",
    "/v0.5/traces",
    "/v0.7/traces",
    "/v0.6/stats",
    "/v0.1/pipeline_stats",
    "/profiling/v1/input",
    ...(s.telemetryEnabled ? ["/telemetry/proxy/"] : []),
    ...(s.evp.enabled
      ? ["/evp_proxy/v1/", "/evp_proxy/v2/", "/evp_proxy/v3/", "/evp_proxy/v4/"]
      : []),
    "/debugger/v1/input",
    "/debugger/v1/diagnostics",
    "/debugger/v2/input",
    "/symdb/v1/input",
    ...(s.dogstatsdEnabled ? ["/dogstatsd/v1/proxy", "/dogstatsd/v2/proxy"] : []),
  ];
}

/** The client headers the EVP proxy forwards. */
export const EVP_ALLOWED_HEADERS = ["Content-Type", "User-Agent", "DD-CI-PROVIDER-NAME"];

/** The `/info` body (tab-indented JSON, as the Agent writes it) and its SHA-256. */
export interface InfoDocument {
  body: string;
  state: string;
}

/**
 * Builds `/info` from the settings. Nothing in it changes while the agent runs, so it is
 * built once and its hash is the `Datadog-Agent-State` of every response.
 *
 * @example
 * ```ts
 * import * as v from "valibot";
 * import { configSchema } from "../config/mod.ts";
 * import { traceSettings } from "./_settings.ts";
 * import { infoDocument } from "./_info.ts";
 * const info = infoDocument(traceSettings(v.parse(configSchema, { api_key: "k" })));
 * console.log(JSON.parse(info.body).config.receiver_port); // 8126
 * ```
 */
export function infoDocument(s: TraceSettings): InfoDocument {
  const o = s.processing.obfuscation;
  const info = {
    version: BUILD.agentVersion,
    git_commit: BUILD.commit,
    endpoints: visibleEndpoints(s),
    feature_flags: [],
    // The tracer may drop P0 traces itself only when it sends stats; outpost has no
    // probabilistic sampler, so that is always allowed.
    client_drop_p0s: true,
    span_meta_structs: true,
    long_running_spans: true,
    span_events: true,
    evp_proxy_allowed_headers: EVP_ALLOWED_HEADERS,
    config: {
      default_env: s.processing.defaultEnv,
      target_tps: s.processing.targetTPS,
      max_eps: s.maxEPS,
      receiver_port: s.port ?? 0,
      receiver_socket: s.socket,
      connection_limit: 0,
      receiver_timeout: s.receiverTimeoutMs / 1000,
      max_request_bytes: s.maxRequestBytes,
      statsd_port: s.statsdPort,
      max_memory: 5e8,
      max_cpu: 0.5,
      analyzed_spans_by_service: {},
      obfuscation: {
        elastic_search: o.elasticsearch.enabled,
        mongo: o.mongodb.enabled,
        sql_exec_plan: false,
        sql_exec_plan_normalize: false,
        http: {
          remove_query_string: o.http.remove_query_string,
          remove_path_digits: o.http.remove_paths_with_digits,
        },
        remove_stack_traces: false,
        redis: o.redis.enabled,
        memcached: o.memcached.enabled,
      },
    },
    peer_tags: s.processing.peerTagsAggregation ? s.processing.peerTagKeys : null,
    span_kinds_stats_computed: s.processing.computeStatsBySpanKind ? STATS_SPAN_KINDS : [],
    obfuscation_version: 1,
  };
  const body = JSON.stringify(info, null, "\t");
  return { body, state: createHash("sha256").update(body).digest("hex") };
}
