import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { configDefaults } from "../../../src/config/mod.ts";
import { Registry } from "../../../src/telemetry/registry.ts";
import { TRACE } from "../../../src/telemetry/events/mod.ts";
import {
  type ClientHints,
  decodeTracesV04,
  emptyTracerPayload,
  PRIORITY_NONE,
  type Span,
  type TraceChunk,
  traceProcessingSettings,
  TraceProcessor,
} from "../../../src/trace/mod.ts";
import {
  normalizeName,
  normalizeSpan,
  normalizeTagValue,
  truncateSpan,
} from "../../../src/trace/_normalize.ts";
import { computeTopLevel, rootOf } from "../../../src/trace/_toplevel.ts";
import { PrioritySampler, RateLimiter } from "../../../src/trace/_sampler.ts";
import { span, v04Body, webTrace } from "./_helpers.ts";

const HINTS: ClientHints = {
  computedTopLevel: false,
  computedStats: false,
  droppedP0Traces: 0,
  droppedP0Spans: 0,
};
const NOW_NS = 1_700_000_000_000_000_000n;

function normalized(fields: Partial<Span>, lang = "") {
  const fixes: string[] = [];
  const s = span({ traceId: 1n, spanId: 2n, start: NOW_NS, duration: 1n, ...fields });
  normalizeSpan(s, { lang, nowNs: NOW_NS, fix: (r) => fixes.push(r) });
  return { s, fixes };
}

describe("normalizeSpan()", () => {
  it("fills an empty service from the language, and an empty name and resource", () => {
    const { s, fixes } = normalized({ service: "", name: "" }, "python");
    assert.equal(s.service, "unnamed-python-service");
    assert.equal(s.name, "unnamed_operation");
    assert.equal(s.resource, "unnamed_operation");
    assert.deepEqual(fixes, ["service_empty", "span_name_empty", "resource_empty"]);
    assert.equal(normalized({ service: "" }).s.service, "unnamed-service");
  });

  it("normalizes service and env as tag values and names as metric names", () => {
    const { s } = normalized({
      service: "My Service!!",
      name: "9 Get Users!",
      resource: "r",
      meta: { env: "Prod Env" },
    });
    assert.equal(s.service, "my_service");
    assert.equal(s.name, "Get_Users");
    assert.equal(s.meta.env, "prod_env");
    assert.equal(normalizeTagValue("ok-value:1/2.3_x"), "ok-value:1/2.3_x");
    assert.equal(normalizeTagValue("Ünïcode Välue"), "ünïcode_välue");
    assert.equal(normalizeName("a..b__c!"), "a..b_c");
    assert.equal(normalizeName("a_.b"), "a.b");
    assert.equal(
      normalized({ service: "!!!", name: "n", resource: "r" }).fixes[0],
      "service_invalid",
    );
  });

  it("truncates long services, names and types on UTF-8 boundaries", () => {
    const { s, fixes } = normalized({
      service: "s".repeat(150),
      name: "n".repeat(150),
      resource: "r",
      type: "é".repeat(60),
    });
    assert.equal(s.service.length, 100);
    assert.equal(s.name.length, 100);
    assert.equal(s.type, "é".repeat(50)); // 100 bytes
    assert.deepEqual(fixes, ["service_truncate", "span_name_truncate", "type_truncate"]);
  });

  it("fixes negative durations, starts before 2000, parent = self, and bad HTTP codes", () => {
    const { s, fixes } = normalized({
      service: "s",
      name: "n",
      resource: "r",
      traceId: 5n,
      spanId: 5n,
      parentId: 5n,
      start: 1_000n,
      duration: -3n,
      meta: { "http.status_code": "abc" },
    });
    assert.equal(s.duration, 0n);
    assert.equal(s.start, NOW_NS);
    assert.equal(s.parentId, 0n);
    assert.equal(s.meta["http.status_code"], undefined);
    assert.deepEqual(fixes, ["invalid_duration", "invalid_start_date", "invalid_http_status_code"]);
  });

  it("truncateSpan() cuts long resources and tag values with a mark", () => {
    const s = span({
      resource: "r".repeat(6000),
      meta: { ["k".repeat(250)]: "v".repeat(30000) },
      metrics: { ["m".repeat(250)]: 1 },
    });
    truncateSpan(s);
    assert.equal(s.resource.length, 5000);
    const [[k, v]] = Object.entries(s.meta);
    assert.equal(k, "k".repeat(200) + "...");
    assert.equal(v, "v".repeat(25000) + "...");
    assert.deepEqual(Object.keys(s.metrics), ["m".repeat(200) + "..."]);
  });
});

describe("computeTopLevel()", () => {
  it("marks roots, orphans and service entry spans only", () => {
    const spans = [
      span({ service: "a", spanId: 1n, parentId: 0n }),
      span({ service: "a", spanId: 2n, parentId: 1n }),
      span({ service: "b", spanId: 3n, parentId: 2n }),
      span({ service: "b", spanId: 4n, parentId: 3n }),
      span({ service: "b", spanId: 5n, parentId: 99n }),
    ];
    computeTopLevel(spans);
    assert.deepEqual(spans.map((s) => s.metrics._top_level ?? 0), [1, 0, 1, 0, 1]);
    assert.equal(rootOf(spans).spanId, 1n);
    assert.equal(rootOf(spans.slice(1)).spanId, 5n);
  });
});

describe("PrioritySampler", () => {
  it("gives quiet services rate 1 and busy ones their share of the 10 TPS target", () => {
    const s = new PrioritySampler(10);
    let t = 0;
    // 40 s: "busy" at 100 traces/s, "quiet" at 1 trace/s.
    for (; t < 40_000; t += 10) {
      s.count("busy", "prod", 1, t);
      if (t % 1000 === 0) s.count("quiet", "prod", 1, t);
    }
    const rates = s.rates(t);
    assert.equal(rates["service:quiet,env:prod"], 1);
    // Water-filling: quiet uses 1 of the 10, busy gets the other 9 of its 100.
    assert.ok(
      Math.abs(rates["service:busy,env:prod"] - 0.09) < 1e-9,
      String(rates["service:busy,env:prod"]),
    );
    assert.ok(rates["service:,env:"] <= 0.09 + 1e-9);
  });

  it("lets a rate grow by at most ×1.2 per 5 s update once traffic drops, up to 1", () => {
    const s = new PrioritySampler(10);
    let t = 0;
    for (; t < 40_000; t += 10) s.count("busy", "prod", 1, t);
    const low = s.rates(t)["service:busy,env:prod"];
    assert.ok(low < 0.11);
    // Traffic falls to 1 trace/s: the rate climbs by 1.2 each update.
    const seen: number[] = [];
    const end = t + 150_000;
    for (; t < end; t += 1000) {
      s.count("busy", "prod", 1, t);
      seen.push(s.rate("busy", "prod"));
    }
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i] <= seen[i - 1] * 1.2 + 1e-12);
    assert.equal(s.rate("busy", "prod"), 1);
  });

  it("RateLimiter allows its rate per second", () => {
    const l = new RateLimiter(10);
    let allowed = 0;
    for (let t = 0; t < 10_000; t += 1) if (l.allow(t)) allowed++;
    assert.ok(allowed >= 100 && allowed <= 111, String(allowed));
  });
});

function chunk(priority: number, spans: Span[]): TraceChunk {
  return { priority, origin: "", spans, tags: {}, droppedTrace: false };
}

describe("TraceProcessor.process()", () => {
  const make = (registry = new Registry(), now = () => Number(NOW_NS / 1_000_000n)) =>
    new TraceProcessor(traceProcessingSettings(configDefaults()), {
      registry,
      hostname: "agent-host",
      now,
    });

  it("processes a decoded dd-trace body: obfuscated SQL, top-level marks, chunk attributes, ids kept", () => {
    const trace = webTrace((1n << 63n) + 12345n, 5, NOW_NS);
    const [spans] = decodeTracesV04(v04Body([trace]));
    const p = make();
    const payload = {
      ...emptyTracerPayload(),
      languageName: "nodejs",
      chunks: [chunk(PRIORITY_NONE, spans)],
    };
    const { kept, spans: n, droppedSpans } = p.process(payload, HINTS);
    assert.equal(n, 5);
    assert.equal(droppedSpans, 0);
    const [c] = kept!.chunks;
    assert.equal(c.priority, 1, "taken from _sampling_priority_v1");
    assert.equal(c.tags["_dd.p.dm"], "-0");
    const sql = c.spans.find((s) => s.type === "sql")!;
    assert.equal(sql.resource, "SELECT * FROM users WHERE id = ?");
    assert.equal(sql.meta["sql.query"], "SELECT * FROM users WHERE id = ?");
    assert.equal(sql.metrics._top_level, 1, "another service than its parent");
    assert.equal(c.spans[0].metrics._top_level, 1);
    assert.equal(c.spans[2].metrics._top_level, undefined);
    assert.equal(c.spans[0].traceId, (1n << 63n) + 12345n);
    assert.equal(kept!.env, "prod");
  });

  it("with Datadog-Client-Computed-Top-Level, copies only the tracer's _dd.top_level marks", () => {
    const p = make();
    const spans = [
      span({
        service: "a",
        name: "n",
        traceId: 9n,
        spanId: 1n,
        start: NOW_NS,
        metrics: { "_dd.top_level": 1 },
      }),
      span({ service: "b", name: "n", traceId: 9n, spanId: 2n, parentId: 1n, start: NOW_NS }),
    ];
    const { kept } = p.process({ ...emptyTracerPayload(), chunks: [chunk(1, spans)] }, {
      ...HINTS,
      computedTopLevel: true,
    });
    assert.deepEqual(kept!.chunks[0].spans.map((s) => s.metrics._top_level), [1, undefined]);
  });

  it("drops bad traces with their reason and counts span fixes", () => {
    const registry = new Registry();
    const p = make(registry);
    const good = span({ service: "", name: "n", traceId: 1n, spanId: 1n, start: NOW_NS });
    const payload = {
      ...emptyTracerPayload(),
      chunks: [
        chunk(1, []),
        chunk(1, [span({ traceId: 0n, spanId: 1n })]),
        chunk(1, [span({ traceId: 1n, spanId: 0n })]),
        chunk(1, [span({ traceId: 1n, spanId: 1n }), span({ traceId: 2n, spanId: 2n })]),
        chunk(1, [good]),
      ],
    };
    const { kept, spans, droppedSpans } = p.process(payload, HINTS);
    assert.equal(kept!.chunks.length, 1);
    assert.equal(spans, 5);
    assert.equal(droppedSpans, 4);
    assert.deepEqual(registry.read(TRACE.tracesDropped), {
      empty_trace: 1,
      trace_id_zero: 1,
      span_id_zero: 1,
      foreign_span: 1,
    });
    assert.equal((registry.read(TRACE.spansMalformed) as Record<string, number>).service_empty, 1);
  });

  it("keeps priority > 0, drops user rejects and P0s, keeps P0s with errors up to the errors rate", () => {
    const registry = new Registry();
    const p = make(registry);
    const t = (
      id: bigint,
      error = 0,
    ) => [span({ service: "s", name: "n", traceId: id, spanId: id, start: NOW_NS, error })];
    const chunks = [chunk(2, t(1n)), chunk(1, t(2n)), chunk(-1, t(3n)), chunk(0, t(4n))];
    for (let i = 0; i < 20; i++) chunks.push(chunk(0, t(100n + BigInt(i), 1)));
    const { kept } = p.process({ ...emptyTracerPayload(), chunks }, HINTS);
    assert.deepEqual(registry.read(TRACE.tracesKept), { priority: 2, error: 10 });
    assert.deepEqual(registry.read(TRACE.tracesSampledOut), { user_reject: 1, priority: 11 });
    assert.equal(kept!.chunks.length, 12);
  });

  it("rateByService() starts with the default key at 1 and learns from P0/P1 traffic", () => {
    let now = Number(NOW_NS / 1_000_000n);
    const p = make(new Registry(), () => now);
    assert.deepEqual(p.rateByService(), { "service:,env:": 1 });
    for (let i = 0; i < 4000; i++, now += 10) {
      const s = span({
        service: "api",
        name: "n",
        traceId: BigInt(i + 1),
        spanId: 1n,
        start: NOW_NS,
        meta: { env: "staging" },
      });
      p.process({ ...emptyTracerPayload(), chunks: [chunk(1, [s])] }, {
        ...HINTS,
        droppedP0Traces: 1,
      });
    }
    const rates = p.rateByService();
    // 100 kept + 100 client-dropped traces a second: 10 / 200.
    assert.ok(Math.abs(rates["service:api,env:staging"] - 0.05) < 1e-9, JSON.stringify(rates));
  });

  it("processClientStats() normalizes and obfuscates client stats groups", () => {
    const p = make();
    const out = p.processClientStats({
      hostname: "",
      env: "",
      version: "",
      lang: "go",
      tracerVersion: "",
      runtimeID: "",
      sequence: 1,
      agentAggregation: "",
      service: "",
      containerID: "",
      tags: [],
      gitCommitSha: "",
      imageTag: "",
      processTagsHash: 0n,
      processTags: "",
      stats: [{
        start: 0n,
        duration: 10n,
        agentTimeShift: 0n,
        stats: [
          {
            ...group(),
            service: "My Svc",
            name: "pg query",
            type: "sql",
            resource: "SELECT 1 FROM t WHERE a = 'x'",
          },
          {
            ...group(),
            service: "s",
            name: "redis.command",
            type: "redis",
            resource: "SET k v\nGET k",
          },
        ],
      }],
    });
    assert.equal(out.env, "none");
    assert.equal(out.hostname, "agent-host");
    const [a, b] = out.stats[0].stats;
    assert.deepEqual([a.service, a.name, a.resource], [
      "my_svc",
      "pg_query",
      "SELECT ? FROM t WHERE a = ?",
    ]);
    assert.equal(b.resource, "SET GET");
  });
});

function group() {
  return {
    service: "",
    name: "",
    resource: "",
    httpStatusCode: 0,
    type: "",
    dbType: "",
    hits: 1,
    errors: 0,
    duration: 1,
    okSummary: new Uint8Array(0),
    errorSummary: new Uint8Array(0),
    synthetics: false,
    topLevelHits: 1,
    spanKind: "",
    peerTags: [],
    isTraceRoot: 0,
    grpcStatusCode: "",
    httpMethod: "",
    httpEndpoint: "",
  };
}
