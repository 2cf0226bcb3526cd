import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { encodeAgentPayload, type TracerPayload } from "../../../src/trace/mod.ts";
import { Sketch } from "../../../src/trace/_sketch.ts";
import { decodeAgentPayloadPb, decodeSketchPb, span } from "./_helpers.ts";

const MAX_U64 = (1n << 64n) - 1n;

describe("encodeAgentPayload()", () => {
  it("decodes with protobufjs and the intake's protos into exactly the spans, links and events", () => {
    const s = span({
      service: "web",
      name: "express.request",
      resource: "GET /",
      type: "web",
      traceId: MAX_U64,
      spanId: 9007199254740993n,
      parentId: 1n,
      start: 1_700_000_000_123_456_789n,
      duration: 1_234_567n,
      error: 1,
      meta: { "error.msg": "boom", "_dd.p.tid": "6553f0a200000000", "ünï": "cödé" },
      metrics: { _sampling_priority_v1: 2, zero: 0, neg: -1.5 },
      metaStruct: { appsec: new Uint8Array([1, 2, 3]) },
      spanLinks: [{
        traceId: 5n,
        traceIdHigh: MAX_U64,
        spanId: 6n,
        attributes: { "link.name": "x" },
        tracestate: "dd=s:1",
        flags: 0x80000001,
      }],
      spanEvents: [{
        timeUnixNano: 1_700_000_000_000_000_001n,
        name: "exception",
        attributes: {
          message: { type: 0, value: "boom" },
          ok: { type: 1, value: true },
          n: { type: 2, value: -7n },
          d: { type: 3, value: 2.5 },
          list: { type: 4, value: [{ type: 0, value: "a" }, { type: 2, value: 3n }] },
        },
      }],
    });
    const tp: TracerPayload = {
      containerID: "cid",
      languageName: "nodejs",
      languageVersion: "v20",
      tracerVersion: "5.0.0",
      runtimeID: "rt",
      chunks: [{
        priority: -1,
        origin: "synthetics",
        spans: [s],
        tags: { "_dd.p.dm": "-4" },
        droppedTrace: true,
      }],
      tags: { k: "v" },
      env: "prod",
      hostname: "h1",
      appVersion: "1.0",
    };
    const bytes = encodeAgentPayload({
      hostName: "agent",
      env: "none",
      tracerPayloads: [tp],
      tags: { a: "b" },
      agentVersion: "7.99.0",
      targetTPS: 10,
      errorTPS: 10,
      rareSamplerEnabled: false,
    });
    const p = decodeAgentPayloadPb(bytes);
    assert.equal(p.hostName, "agent");
    assert.equal(p.env, "none");
    assert.equal(p.agentVersion, "7.99.0");
    assert.equal(p.targetTPS, 10);
    assert.deepEqual(p.tags, { a: "b" });
    const t = p.tracerPayloads[0];
    assert.deepEqual(
      [
        t.containerID,
        t.languageName,
        t.languageVersion,
        t.tracerVersion,
        t.runtimeID,
        t.env,
        t.hostname,
        t.appVersion,
      ],
      ["cid", "nodejs", "v20", "5.0.0", "rt", "prod", "h1", "1.0"],
    );
    assert.deepEqual(t.tags, { k: "v" });
    const c = t.chunks[0];
    assert.equal(c.priority, -1);
    assert.equal(c.origin, "synthetics");
    assert.equal(c.droppedTrace, true);
    assert.deepEqual(c.tags, { "_dd.p.dm": "-4" });
    const d = c.spans[0];
    assert.equal(d.traceID, MAX_U64.toString());
    assert.equal(d.spanID, "9007199254740993");
    assert.equal(d.parentID, "1");
    assert.equal(d.start, "1700000000123456789");
    assert.equal(d.duration, "1234567");
    assert.equal(d.error, 1);
    assert.deepEqual(d.meta, s.meta);
    assert.deepEqual(d.metrics, s.metrics);
    assert.deepEqual([...d.meta_struct.appsec], [1, 2, 3]);
    assert.equal(d.type, "web");
    const link = d.spanLinks[0];
    assert.deepEqual(
      [link.traceID, link.traceID_high, link.spanID, link.tracestate, link.flags],
      ["5", MAX_U64.toString(), "6", "dd=s:1", 0x80000001],
    );
    assert.deepEqual(link.attributes, { "link.name": "x" });
    const ev = d.spanEvents[0];
    assert.equal(ev.time_unix_nano, "1700000000000000001");
    assert.equal(ev.name, "exception");
    assert.equal(ev.attributes.message.string_value, "boom");
    assert.equal(ev.attributes.ok.type, 1);
    assert.equal(ev.attributes.ok.bool_value, true);
    assert.equal(ev.attributes.n.int_value, "-7");
    assert.equal(ev.attributes.d.double_value, 2.5);
    assert.equal(ev.attributes.list.type, 4);
    assert.deepEqual(
      ev.attributes.list.array_value.values.map((v: any) => [v.type, v.string_value, v.int_value]),
      [
        [0, "a", "0"],
        [2, "", "3"],
      ],
    );
  });

  it("writes negative start and int64 values as protobuf two's complement", () => {
    const s = span({ traceId: 1n, spanId: 2n, start: -5n, duration: -1n, error: 0 });
    const tp: TracerPayload = {
      containerID: "",
      languageName: "",
      languageVersion: "",
      tracerVersion: "",
      runtimeID: "",
      chunks: [{ priority: 0, origin: "", spans: [s], tags: {}, droppedTrace: false }],
      tags: {},
      env: "",
      hostname: "",
      appVersion: "",
    };
    const p = decodeAgentPayloadPb(encodeAgentPayload({
      hostName: "",
      env: "",
      tracerPayloads: [tp],
      tags: {},
      agentVersion: "",
      targetTPS: 0,
      errorTPS: 0,
      rareSamplerEnabled: false,
    }));
    assert.equal(p.tracerPayloads[0].chunks[0].spans[0].start, "-5");
    assert.equal(p.tracerPayloads[0].chunks[0].spans[0].duration, "-1");
  });
});

describe("Sketch.encode()", () => {
  it("decodes as a DDSketch with gamma 1.0202… whose quantiles are within 1 %", () => {
    const sk = new Sketch();
    const values: number[] = [];
    for (let i = 0; i < 5000; i++) values.push(Math.round(1000 * 1.003 ** i));
    for (const v of values) sk.add(v);
    sk.add(0);
    const d = decodeSketchPb(sk.encode());
    assert.ok(Math.abs(d.gamma - 1.01 / 0.99) < 1e-12);
    assert.equal(d.count, 5001);
    const sorted = [0, ...values].sort((a, b) => a - b);
    for (const q of [0.01, 0.1, 0.5, 0.9, 0.99]) {
      const actual = sorted[Math.floor(q * (sorted.length - 1))];
      assert.ok(Math.abs(d.quantile(q) - actual) <= actual * 0.01, `p${q * 100}`);
      assert.ok(Math.abs(sk.quantile(q) - actual) <= actual * 0.01, `own p${q * 100}`);
    }
    assert.equal(d.quantile(0), 0);
  });
});
