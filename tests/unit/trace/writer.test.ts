import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { apmEvents, Registry } from "../../../src/telemetry/mod.ts";
import type { Delivery, Payload } from "../../../src/forwarder/mod.ts";
import { TraceWriter } from "../../../src/trace/_writer.ts";
import { StatsWriter } from "../../../src/trace/_writer_stats.ts";
import { emptySpan, emptyTracerPayload, type TracerPayload } from "../../../src/trace/mod.ts";
import { decodeMsgpack } from "../../../src/intake/_traces.ts";
import { AgentPayload } from "../../_trace_payload.ts";

type Status = "delivered" | "stored" | "errored" | "rejected";

/** A submit that records payloads and settles each when told. */
function recorder() {
  const sent: Payload[] = [];
  const settle: Array<(s: Status) => void> = [];
  const submit = (p: Payload): Delivery => {
    sent.push(p);
    return {
      done: new Promise((resolve) => settle.push((status) => resolve({ status, reason: status }))),
    };
  };
  return { sent, settle, submit };
}

function payload(spans: number, lang = "nodejs", from = 1n): TracerPayload {
  const p = emptyTracerPayload();
  p.languageName = lang;
  p.chunks = [{
    priority: 1,
    origin: "",
    tags: {},
    droppedTrace: false,
    spans: Array.from({ length: spans }, (_, i) => ({
      ...emptySpan(),
      service: "web",
      name: "op",
      resource: "GET /",
      traceId: 18446744073709551615n,
      spanId: from + BigInt(i),
      start: 1_700_000_000_000_000_000n,
      duration: 5n,
      meta: { k: "v" },
    })),
  }];
  return p;
}

function decoded(p: Payload) {
  return AgentPayload.toObject(AgentPayload.decode(gunzipSync(p.body)), {
    longs: String,
    defaults: true,
  });
}

const counters = () => apmEvents(new Registry(), { receiver: () => ({}) });

describe("TraceWriter", () => {
  it("tick() sends one gzip AgentPayload with every buffered payload, to the traces pipeline", () => {
    const r = recorder();
    const writer = new TraceWriter({
      counters: counters(),
      submit: r.submit,
      hostname: "h1",
      env: "prod",
      targetTPS: 10,
      errorTPS: 5,
    });
    writer.add(payload(2, "nodejs"));
    writer.add(payload(1, "python", 10n));
    assert.equal(writer.bufferedSpans, 3);
    writer.tick();
    assert.equal(r.sent.length, 1);
    const [p] = r.sent;
    assert.equal(p.route, "/api/v0.2/traces");
    assert.equal(p.pipeline, "traces");
    assert.equal(p.storable, true);
    assert.equal(p.headers["Content-Type"], "application/x-protobuf");
    assert.equal(p.headers["Content-Encoding"], "gzip");
    assert.equal(p.headers["X-Datadog-Reported-Languages"], "nodejs|python");
    const ap = decoded(p);
    assert.equal(ap.hostName, "h1");
    assert.equal(ap.env, "prod");
    assert.equal(ap.targetTPS, 10);
    assert.equal(ap.errorTPS, 5);
    assert.equal(ap.tracerPayloads.length, 2);
    const span = ap.tracerPayloads[0].chunks[0].spans[0];
    assert.equal(span.traceID, "18446744073709551615");
    assert.equal(span.start, "1700000000000000000");
    assert.equal(writer.bufferedSpans, 0);
    writer.tick();
    assert.equal(r.sent.length, 1, "nothing buffered, nothing sent");
  });

  it("add() sends the buffer first when the next payload would pass the size limit", () => {
    const r = recorder();
    const writer = new TraceWriter({
      counters: counters(),
      submit: r.submit,
      hostname: "h",
      env: "none",
      targetTPS: 10,
      errorTPS: 10,
      maxPayloadBytes: 2000,
    });
    for (let i = 0; i < 10; i++) writer.add(payload(5, "go", BigInt(i * 10 + 1)));
    writer.tick();
    assert.ok(r.sent.length > 2, `${r.sent.length} payloads`);
    const ids = r.sent.flatMap((p) =>
      decoded(p).tracerPayloads.flatMap((tp: any) => tp.chunks[0].spans.map((s: any) => s.spanID))
    );
    assert.equal(ids.length, 50);
    assert.equal(new Set(ids).size, 50, "every span once");
  });

  it("flush() resolves only once what was handed over is delivered or stored, and counts the outcome", async () => {
    const r = recorder();
    const c = counters();
    const writer = new TraceWriter({
      counters: c,
      submit: r.submit,
      hostname: "h",
      env: "none",
      targetTPS: 10,
      errorTPS: 10,
    });
    writer.add(payload(1));
    let flushed = false;
    const done = writer.flush().then(() => (flushed = true));
    await new Promise((res) => setTimeout(res, 10));
    assert.equal(flushed, false);
    r.settle[0]("stored");
    await done;
    assert.deepEqual(c.writerPayloads.toJSON(), { submitted: 1, stored: 1 });
    assert.equal(c.writerSpans.value, 1);
  });
});

describe("StatsWriter", () => {
  it("write() sends msgpack with the Go agent's field names, gzip, application/msgpack", () => {
    const r = recorder();
    const c = counters();
    const writer = new StatsWriter({ counters: c, submit: r.submit });
    writer.write({
      agentHostname: "h",
      agentEnv: "prod",
      agentVersion: "7.0.0",
      clientComputed: false,
      splitPayload: false,
      stats: [{
        hostname: "",
        env: "prod",
        version: "1.0",
        lang: "nodejs",
        tracerVersion: "5",
        runtimeID: "",
        sequence: 3,
        agentAggregation: "",
        service: "web",
        containerID: "",
        tags: [],
        gitCommitSha: "",
        imageTag: "",
        processTagsHash: 0n,
        processTags: "",
        stats: [{
          start: 1_700_000_000_000_000_000n,
          duration: 10_000_000_000n,
          agentTimeShift: 0n,
          stats: [{
            service: "web",
            name: "http.request",
            resource: "GET /",
            httpStatusCode: 200,
            type: "web",
            dbType: "",
            hits: 7,
            errors: 1,
            duration: 700,
            okSummary: new Uint8Array([1, 2]),
            errorSummary: new Uint8Array(),
            synthetics: false,
            topLevelHits: 7,
            spanKind: "server",
            peerTags: ["peer.service:db"],
            isTraceRoot: 1,
            grpcStatusCode: "",
            httpMethod: "GET",
            httpEndpoint: "/",
          }],
        }],
      }],
    });
    assert.equal(r.sent.length, 1);
    const [p] = r.sent;
    assert.equal(p.route, "/api/v0.2/stats");
    assert.equal(p.headers["Content-Type"], "application/msgpack");
    assert.equal(p.headers["X-Datadog-Reported-Languages"], "nodejs");
    const doc = decodeMsgpack(gunzipSync(p.body)) as any;
    assert.equal(doc.AgentHostname, "h");
    assert.equal(doc.ClientComputed, false);
    const client = doc.Stats[0];
    assert.equal(client.Sequence, 3);
    const bucket = client.Stats[0];
    assert.equal(bucket.Start, "1700000000000000000");
    assert.equal(bucket.Duration, 10_000_000_000);
    const g = bucket.Stats[0];
    assert.deepEqual(
      [
        g.Service,
        g.Name,
        g.Resource,
        g.HTTPStatusCode,
        g.Hits,
        g.Errors,
        g.Duration,
        g.TopLevelHits,
      ],
      ["web", "http.request", "GET /", 200, 7, 1, 700, 7],
    );
    assert.equal(g.OkSummary, btoa("\x01\x02"));
    assert.deepEqual(g.PeerTags, ["peer.service:db"]);
    assert.equal(g.IsTraceRoot, 1);
    assert.equal(c.statsBuckets.value, 1);
  });

  it("write() sends nothing for null or empty stats", () => {
    const r = recorder();
    const writer = new StatsWriter({ counters: counters(), submit: r.submit });
    writer.write(null);
    writer.write({
      agentHostname: "h",
      agentEnv: "e",
      agentVersion: "v",
      clientComputed: false,
      splitPayload: false,
      stats: [],
    });
    assert.equal(r.sent.length, 0);
  });
});
