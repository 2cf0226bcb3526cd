/**
 * Test helpers for the trace agent: the intake's trace and DDSketch protos loaded with
 * protobufjs (a real protobuf library, not our encoder), msgpack bodies in the shapes tracers
 * send, and span factories.
 */
import { join, resolve } from "node:path";
import protobuf from "protobufjs";
import { MsgpackWriter } from "../../../src/trace/_msgpack_writer.ts";
import { emptySpan, type Span } from "../../../src/trace/mod.ts";

const PROTO_DIR = resolve(import.meta.dirname, "../../fixtures/proto");

function load(files: string[], base: string): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(base, target);
  return root.loadSync(files, { keepCase: true });
}

/** `pb.AgentPayload` and friends from agent_payload.proto. */
export const traceProtos: protobuf.Root = load(
  ["agent_payload.proto", "stats.proto"],
  join(PROTO_DIR, "trace"),
);
/** `pb.DDSketch` from DDSketch.proto. */
export const sketchProtos: protobuf.Root = load(["DDSketch.proto"], join(PROTO_DIR, "ddsketch"));

/** Decodes AgentPayload bytes, 64-bit integers as decimal strings so they stay exact. */
export function decodeAgentPayloadPb(bytes: Uint8Array): any {
  const t = traceProtos.lookupType("pb.AgentPayload");
  return t.toObject(t.decode(bytes), {
    longs: String,
    defaults: true,
    arrays: true,
    objects: true,
  });
}

/** Decodes DDSketch bytes and answers its count and quantiles, from the bins alone. */
export function decodeSketchPb(
  bytes: Uint8Array,
): { gamma: number; count: number; quantile: (q: number) => number } {
  const t = sketchProtos.lookupType("pb.DDSketch");
  const s: any = t.toObject(t.decode(bytes), { defaults: true, arrays: true, objects: true });
  const gamma: number = s.mapping.gamma;
  const offset: number = s.positiveValues?.contiguousBinIndexOffset ?? 0;
  const bins: Array<[number, number]> = (s.positiveValues?.contiguousBinCounts ?? [])
    .map((c: number, i: number) => [offset + i, c] as [number, number])
    .filter(([, c]: [number, number]) => c > 0);
  for (const [k, c] of Object.entries(s.positiveValues?.binCounts ?? {})) {
    bins.push([Number(k), c as number]);
  }
  bins.sort((a, b) => a[0] - b[0]);
  const zero: number = s.zeroCount ?? 0;
  const count = zero + bins.reduce((a, [, c]) => a + c, 0);
  // The representative value of bin i (lower bound gamma^i): the middle of [gamma^i, gamma^(i+1)).
  const value = (i: number) => (2 * gamma ** i * gamma) / (1 + gamma);
  return {
    gamma,
    count,
    quantile(q: number) {
      const rank = q * (count - 1);
      if (rank < zero) return 0;
      let seen = zero;
      for (const [i, c] of bins) {
        seen += c;
        if (seen > rank) return value(i);
      }
      return value(bins[bins.length - 1][0]);
    },
  };
}

/** A span with the given fields over empty ones. */
export function span(fields: Partial<Span>): Span {
  return { ...emptySpan(), ...fields };
}

/** Writes a string → string map. */
function strMap(w: MsgpackWriter, m: Record<string, string>): void {
  w.map(Object.keys(m).length);
  for (const [k, v] of Object.entries(m)) w.str(k).str(v);
}

/**
 * A `/v0.4/traces` msgpack body as dd-trace-js writes it: ids as uint64, start and duration
 * as int64, metrics as float64, plus an unknown key the decoder must skip.
 */
export function v04Body(traces: Span[][]): Uint8Array {
  const w = new MsgpackWriter();
  w.array(traces.length);
  for (const trace of traces) {
    w.array(trace.length);
    for (const s of trace) {
      w.map(13);
      w.str("trace_id").uint(BigInt(s.traceId));
      w.str("span_id").uint(BigInt(s.spanId));
      w.str("parent_id").uint(BigInt(s.parentId));
      w.str("name").str(s.name);
      w.str("resource").str(s.resource);
      w.str("service").str(s.service);
      w.str("type").str(s.type);
      w.str("error").int(s.error);
      w.str("start").int64(s.start);
      w.str("duration").int64(s.duration);
      w.str("meta");
      strMap(w, s.meta);
      w.str("metrics").map(Object.keys(s.metrics).length);
      for (const [k, v] of Object.entries(s.metrics)) w.str(k).float64(v);
      w.str("x_unknown").array(2).str("skip").map(1).str("me").nil();
    }
  }
  return w.finish();
}

/** A dd-trace-shaped trace: a web root with `n - 1` children, one of them a SQL span. */
export function webTrace(traceId: bigint, n: number, startNs: bigint): Span[] {
  const root = span({
    service: "web",
    name: "express.request",
    resource: "GET /users/:id",
    type: "web",
    traceId,
    spanId: traceId * 100n,
    parentId: 0n,
    start: startNs,
    duration: 5_000_000n,
    meta: {
      "http.method": "GET",
      "http.url": "http://localhost:3000/users/42",
      "http.status_code": "200",
      "span.kind": "server",
      component: "express",
      env: "prod",
      version: "1.2.3",
      "_dd.p.dm": "-0",
      "_dd.p.tid": "6553f0a200000000",
      language: "javascript",
    },
    metrics: { _sampling_priority_v1: 1, "_dd.agent_psr": 1, "_dd.top_level": 1, process_id: 4242 },
  });
  const spans = [root];
  for (let i = 1; i < n; i++) {
    const sql = i === 1;
    spans.push(span({
      service: sql ? "web-postgres" : "web",
      name: sql ? "pg.query" : `middleware.${i}`,
      resource: sql ? "SELECT * FROM users WHERE id = 42" : `mw${i}`,
      type: sql ? "sql" : "web",
      traceId,
      spanId: traceId * 100n + BigInt(i),
      parentId: root.spanId,
      start: startNs + BigInt(i) * 10_000n,
      duration: 100_000n * BigInt(i),
      meta: sql
        ? {
          "span.kind": "client",
          "db.type": "postgres",
          "db.name": "app",
          "out.host": "127.0.0.1",
        }
        : { component: "express" },
      metrics: {},
    }));
  }
  return spans;
}
