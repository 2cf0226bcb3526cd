/**
 * The stats concentrator (logs-apmstats B.2): counts eligible spans per aggregation key in
 * 10 s buckets — hits, errors, top-level hits, summed duration, and ok/error latency
 * sketches — and hands out the buckets once no more spans are expected for them.
 */
import { Sketch } from "./_sketch.ts";
import type {
  ClientGroupedStats,
  ClientStatsPayload,
  Span,
  StatsPayload,
  TraceChunk,
} from "./_span.ts";
import { isTopLevel } from "./_toplevel.ts";
import { quantizePeerIpAddresses } from "./obfuscate/mod.ts";

/** Bucket width: 10 s in ns. */
export const BUCKET_NS = 10_000_000_000n;
/** Buckets kept open behind the current one, for late spans. */
const BUFFER_LEN = 2n;

/** Peer tag keys aggregated by default (one Agent version's list). */
export const DEFAULT_PEER_TAGS: readonly string[] = [
  "_dd.base_service",
  "amqp.destination",
  "amqp.exchange",
  "amqp.queue",
  "aws.queue.name",
  "bucketname",
  "cassandra.cluster",
  "db.cassandra.contact.points",
  "db.couchbase.seed.nodes",
  "db.hostname",
  "db.instance",
  "db.name",
  "db.system",
  "hazelcast.instance",
  "messaging.kafka.bootstrap.servers",
  "mongodb.db",
  "msmq.queue.path",
  "net.peer.name",
  "network.destination.name",
  "peer.hostname",
  "peer.service",
  "queuename",
  "rpc.service",
  "rulename",
  "server.address",
  "statemachinename",
  "streamname",
  "tablename",
  "topicname",
];

/** Span kinds that make a span count in stats even when it is not top-level. */
export const STATS_SPAN_KINDS: readonly string[] = ["server", "consumer", "client", "producer"];
const KINDS = new Set(STATS_SPAN_KINDS);
const PEER_KINDS = new Set(["client", "producer", "consumer"]);

const GRPC_CODES: Record<string, number> = {
  OK: 0,
  CANCELLED: 1,
  CANCELED: 1,
  UNKNOWN: 2,
  INVALIDARGUMENT: 3,
  DEADLINEEXCEEDED: 4,
  NOTFOUND: 5,
  ALREADYEXISTS: 6,
  PERMISSIONDENIED: 7,
  RESOURCEEXHAUSTED: 8,
  FAILEDPRECONDITION: 9,
  ABORTED: 10,
  OUTOFRANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATALOSS: 15,
  UNAUTHENTICATED: 16,
};
const GRPC_KEYS = ["rpc.grpc.status_code", "grpc.code", "rpc.grpc.status.code", "grpc.status.code"];

/** The gRPC status of a span as a numeric string, "" when it has none or an unknown one. */
export function grpcStatusCode(s: Span): string {
  for (const k of GRPC_KEYS) {
    const m = s.metrics[k];
    if (m !== undefined) return String(Math.trunc(m));
    const v = s.meta[k];
    if (v === undefined) continue;
    if (/^\d+$/.test(v)) return v;
    const name = v.replace(/^StatusCode\./i, "").replaceAll("_", "").toUpperCase();
    const code = GRPC_CODES[name];
    return code === undefined ? "" : String(code);
  }
  return "";
}

/** The HTTP status of a span: the metric, else the tag; 0 when absent or invalid. */
export function httpStatusCode(s: Span): number {
  const m = s.metrics["http.status_code"];
  const v = m !== undefined ? m : Number(s.meta["http.status_code"]);
  return Number.isInteger(v) && v > 0 && v <= 0xffffffff ? v : 0;
}

/** Where a stats group belongs besides its own key (a ClientStatsPayload's identity). */
export interface PayloadKey {
  env: string;
  hostname: string;
  version: string;
  lang: string;
  gitCommitSha: string;
  imageTag: string;
}

interface Group {
  stats: ClientGroupedStats;
  hits: number;
  errors: number;
  topLevelHits: number;
  duration: number;
  ok: Sketch;
  err: Sketch;
}

interface PayloadGroups {
  key: PayloadKey;
  groups: Map<string, Group>;
}

/** What the concentrator needs to know. */
export interface ConcentratorSettings {
  computeStatsBySpanKind: boolean;
  peerTagsAggregation: boolean;
  /** Peer tag keys, sorted (the defaults and `apm_config.peer_tags`). */
  peerTagKeys: readonly string[];
  agentHostname: string;
  agentEnv: string;
  agentVersion: string;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
/** The duration with ~10 bits of mantissa, as the Agent trims it before the sketch. */
function trimDuration(ns: number): number {
  f64[0] = ns;
  // Little endian: the high word (sign, exponent, top of mantissa) is u32[1].
  u32[0] = 0;
  u32[1] &= 0xfffff800;
  return f64[0];
}

/** Rounds `x` up with probability equal to its fraction, so sums stay right on average. */
function stochasticRound(x: number, random: () => number): number {
  const floor = Math.floor(x);
  return floor + (random() < x - floor ? 1 : 0);
}

/**
 * Aggregates spans into 10 s buckets of stats.
 *
 * @example Count one top-level span
 * ```ts
 * import { Concentrator, DEFAULT_PEER_TAGS } from "./_stats.ts";
 * import { emptySpan } from "./_span.ts";
 * const c = new Concentrator({ computeStatsBySpanKind: true, peerTagsAggregation: true,
 *   peerTagKeys: [...DEFAULT_PEER_TAGS].sort(), agentHostname: "h", agentEnv: "none", agentVersion: "7" }, 0n);
 * const span = { ...emptySpan(), service: "s", name: "n", resource: "r", traceId: 1n, spanId: 1n,
 *   start: 1_000_000_000n, duration: 5n, metrics: { _top_level: 1 } };
 * c.add({ priority: 1, origin: "", spans: [span], tags: {}, droppedTrace: false }, span,
 *   { env: "prod", hostname: "h", version: "", lang: "js", gitCommitSha: "", imageTag: "" });
 * const out = c.flush(60_000_000_000n, false)!;
 * console.assert(out.stats[0].stats[0].stats[0].hits === 1);
 * ```
 */
export class Concentrator {
  readonly #settings: ConcentratorSettings;
  readonly #random: () => number;
  /** Bucket start (ns) → payload key → group key → counters. */
  readonly #buckets = new Map<bigint, Map<string, PayloadGroups>>();
  /** Spans of buckets older than this count in this one (late data is kept, not dropped). */
  #oldest: bigint;

  constructor(settings: ConcentratorSettings, nowNs: bigint, random: () => number = Math.random) {
    this.#settings = settings;
    this.#random = random;
    this.#oldest = nowNs - (nowNs % BUCKET_NS);
  }

  /** True when the span counts in stats (B.2.1). */
  eligible(s: Span): boolean {
    const partial = s.metrics["_dd.partial_version"];
    if (partial !== undefined && partial >= 0) return false;
    if (isTopLevel(s) || s.metrics["_dd.measured"] === 1) return true;
    if (!this.#settings.computeStatsBySpanKind) return false;
    const kind = s.meta["span.kind"];
    return kind !== undefined && KINDS.has(kind.toLowerCase());
  }

  #peerTags(s: Span): string[] {
    if (!this.#settings.peerTagsAggregation) return [];
    const kind = (s.meta["span.kind"] ?? "").toLowerCase();
    if (PEER_KINDS.has(kind)) {
      const out: string[] = [];
      for (const k of this.#settings.peerTagKeys) {
        const v = s.meta[k];
        if (v) out.push(`${k}:${quantizePeerIpAddresses(v)}`);
      }
      return out;
    }
    const base = s.meta["_dd.base_service"];
    if ((kind === "" || kind === "internal") && base) return [`_dd.base_service:${base}`];
    return [];
  }

  /** Adds the eligible spans of a processed chunk; `root` gives the weight. */
  add(chunk: TraceChunk, root: Span, key: PayloadKey): void {
    const rate = root.metrics["_sample_rate"];
    const weight = rate !== undefined && rate > 0 && rate <= 1 ? 1 / rate : 1;
    const synthetics = chunk.origin.startsWith("synthetics");
    const payloadKey =
      `${key.env}\0${key.hostname}\0${key.version}\0${key.lang}\0${key.gitCommitSha}\0${key.imageTag}`;
    for (const s of chunk.spans) {
      if (!this.eligible(s)) continue;
      const end = s.start + s.duration;
      let ts = end - (end % BUCKET_NS);
      if (ts < this.#oldest) ts = this.#oldest;
      let bucket = this.#buckets.get(ts);
      if (bucket === undefined) this.#buckets.set(ts, bucket = new Map());
      let payload = bucket.get(payloadKey);
      if (payload === undefined) bucket.set(payloadKey, payload = { key, groups: new Map() });
      this.#count(payload.groups, s, weight, synthetics);
    }
  }

  #count(groups: Map<string, Group>, s: Span, weight: number, synthetics: boolean): void {
    const spanKind = s.meta["span.kind"] ?? "";
    const status = httpStatusCode(s);
    const grpc = grpcStatusCode(s);
    const peerTags = this.#peerTags(s);
    const isTraceRoot = s.parentId === 0n ? 1 : 2;
    const method = s.meta["http.method"] ?? "";
    const endpoint = s.meta["http.endpoint"] ?? "";
    const k =
      `${s.service}\0${s.name}\0${s.resource}\0${s.type}\0${spanKind}\0${status}\0${synthetics}\0${
        peerTags.join("\u0001")
      }\0${isTraceRoot}\0${grpc}\0${method}\0${endpoint}`;
    let g = groups.get(k);
    if (g === undefined) {
      g = {
        stats: {
          service: s.service,
          name: s.name,
          resource: s.resource,
          httpStatusCode: status,
          type: s.type,
          dbType: "",
          hits: 0,
          errors: 0,
          duration: 0,
          okSummary: new Uint8Array(0),
          errorSummary: new Uint8Array(0),
          synthetics,
          topLevelHits: 0,
          spanKind,
          peerTags,
          isTraceRoot,
          grpcStatusCode: grpc,
          httpMethod: method,
          httpEndpoint: endpoint,
        },
        hits: 0,
        errors: 0,
        topLevelHits: 0,
        duration: 0,
        ok: new Sketch(),
        err: new Sketch(),
      };
      groups.set(k, g);
    }
    const d = Number(s.duration);
    g.hits += weight;
    if (isTopLevel(s)) g.topLevelHits += weight;
    g.duration += d * weight;
    if (s.error !== 0) {
      g.errors += weight;
      g.err.add(trimDuration(d));
    } else g.ok.add(trimDuration(d));
  }

  /**
   * The buckets that are done — those at least 20 s old, or all with `force` (shutdown,
   * Lambda) — as one StatsPayload, or null when none is.
   */
  flush(nowNs: bigint, force: boolean): StatsPayload | null {
    const stats: ClientStatsPayload[] = [];
    for (const [ts, bucket] of [...this.#buckets].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      if (!force && ts > nowNs - BUFFER_LEN * BUCKET_NS) continue;
      this.#buckets.delete(ts);
      for (const { key, groups } of bucket.values()) {
        const out: ClientGroupedStats[] = [];
        for (const g of groups.values()) {
          out.push({
            ...g.stats,
            hits: stochasticRound(g.hits, this.#random),
            errors: stochasticRound(g.errors, this.#random),
            topLevelHits: stochasticRound(g.topLevelHits, this.#random),
            duration: stochasticRound(g.duration, this.#random),
            okSummary: g.ok.encode(),
            errorSummary: g.err.encode(),
          });
        }
        stats.push({
          hostname: key.hostname,
          env: key.env,
          version: key.version,
          stats: [{ start: ts, duration: BUCKET_NS, stats: out, agentTimeShift: 0n }],
          lang: key.lang,
          tracerVersion: "",
          runtimeID: "",
          sequence: 0,
          agentAggregation: "",
          service: "",
          containerID: "",
          tags: [],
          gitCommitSha: key.gitCommitSha,
          imageTag: key.imageTag,
          processTagsHash: 0n,
          processTags: "",
        });
      }
    }
    const aligned = nowNs - (nowNs % BUCKET_NS);
    const oldest = aligned - (BUFFER_LEN - 1n) * BUCKET_NS;
    if (!force && oldest > this.#oldest) this.#oldest = oldest;
    if (stats.length === 0) return null;
    const s = this.#settings;
    return {
      agentHostname: s.agentHostname,
      agentEnv: s.agentEnv,
      stats,
      agentVersion: s.agentVersion,
      clientComputed: false,
      splitPayload: false,
    };
  }
}
