import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { configDefaults } from "../../../src/config/mod.ts";
import { Registry } from "../../../src/telemetry/registry.ts";
import {
  type ClientHints,
  emptyTracerPayload,
  encodeStatsPayload,
  type Span,
  splitStatsPayload,
  traceProcessingSettings,
  TraceProcessor,
} from "../../../src/trace/mod.ts";
import { Concentrator, DEFAULT_PEER_TAGS } from "../../../src/trace/_stats.ts";
import { MsgpackReader } from "../../../src/trace/_msgpack.ts";
import { decodeMsgpack } from "../../../src/intake/_traces.ts";
import { decodeSketchPb, span } from "./_helpers.ts";

/** A StatsPayload as the intake's generic msgpack reader gives it: the fields this test reads. */
interface WireStatsPayload {
  AgentHostname: string;
  ClientComputed: boolean;
  Stats: Array<{
    Env: string;
    Hostname: string;
    Lang: string;
    Stats: Array<{
      Start: string;
      Duration: number;
      Stats: Array<{
        Service: string;
        Name: string;
        Resource: string;
        Hits: number;
        Errors: number;
        TopLevelHits: number;
        Duration: number;
        IsTraceRoot: number;
        OkSummary: string;
        ErrorSummary: string;
      }>;
    }>;
  }>;
}

const HINTS: ClientHints = {
  computedTopLevel: false,
  computedStats: false,
  droppedP0Traces: 0,
  droppedP0Spans: 0,
};
const SEC = 1_000_000_000n;
/** A bucket-aligned start well in the past of the processor's clock. */
const T0 = 1_700_000_000n * SEC;
const NOW_MS = Number((T0 + 60n * SEC) / 1_000_000n);

/** A deterministic PRNG (mulberry32), so the generated spans are the same every run. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Expected {
  hits: number;
  errors: number;
  topLevelHits: number;
  duration: number;
  ok: number[];
  err: number[];
}

describe("stats computed by TraceProcessor", () => {
  it("1,000 generated spans: counts and durations as worked out here, quantiles within the sketch's accuracy", () => {
    const rand = prng(42);
    const resources = ["GET /a", "GET /b", "POST /c"];
    const expected = new Map<string, Expected>();
    const expect = (s: Span, w: number) => {
      const k = `${s.service}|${s.name}|${s.resource}`;
      let e = expected.get(k);
      if (!e) {
        expected.set(k, e = { hits: 0, errors: 0, topLevelHits: 0, duration: 0, ok: [], err: [] });
      }
      e.hits += w;
      e.topLevelHits += w;
      e.duration += Number(s.duration) * w;
      if (s.error) {
        e.errors += w;
        e.err.push(Number(s.duration));
      } else e.ok.push(Number(s.duration));
    };
    let nowMs = Number(T0 / 1_000_000n);
    const processor = new TraceProcessor(traceProcessingSettings(configDefaults()), {
      registry: new Registry(),
      hostname: "agent-host",
      now: () => nowMs,
      random: () => 0.5,
    });
    let total = 0;
    for (let t = 1; t <= 100; t++) {
      const traceId = BigInt(t);
      // Even traces were sampled by the client at 0.5: each of their spans weighs 2.
      const w = t % 2 === 0 ? 2 : 1;
      const spans: Span[] = [];
      const dur = () => BigInt(1000 + Math.floor(rand() * 999_000_000));
      const err = () => (rand() < 0.1 ? 1 : 0);
      const root = span({
        service: "web",
        name: "web.request",
        resource: resources[t % 3],
        type: "web",
        traceId,
        spanId: traceId * 1000n,
        start: T0 + BigInt(t) * 10_000_000n,
        duration: dur(),
        error: err(),
        metrics: { _sampling_priority_v1: 1, ...(w === 2 ? { _sample_rate: 0.5 } : {}) },
        meta: { env: "prod" },
      });
      spans.push(root);
      for (let i = 1; i < 10; i++) {
        const db = i <= 3; // client spans of another service: top-level, counted
        spans.push(span({
          service: db ? "db" : "web",
          name: db ? "pg.query" : "internal.work",
          resource: db ? "SELECT * FROM t WHERE id = ?" : "work",
          type: db ? "sql" : "",
          traceId,
          spanId: traceId * 1000n + BigInt(i),
          parentId: root.spanId,
          start: root.start + BigInt(i),
          duration: dur(),
          error: err(),
          meta: db ? { "span.kind": "client" } : {},
        }));
      }
      for (const s of spans) if (s.service === "db" || s.parentId === 0n) expect(s, w);
      total += spans.length;
      const payload = {
        ...emptyTracerPayload(),
        languageName: "nodejs",
        chunks: [{ priority: 1, origin: "", spans, tags: {}, droppedTrace: false }],
      };
      processor.process(payload, HINTS);
    }
    assert.equal(total, 1000);

    nowMs = NOW_MS;
    const out = processor.flushStats(false);
    assert.ok(out, "the bucket is 50 s old: it must be flushed");
    // Through the wire format, read back by the local intake's own msgpack reader (Go's field
    // names; integers past 2^53 as decimal strings, binary as base64).
    const decoded = decodeMsgpack(encodeStatsPayload(out)) as WireStatsPayload;
    assert.equal(decoded.AgentHostname, "agent-host");
    assert.equal(decoded.ClientComputed, false);
    assert.equal(decoded.Stats.length, 1);
    const [payload] = decoded.Stats;
    assert.equal(payload.Env, "prod");
    assert.equal(payload.Hostname, "agent-host");
    assert.equal(payload.Lang, "nodejs");
    assert.equal(payload.Stats.length, 1);
    assert.equal(payload.Stats[0].Start, String(T0));
    assert.equal(payload.Stats[0].Duration, Number(10n * SEC));
    const groups = payload.Stats[0].Stats;
    assert.equal(groups.length, expected.size);
    for (const g of groups) {
      const e = expected.get(`${g.Service}|${g.Name}|${g.Resource}`);
      assert.ok(e, `unexpected group ${g.Service} ${g.Name} ${g.Resource}`);
      assert.equal(g.Hits, e.hits, `hits of ${g.Resource}`);
      assert.equal(g.Errors, e.errors, `errors of ${g.Resource}`);
      assert.equal(g.TopLevelHits, e.topLevelHits);
      assert.equal(g.Duration, e.duration, `duration of ${g.Resource}`);
      assert.equal(g.IsTraceRoot, g.Service === "web" ? 1 : 2);
      for (const [b64, values] of [[g.OkSummary, e.ok], [g.ErrorSummary, e.err]] as const) {
        const sketch = decodeSketchPb(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
        // Sketches hold each span once, unweighted.
        assert.equal(sketch.count, values.length);
        if (values.length === 0) continue;
        const sorted = [...values].sort((a, b) => a - b);
        for (const q of [0, 0.25, 0.5, 0.75, 0.9, 0.99, 1]) {
          const actual = sorted[Math.floor(q * (sorted.length - 1))];
          const got = sketch.quantile(q);
          // 1 % from the sketch, 0.1 % from the 10-bit trim of durations before insertion.
          assert.ok(
            Math.abs(got - actual) <= actual * 0.011,
            `p${q * 100} of ${g.Resource}: ${got} vs ${actual}`,
          );
        }
      }
    }
    // 100 roots + 300 db spans counted; the 600 internal spans are not.
    assert.equal(
      groups.reduce((a, g) => a + g.Hits, 0),
      [...expected.values()].reduce((a, e) => a + e.hits, 0),
    );
    assert.equal(processor.flushStats(true), null, "nothing is left after the flush");
  });

  it("skips the chunk with Datadog-Client-Computed-Stats", () => {
    const processor = new TraceProcessor(traceProcessingSettings(configDefaults()), {
      registry: new Registry(),
      hostname: "h",
      now: () => NOW_MS,
    });
    const s = span({ service: "s", name: "n", traceId: 1n, spanId: 1n, start: T0, duration: 5n });
    processor.process({
      ...emptyTracerPayload(),
      chunks: [{ priority: 1, origin: "", spans: [s], tags: {}, droppedTrace: false }],
    }, {
      ...HINTS,
      computedStats: true,
    });
    assert.equal(processor.flushStats(true), null);
  });
});

describe("Concentrator", () => {
  const settings = {
    computeStatsBySpanKind: true,
    peerTagsAggregation: true,
    peerTagKeys: [...DEFAULT_PEER_TAGS].sort(),
    agentHostname: "h",
    agentEnv: "none",
    agentVersion: "7",
  };
  const key = { env: "prod", hostname: "h", version: "", lang: "", gitCommitSha: "", imageTag: "" };
  const chunk = (spans: Span[], origin = "") => ({
    priority: 1,
    origin,
    spans,
    tags: {},
    droppedTrace: false,
  });

  it("emits a bucket with the first flush 20 s after it, not before", () => {
    const c = new Concentrator(settings, T0);
    const s = span({
      service: "s",
      name: "n",
      traceId: 1n,
      spanId: 1n,
      start: T0 + SEC,
      duration: SEC,
      metrics: { _top_level: 1 },
    });
    c.add(chunk([s]), s, key);
    assert.equal(c.flush(T0 + 19n * SEC, false), null);
    assert.equal(c.flush(T0 + 20n * SEC, false)!.stats[0].stats[0].start, T0);
  });

  it("counts a late span in the oldest open bucket", () => {
    const c = new Concentrator(settings, T0 + 300n * SEC);
    const s = span({
      service: "s",
      name: "n",
      traceId: 1n,
      spanId: 1n,
      start: T0,
      duration: SEC,
      metrics: { _top_level: 1 },
    });
    c.add(chunk([s]), s, key);
    assert.equal(c.flush(T0 + 400n * SEC, false)!.stats[0].stats[0].start, T0 + 300n * SEC);
  });

  it("groups client spans by peer tags and skips internal and partial spans", () => {
    const c = new Concentrator(settings, T0);
    const client = span({
      service: "s",
      name: "q",
      traceId: 1n,
      spanId: 2n,
      parentId: 1n,
      start: T0,
      duration: 10n,
      meta: { "span.kind": "client", "db.instance": "x", "peer.service": "y" },
    });
    const internal = span({
      service: "s",
      name: "i",
      traceId: 1n,
      spanId: 3n,
      parentId: 1n,
      start: T0,
      duration: 10n,
    });
    const partial = span({
      service: "s",
      name: "p",
      traceId: 1n,
      spanId: 4n,
      start: T0,
      duration: 10n,
      metrics: { _top_level: 1, "_dd.partial_version": 1 },
    });
    c.add(chunk([client, internal, partial], "synthetics-browser"), client, key);
    const groups = c.flush(T0 + 60n * SEC, false)!.stats[0].stats[0].stats;
    assert.equal(groups.length, 1);
    assert.deepEqual(groups[0].peerTags, ["db.instance:x", "peer.service:y"]);
    assert.equal(groups[0].spanKind, "client");
    assert.equal(groups[0].synthetics, true);
    assert.equal(groups[0].topLevelHits, 0);
  });
});

describe("splitStatsPayload()", () => {
  it("deals more than 4,000 groups round-robin into parts marked splitPayload, losing none", () => {
    const c = new Concentrator({
      computeStatsBySpanKind: true,
      peerTagsAggregation: true,
      peerTagKeys: [],
      agentHostname: "h",
      agentEnv: "none",
      agentVersion: "7",
    }, T0);
    const key = {
      env: "prod",
      hostname: "h",
      version: "",
      lang: "",
      gitCommitSha: "",
      imageTag: "",
    };
    for (let i = 0; i < 9000; i++) {
      const s = span({
        service: "s",
        name: "n",
        resource: `r${i}`,
        traceId: 1n,
        spanId: BigInt(i + 1),
        start: T0,
        duration: 1n,
        metrics: { _top_level: 1 },
      });
      c.add({ priority: 1, origin: "", spans: [s], tags: {}, droppedTrace: false }, s, key);
    }
    const whole = c.flush(T0 + 60n * SEC, false)!;
    const parts = splitStatsPayload(whole);
    assert.equal(parts.length, 3);
    const sizes = parts.map((p) => p.stats[0].stats[0].stats.length);
    assert.deepEqual(sizes, [3000, 3000, 3000]);
    assert.ok(parts.every((p) => p.splitPayload && p.stats[0].stats[0].start === T0));
    const resources = new Set(
      parts.flatMap((p) => p.stats[0].stats[0].stats.map((g) => g.resource)),
    );
    assert.equal(resources.size, 9000);
  });
});

describe("encodeStatsPayload()", () => {
  it("writes exactly the Go field names, in msgpack maps", () => {
    const c = new Concentrator({
      computeStatsBySpanKind: true,
      peerTagsAggregation: true,
      peerTagKeys: [],
      agentHostname: "h",
      agentEnv: "none",
      agentVersion: "7",
    }, T0);
    const s = span({
      service: "s",
      name: "n",
      traceId: 1n,
      spanId: 1n,
      start: T0,
      duration: 1n,
      metrics: { _top_level: 1 },
    });
    c.add({ priority: 1, origin: "", spans: [s], tags: {}, droppedTrace: false }, s, {
      env: "prod",
      hostname: "h",
      version: "",
      lang: "",
      gitCommitSha: "",
      imageTag: "",
    });
    const r = new MsgpackReader(encodeStatsPayload(c.flush(T0 + 60n * SEC, false)!));
    /** Any msgpack value as plain JS, map keys as written. */
    const value = (): unknown => {
      const b = r.peek();
      if ((b & 0xf0) === 0x80 || b === 0xde || b === 0xdf) {
        const o: Record<string, unknown> = {};
        for (let i = r.mapLen(); i > 0; i--) o[r.str()] = value();
        return o;
      }
      if ((b & 0xf0) === 0x90 || b === 0xdc || b === 0xdd) {
        return Array.from({ length: r.arrayLen() }, value);
      }
      if ((b & 0xe0) === 0xa0 || (b >= 0xd9 && b <= 0xdb)) return r.str();
      if (b >= 0xc4 && b <= 0xc6) return r.bytes();
      if (b === 0xc2 || b === 0xc3) return r.bool();
      return r.float();
    };
    /** Dotted key paths, arrays of maps entered through their first element. */
    const paths = (v: unknown, prefix = ""): string[] => {
      if (Array.isArray(v)) return v.length && typeof v[0] === "object" ? paths(v[0], prefix) : [];
      if (v === null || typeof v !== "object" || v instanceof Uint8Array) return [];
      return Object.entries(v).flatMap(([k, x]) => [prefix + k, ...paths(x, `${prefix}${k}.`)]);
    };
    const all = paths(value());
    for (
      const k of [
        "AgentHostname",
        "AgentEnv",
        "Stats",
        "AgentVersion",
        "ClientComputed",
        "SplitPayload",
        "Stats.Hostname",
        "Stats.Env",
        "Stats.Version",
        "Stats.Lang",
        "Stats.TracerVersion",
        "Stats.RuntimeID",
        "Stats.Sequence",
        "Stats.AgentAggregation",
        "Stats.Service",
        "Stats.ContainerID",
        "Stats.Tags",
        "Stats.GitCommitSha",
        "Stats.ImageTag",
        "Stats.ProcessTagsHash",
        "Stats.ProcessTags",
        "Stats.Stats.Start",
        "Stats.Stats.Duration",
        "Stats.Stats.AgentTimeShift",
        "Stats.Stats.Stats.Service",
        "Stats.Stats.Stats.Name",
        "Stats.Stats.Stats.Resource",
        "Stats.Stats.Stats.HTTPStatusCode",
        "Stats.Stats.Stats.Type",
        "Stats.Stats.Stats.DBType",
        "Stats.Stats.Stats.Hits",
        "Stats.Stats.Stats.Errors",
        "Stats.Stats.Stats.Duration",
        "Stats.Stats.Stats.OkSummary",
        "Stats.Stats.Stats.ErrorSummary",
        "Stats.Stats.Stats.Synthetics",
        "Stats.Stats.Stats.TopLevelHits",
        "Stats.Stats.Stats.SpanKind",
        "Stats.Stats.Stats.PeerTags",
        "Stats.Stats.Stats.IsTraceRoot",
        "Stats.Stats.Stats.GRPCStatusCode",
        "Stats.Stats.Stats.HTTPMethod",
        "Stats.Stats.Stats.HTTPEndpoint",
      ]
    ) assert.ok(all.includes(k), `missing ${k} in ${all.join(" ")}`);
  });
});
