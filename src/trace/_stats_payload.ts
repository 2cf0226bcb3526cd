/**
 * The stats payload as the trace agent sends it to `/api/v0.2/stats`: msgpack (not protobuf,
 * despite stats.proto) with the Go struct field names as map keys (logs-apmstats B.2.6).
 */
import { MsgpackWriter } from "./_msgpack_writer.ts";
import type {
  ClientGroupedStats,
  ClientStatsBucket,
  ClientStatsPayload,
  StatsPayload,
} from "./_span.ts";

function group(w: MsgpackWriter, g: ClientGroupedStats): void {
  w.map(19);
  w.str("Service").str(g.service);
  w.str("Name").str(g.name);
  w.str("Resource").str(g.resource);
  w.str("HTTPStatusCode").uint(g.httpStatusCode);
  w.str("Type").str(g.type);
  w.str("DBType").str(g.dbType);
  w.str("Hits").uint(g.hits);
  w.str("Errors").uint(g.errors);
  w.str("Duration").uint(g.duration);
  w.str("OkSummary").bin(g.okSummary);
  w.str("ErrorSummary").bin(g.errorSummary);
  w.str("Synthetics").bool(g.synthetics);
  w.str("TopLevelHits").uint(g.topLevelHits);
  w.str("SpanKind").str(g.spanKind);
  w.str("PeerTags").array(g.peerTags.length);
  for (const t of g.peerTags) w.str(t);
  w.str("IsTraceRoot").int(g.isTraceRoot);
  w.str("GRPCStatusCode").str(g.grpcStatusCode);
  w.str("HTTPMethod").str(g.httpMethod);
  w.str("HTTPEndpoint").str(g.httpEndpoint);
}

function bucket(w: MsgpackWriter, b: ClientStatsBucket): void {
  w.map(4);
  w.str("Start").uint(b.start);
  w.str("Duration").uint(b.duration);
  w.str("Stats").array(b.stats.length);
  for (const g of b.stats) group(w, g);
  w.str("AgentTimeShift").int64(b.agentTimeShift);
}

function clientPayload(w: MsgpackWriter, p: ClientStatsPayload): void {
  w.map(16);
  w.str("Hostname").str(p.hostname);
  w.str("Env").str(p.env);
  w.str("Version").str(p.version);
  w.str("Stats").array(p.stats.length);
  for (const b of p.stats) bucket(w, b);
  w.str("Lang").str(p.lang);
  w.str("TracerVersion").str(p.tracerVersion);
  w.str("RuntimeID").str(p.runtimeID);
  w.str("Sequence").uint(p.sequence);
  w.str("AgentAggregation").str(p.agentAggregation);
  w.str("Service").str(p.service);
  w.str("ContainerID").str(p.containerID);
  w.str("Tags").array(p.tags.length);
  for (const t of p.tags) w.str(t);
  w.str("GitCommitSha").str(p.gitCommitSha);
  w.str("ImageTag").str(p.imageTag);
  w.str("ProcessTagsHash").uint(p.processTagsHash);
  w.str("ProcessTags").str(p.processTags);
}

/**
 * Encodes a `StatsPayload` as the intake expects it (uncompressed msgpack; the writer
 * gzips it).
 *
 * @example
 * ```ts
 * import { encodeStatsPayload } from "./_stats_payload.ts";
 * const p = { agentHostname: "h", agentEnv: "prod", stats: [], agentVersion: "7", clientComputed: false, splitPayload: false };
 * console.assert(encodeStatsPayload(p)[0] === 0x86); // a map of six fields
 * ```
 */
export function encodeStatsPayload(p: StatsPayload): Uint8Array {
  const w = new MsgpackWriter(4096);
  w.map(6);
  w.str("AgentHostname").str(p.agentHostname);
  w.str("AgentEnv").str(p.agentEnv);
  w.str("Stats").array(p.stats.length);
  for (const c of p.stats) clientPayload(w, c);
  w.str("AgentVersion").str(p.agentVersion);
  w.str("ClientComputed").bool(p.clientComputed);
  w.str("SplitPayload").bool(p.splitPayload);
  return w.finish();
}

/** Grouped stats per payload the intake takes (about 375 B each, so ~1.5 MB). */
export const MAX_STATS_ENTRIES = 4000;

/**
 * Splits a StatsPayload whose grouped stats number more than `max` into several, each
 * keeping every time bucket of its client payloads but only part of their groups, dealt
 * round-robin; every part is marked `splitPayload`. A payload within the limit comes back alone.
 *
 * @example
 * ```ts
 * import { splitStatsPayload } from "./_stats_payload.ts";
 * const p = { agentHostname: "h", agentEnv: "e", agentVersion: "7", clientComputed: false, splitPayload: false, stats: [] };
 * console.assert(splitStatsPayload(p).length === 1);
 * ```
 */
export function splitStatsPayload(p: StatsPayload, max = MAX_STATS_ENTRIES): StatsPayload[] {
  let entries = 0;
  for (const c of p.stats) for (const b of c.stats) entries += b.stats.length;
  if (entries <= max) return [p];
  const parts = Math.ceil(entries / max);
  const out: StatsPayload[] = Array.from(
    { length: parts },
    () => ({ ...p, stats: [], splitPayload: true }),
  );
  for (const c of p.stats) {
    const pieces = Array.from(
      { length: parts },
      () => ({ ...c, stats: [] as ClientStatsBucket[] }),
    );
    for (const b of c.stats) {
      const split = Array.from(
        { length: parts },
        () => ({ ...b, stats: [] as ClientGroupedStats[] }),
      );
      b.stats.forEach((g, i) => split[i % parts].stats.push(g));
      split.forEach((s, i) => {
        if (s.stats.length > 0) pieces[i].stats.push(s);
      });
    }
    pieces.forEach((piece, i) => {
      if (piece.stats.length > 0) out[i].stats.push(piece);
    });
  }
  return out;
}
