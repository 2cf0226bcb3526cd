/**
 * The processing half of the trace agent, in the Go agent's order (logs-apmstats B.1): per
 * chunk, normalize, obfuscate and truncate each span, mark top-level spans, feed the stats
 * (before sampling, so stats cover all traffic), then sample.
 */
import type { Config } from "../config/mod.ts";
import type { Registry } from "../telemetry/registry.ts";
import { type TraceProcessingEvents, traceProcessingEvents } from "../telemetry/events/mod.ts";
import { BUILD } from "../version.ts";
import {
  NON_PARSABLE_SQL,
  type ObfuscationSettings,
  Obfuscator,
  quantizeRedis,
} from "./obfuscate/mod.ts";
import {
  checkTrace,
  fallbackService,
  fillChunk,
  MAX_RESOURCE_LEN,
  normalizeName,
  normalizeSpan,
  normalizeTagValue,
  truncateSpan,
  truncateUtf8,
} from "./_normalize.ts";
import { computeTopLevel, copyTopLevel, rootOf } from "./_toplevel.ts";
import { Concentrator, DEFAULT_PEER_TAGS } from "./_stats.ts";
import { PrioritySampler, RateLimiter } from "./_sampler.ts";
import {
  type ClientStatsPayload,
  PRIORITY_NONE,
  type Span,
  type StatsPayload,
  type TraceChunk,
  type TracerPayload,
} from "./_span.ts";

/** What the tracer said about a payload in its request headers. */
export interface ClientHints {
  /** `Datadog-Client-Computed-Top-Level` */
  computedTopLevel: boolean;
  /** `Datadog-Client-Computed-Stats`: the agent then computes no stats for the payload. */
  computedStats: boolean;
  /** `Datadog-Client-Dropped-P0-Traces` */
  droppedP0Traces: number;
  /** `Datadog-Client-Dropped-P0-Spans` */
  droppedP0Spans: number;
}

/** Settings of trace processing, read from `apm_config` (and the core `env`). */
export interface TraceProcessingSettings {
  /** The env of spans without one: `apm_config.env`, else `env`, else `none`. */
  defaultEnv: string;
  targetTPS: number;
  errorTPS: number;
  computeStatsBySpanKind: boolean;
  peerTagsAggregation: boolean;
  /** Peer tag keys: the defaults and `apm_config.peer_tags`, sorted. */
  peerTagKeys: string[];
  obfuscation: ObfuscationSettings;
}

/**
 * Reads the processing settings from the config.
 *
 * @example
 * ```ts
 * import { configDefaults } from "../config/mod.ts";
 * import { traceProcessingSettings } from "./_process.ts";
 * const s = traceProcessingSettings(configDefaults());
 * console.assert(s.defaultEnv === "none" && s.targetTPS === 10);
 * ```
 */
export function traceProcessingSettings(config: Config): TraceProcessingSettings {
  const apm = config.apm_config;
  return {
    defaultEnv: normalizeTagValue(apm.env || config.env) || "none",
    targetTPS: apm.target_traces_per_second,
    errorTPS: apm.errors_per_second,
    computeStatsBySpanKind: apm.compute_stats_by_span_kind,
    peerTagsAggregation: apm.peer_tags_aggregation,
    peerTagKeys: [...new Set([...DEFAULT_PEER_TAGS, ...apm.peer_tags])].sort(),
    obfuscation: apm.obfuscation,
  };
}

/** The sampling weight of a chunk: 1 / the root's client sample rate. */
function weightOf(root: Span): number {
  const rate = root.metrics["_sample_rate"];
  return rate !== undefined && rate > 0 && rate <= 1 ? 1 / rate : 1;
}

function hasError(chunk: TraceChunk): boolean {
  for (const s of chunk.spans) if (s.error !== 0) return true;
  return false;
}

/**
 * Normalizes, obfuscates, computes top-level, feeds stats and samples tracer payloads.
 *
 * @example Process one span
 * ```ts
 * import { configDefaults } from "../config/mod.ts";
 * import { Registry } from "../telemetry/registry.ts";
 * import { emptySpan, emptyTracerPayload } from "./_span.ts";
 * import { TraceProcessor, traceProcessingSettings } from "./_process.ts";
 * const p = new TraceProcessor(traceProcessingSettings(configDefaults()), { registry: new Registry(), hostname: "h" });
 * const span = { ...emptySpan(), service: "web", name: "http.request", traceId: 1n, spanId: 1n,
 *   start: 1_700_000_000_000_000_000n, duration: 1000n };
 * const payload = { ...emptyTracerPayload(), chunks: [{ priority: 1, origin: "", spans: [span], tags: {}, droppedTrace: false }] };
 * const { kept } = p.process(payload, { computedTopLevel: false, computedStats: false, droppedP0Traces: 0, droppedP0Spans: 0 });
 * console.assert(kept!.chunks[0].spans[0].resource === "http.request");
 * ```
 */
export class TraceProcessor {
  readonly #settings: TraceProcessingSettings;
  readonly #hostname: string;
  readonly #now: () => number;
  readonly #events: TraceProcessingEvents;
  readonly #obfuscator: Obfuscator;
  readonly #concentrator: Concentrator;
  readonly #sampler: PrioritySampler;
  readonly #errors: RateLimiter;
  readonly #noPriority: RateLimiter;

  constructor(
    settings: TraceProcessingSettings,
    deps: { registry: Registry; hostname: string; now?: () => number; random?: () => number },
  ) {
    this.#settings = settings;
    this.#hostname = deps.hostname;
    this.#now = deps.now ?? Date.now;
    this.#events = traceProcessingEvents(deps.registry);
    this.#obfuscator = new Obfuscator(settings.obfuscation);
    this.#concentrator = new Concentrator(
      {
        computeStatsBySpanKind: settings.computeStatsBySpanKind,
        peerTagsAggregation: settings.peerTagsAggregation,
        peerTagKeys: settings.peerTagKeys,
        agentHostname: deps.hostname,
        agentEnv: settings.defaultEnv,
        agentVersion: BUILD.agentVersion,
      },
      this.#nowNs(),
      deps.random,
    );
    this.#sampler = new PrioritySampler(settings.targetTPS);
    this.#errors = new RateLimiter(settings.errorTPS);
    this.#noPriority = new RateLimiter(settings.targetTPS);
  }

  #nowNs(): bigint {
    return BigInt(Math.round(this.#now())) * 1_000_000n;
  }

  /**
   * Processes a payload in place and returns the chunks to write (null when none is kept),
   * with the spans received and the spans dropped (by normalization or sampling).
   */
  process(
    payload: TracerPayload,
    hints: ClientHints,
  ): { kept: TracerPayload | null; spans: number; droppedSpans: number } {
    const ev = this.#events;
    const nowMs = this.#now();
    const nowNs = BigInt(Math.round(nowMs)) * 1_000_000n;
    const lang = payload.languageName;
    const fix = (reason: string) => ev.spansMalformed.with(reason).inc();
    if (hints.droppedP0Traces > 0) ev.clientDroppedP0Traces.inc(hints.droppedP0Traces);
    if (hints.droppedP0Spans > 0) ev.clientDroppedP0Spans.inc(hints.droppedP0Spans);
    payload.env = normalizeTagValue(payload.env);

    let spans = 0;
    let droppedSpans = 0;
    const valid: Array<{ chunk: TraceChunk; root: Span; env: string }> = [];
    for (const chunk of payload.chunks) {
      spans += chunk.spans.length;
      const reason = checkTrace(chunk.spans);
      if (reason !== null) {
        ev.tracesDropped.with(reason).inc();
        droppedSpans += chunk.spans.length;
        continue;
      }
      for (const s of chunk.spans) normalizeSpan(s, { lang, nowNs, fix });
      const root = rootOf(chunk.spans);
      fillChunk(chunk, root);
      for (const s of chunk.spans) {
        this.#obfuscate(s);
        truncateSpan(s);
      }
      if (hints.computedTopLevel) copyTopLevel(chunk.spans);
      else computeTopLevel(chunk.spans);
      const env = payload.env || root.meta.env || this.#settings.defaultEnv;
      if (!hints.computedStats) {
        const hostname = payload.hostname || root.meta["_dd.hostname"] || this.#hostname;
        this.#concentrator.add(chunk, root, {
          env,
          hostname,
          version: payload.appVersion || root.meta.version || "",
          lang,
          gitCommitSha: root.meta["_dd.git.commit.sha"] ?? "",
          imageTag: "",
        });
      }
      valid.push({ chunk, root, env });
      ev.tracesProcessed.inc();
      ev.spansProcessed.inc(chunk.spans.length);
    }

    // Client-dropped P0s weigh on the rates: spread them over the counted chunks.
    const counted =
      valid.filter(({ chunk }) => chunk.priority === 0 || chunk.priority === 1).length;
    const p0Share = counted > 0 ? hints.droppedP0Traces / counted : 0;
    const kept: TraceChunk[] = [];
    for (const { chunk, root, env } of valid) {
      const p = chunk.priority;
      if (p === 0 || p === 1) {
        this.#sampler.count(root.service, env, weightOf(root) + p0Share, nowMs);
      }
      const decision = this.#decide(chunk, nowMs);
      if (decision.keep) {
        ev.tracesKept.with(decision.reason).inc();
        kept.push(chunk);
      } else {
        ev.tracesSampledOut.with(decision.reason).inc();
        ev.spansSampledOut.inc(chunk.spans.length);
        droppedSpans += chunk.spans.length;
      }
    }
    if (kept.length === 0) return { kept: null, spans, droppedSpans };
    if (payload.hostname === "") payload.hostname = valid[0].root.meta["_dd.hostname"] ?? "";
    if (payload.env === "") payload.env = valid[0].env;
    payload.chunks = kept;
    return { kept: payload, spans, droppedSpans };
  }

  /** Keep rules: priority > 0 keeps; user reject drops; P0 keeps only errors, rate-capped. */
  #decide(chunk: TraceChunk, nowMs: number): { keep: boolean; reason: string } {
    const p = chunk.priority;
    if (p > 0) return { keep: true, reason: "priority" };
    if (p === PRIORITY_NONE) {
      if (this.#noPriority.allow(nowMs)) return { keep: true, reason: "no_priority" };
      if (hasError(chunk) && this.#errors.allow(nowMs)) return { keep: true, reason: "error" };
      return { keep: false, reason: "no_priority" };
    }
    if (p < 0) return { keep: false, reason: "user_reject" };
    if (hasError(chunk) && this.#errors.allow(nowMs)) return { keep: true, reason: "error" };
    return { keep: false, reason: "priority" };
  }

  #obfuscate(s: Span): void {
    this.#obfuscator.span(s);
    if ((s.type === "sql" || s.type === "cassandra") && s.resource === NON_PARSABLE_SQL) {
      this.#events.sqlObfuscationErrors.inc();
    }
  }

  /** The body of a v0.4+ traces response: `rate_by_service`. */
  rateByService(): Record<string, number> {
    return this.#sampler.rates(this.#now());
  }

  /** Finished stats buckets (all with `force`) as a StatsPayload ready to encode, or null. */
  flushStats(force: boolean): StatsPayload | null {
    const out = this.#concentrator.flush(this.#nowNs(), force);
    if (out !== null) {
      for (const p of out.stats) {
        this.#events.statsBucketsFlushed.inc(p.stats.length);
        for (const b of p.stats) for (const g of b.stats) this.#events.statsSpans.inc(g.hits);
      }
    }
    return out;
  }

  /**
   * Client stats from `/v0.6/stats`, normalized and obfuscated as the Go agent does, so they
   * share resource strings with agent-computed stats.
   */
  processClientStats(p: ClientStatsPayload): ClientStatsPayload {
    this.#events.clientStatsPayloads.inc();
    p.env = normalizeTagValue(p.env) || this.#settings.defaultEnv;
    if (p.hostname === "") p.hostname = this.#hostname;
    for (const b of p.stats) {
      for (const g of b.stats) {
        g.service = normalizeTagValue(truncateUtf8(g.service, 100)) || fallbackService(p.lang);
        g.name = normalizeName(truncateUtf8(g.name, 100)) || "unnamed_operation";
        if (g.resource === "") g.resource = g.name;
        if (g.type === "sql" || g.type === "cassandra") {
          g.resource = this.#obfuscator.sql(g.resource) ?? NON_PARSABLE_SQL;
        } else if (g.type === "redis") g.resource = quantizeRedis(g.resource);
        g.resource = truncateUtf8(g.resource, MAX_RESOURCE_LEN);
      }
    }
    return p;
  }
}
