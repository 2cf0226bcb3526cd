/**
 * The stats writer: `StatsPayload`s (the agent's own buckets and the tracers' client stats)
 * to `/api/v0.2/stats`. The Go agent sends them msgpack-encoded with the field names of its
 * generated `pb` types, gzip-compressed, as `application/msgpack`; this file writes the same.
 */
import type { Delivery, Payload } from "../forwarder/mod.ts";
import type { ApmCounters } from "../telemetry/mod.ts";
import type {
  ClientGroupedStats,
  ClientStatsBucket,
  ClientStatsPayload,
  StatsPayload,
} from "./_span.ts";
import { gzipFast, outcome } from "./_writer.ts";

/** A growable msgpack byte buffer with the few types the stats payload uses. */
class Packer {
  #buf = new Uint8Array(4096);
  #view = new DataView(this.#buf.buffer);
  #at = 0;
  readonly #utf8 = new TextEncoder();

  #room(n: number): void {
    if (this.#at + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#at + n));
    next.set(this.#buf.subarray(0, this.#at));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  #header(small: number, smallMax: number, c16: number, c32: number, n: number): void {
    this.#room(5);
    if (n <= smallMax) this.#buf[this.#at++] = small | n;
    else if (n <= 0xffff) {
      this.#buf[this.#at++] = c16;
      this.#view.setUint16(this.#at, n);
      this.#at += 2;
    } else {
      this.#buf[this.#at++] = c32;
      this.#view.setUint32(this.#at, n);
      this.#at += 4;
    }
  }

  map(n: number): this {
    this.#header(0x80, 15, 0xde, 0xdf, n);
    return this;
  }
  array(n: number): this {
    this.#header(0x90, 15, 0xdc, 0xdd, n);
    return this;
  }
  str(s: string): this {
    const bytes = this.#utf8.encode(s);
    if (bytes.length <= 31) {
      this.#room(1);
      this.#buf[this.#at++] = 0xa0 | bytes.length;
    } else if (bytes.length <= 0xff) {
      this.#room(2);
      this.#buf[this.#at++] = 0xd9;
      this.#buf[this.#at++] = bytes.length;
    } else this.#header(0, -1, 0xda, 0xdb, bytes.length);
    this.#room(bytes.length);
    this.#buf.set(bytes, this.#at);
    this.#at += bytes.length;
    return this;
  }
  bin(b: Uint8Array): this {
    this.#room(5 + b.length);
    this.#buf[this.#at++] = 0xc6;
    this.#view.setUint32(this.#at, b.length);
    this.#at += 4;
    this.#buf.set(b, this.#at);
    this.#at += b.length;
    return this;
  }
  bool(v: boolean): this {
    this.#room(1);
    this.#buf[this.#at++] = v ? 0xc3 : 0xc2;
    return this;
  }
  /** A uint64 (Go's msgp writes uint64 fields as uint 64 whatever the value). */
  uint(v: number | bigint): this {
    this.#room(9);
    this.#buf[this.#at++] = 0xcf;
    this.#view.setBigUint64(this.#at, BigInt.asUintN(64, BigInt(v)));
    this.#at += 8;
    return this;
  }
  /** An int64. */
  int(v: number | bigint): this {
    this.#room(9);
    this.#buf[this.#at++] = 0xd3;
    this.#view.setBigInt64(this.#at, BigInt.asIntN(64, BigInt(v)));
    this.#at += 8;
    return this;
  }
  strings(list: string[]): this {
    this.array(list.length);
    for (const s of list) this.str(s);
    return this;
  }
  bytes(): Uint8Array {
    return this.#buf.slice(0, this.#at);
  }
}

function packGrouped(p: Packer, g: ClientGroupedStats): void {
  p.map(19)
    .str("Service").str(g.service)
    .str("Name").str(g.name)
    .str("Resource").str(g.resource)
    .str("HTTPStatusCode").uint(g.httpStatusCode)
    .str("Type").str(g.type)
    .str("DBType").str(g.dbType)
    .str("Hits").uint(g.hits)
    .str("Errors").uint(g.errors)
    .str("Duration").uint(g.duration)
    .str("OkSummary").bin(g.okSummary)
    .str("ErrorSummary").bin(g.errorSummary)
    .str("Synthetics").bool(g.synthetics)
    .str("TopLevelHits").uint(g.topLevelHits)
    .str("SpanKind").str(g.spanKind)
    .str("PeerTags").strings(g.peerTags)
    .str("IsTraceRoot").int(g.isTraceRoot)
    .str("GRPCStatusCode").str(g.grpcStatusCode)
    .str("HTTPMethod").str(g.httpMethod)
    .str("HTTPEndpoint").str(g.httpEndpoint);
}

function packBucket(p: Packer, b: ClientStatsBucket): void {
  p.map(4).str("Start").uint(b.start).str("Duration").uint(b.duration).str("Stats").array(
    b.stats.length,
  );
  for (const g of b.stats) packGrouped(p, g);
  p.str("AgentTimeShift").int(b.agentTimeShift);
}

function packClient(p: Packer, c: ClientStatsPayload): void {
  p.map(16).str("Hostname").str(c.hostname).str("Env").str(c.env).str("Version").str(c.version)
    .str("Stats").array(c.stats.length);
  for (const b of c.stats) packBucket(p, b);
  p.str("Lang").str(c.lang)
    .str("TracerVersion").str(c.tracerVersion)
    .str("RuntimeID").str(c.runtimeID)
    .str("Sequence").uint(c.sequence)
    .str("AgentAggregation").str(c.agentAggregation)
    .str("Service").str(c.service)
    .str("ContainerID").str(c.containerID)
    .str("Tags").strings(c.tags)
    .str("GitCommitSha").str(c.gitCommitSha)
    .str("ImageTag").str(c.imageTag)
    .str("ProcessTagsHash").uint(c.processTagsHash)
    .str("ProcessTags").str(c.processTags);
}

/**
 * Encodes a `StatsPayload` as msgpack with the Go agent's field names.
 *
 * @example
 * ```ts
 * import { encodeStatsMsgpack } from "./_writer_stats.ts";
 * const bytes = encodeStatsMsgpack({
 *   agentHostname: "h", agentEnv: "none", stats: [], agentVersion: "7.0.0",
 *   clientComputed: false, splitPayload: false,
 * });
 * console.log(bytes[0] === 0x86); // true: a map of 6 fields
 * ```
 */
export function encodeStatsMsgpack(s: StatsPayload): Uint8Array {
  const p = new Packer();
  p.map(6).str("AgentHostname").str(s.agentHostname).str("AgentEnv").str(s.agentEnv).str("Stats")
    .array(s.stats.length);
  for (const c of s.stats) packClient(p, c);
  p.str("AgentVersion").str(s.agentVersion).str("ClientComputed").bool(s.clientComputed)
    .str("SplitPayload").bool(s.splitPayload);
  return p.bytes();
}

/** Options of {@linkcode StatsWriter}. */
export interface StatsWriterOptions {
  counters: ApmCounters;
  submit: (payload: Payload) => Delivery;
}

/**
 * Sends stats payloads; `flush` waits for what was handed over.
 *
 * @example
 * ```ts ignore
 * const writer = new StatsWriter({ counters, submit: forwarder.submit });
 * writer.write(processor.flushStats(false));
 * await writer.flush();
 * ```
 */
export class StatsWriter {
  readonly #o: StatsWriterOptions;
  readonly #pending = new Set<Promise<unknown>>();

  constructor(options: StatsWriterOptions) {
    this.#o = options;
  }

  /** Sends one stats payload (nothing when it is null or has no buckets). */
  write(stats: StatsPayload | null): void {
    if (!stats) return;
    const buckets = stats.stats.reduce((n, c) => n + c.stats.length, 0);
    if (buckets === 0) return;
    const { counters } = this.#o;
    const body = gzipFast(encodeStatsMsgpack(stats));
    const delivery = this.#o.submit({
      route: "/api/v0.2/stats",
      body,
      headers: {
        "Content-Type": "application/msgpack",
        "Content-Encoding": "gzip",
        "X-Datadog-Reported-Languages": [...new Set(stats.stats.map((c) => c.lang).filter(Boolean))]
          .join("|"),
      },
      storable: true,
      pipeline: "traces",
      kind: "trace_stats",
    });
    counters.statsPayloads.with("submitted").inc();
    counters.statsBuckets.inc(buckets);
    const settled = delivery.done.then(({ status }) => {
      counters.statsPayloads.with(outcome(status)).inc();
    }).finally(() => this.#pending.delete(settled));
    this.#pending.add(settled);
  }

  /** Resolves once every payload handed over is delivered, stored or dropped. */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }
}
