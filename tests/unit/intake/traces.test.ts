import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { runtime } from "../../../src/runtime/mod.ts";
import { IntakeStore } from "../../../src/intake/_store.ts";
import { createIntakeApp } from "../../../src/intake/_app.ts";
import { AgentPayload } from "../../_trace_payload.ts";
import { agentRequest } from "./_support.ts";

const dir = mkdtempSync(join(tmpdir(), "intake-traces-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const app = createIntakeApp({ runtime, store: new IntakeStore({ dir, runtime }) });

// An AgentPayload built with protobufjs, not with the agent's encoder.
const payload = AgentPayload.encode(AgentPayload.fromObject({
  hostName: "h1",
  env: "prod",
  agentVersion: "7.0.0",
  tracerPayloads: [{
    languageName: "python",
    chunks: [{
      priority: 2,
      spans: [{
        service: "web",
        name: "http.request",
        resource: "GET /",
        traceID: "18446744073709551615",
        spanID: "9223372036854775809",
        parentID: "0",
        start: "1700000000000000001",
        duration: "1500",
        error: 1,
        meta: { "error.message": "boom" },
        metrics: { "_sampling_priority_v1": 2 },
        spanLinks: [{ traceID: "5", spanID: "6", attributes: { k: "v" } }],
        spanEvents: [{
          time_unix_nano: "1700000000000000002",
          name: "retry",
          attributes: { attempt: { type: 2, int_value: 2 } },
        }],
      }, {
        service: "db",
        name: "pg.query",
        traceID: "18446744073709551615",
        spanID: "7",
        parentID: "9223372036854775809",
      }],
    }],
  }],
})).finish();

// {"Stats":[{"Stats":[{"Stats":[{"Service":"web","Name":"n","Resource":"GET /","Hits":3,"Errors":1,"Duration":30,"TopLevelHits":3}]}]}]}
function statsMsgpack(): Uint8Array {
  const enc = new TextEncoder();
  const out: number[] = [];
  const str = (s: string) => out.push(0xa0 | s.length, ...enc.encode(s));
  out.push(0x81);
  str("Stats");
  out.push(0x91, 0x81);
  str("Stats");
  out.push(0x91, 0x81);
  str("Stats");
  out.push(0x91, 0x87);
  str("Service");
  str("web");
  str("Name");
  str("n");
  str("Resource");
  str("GET /");
  str("Hits");
  out.push(3);
  str("Errors");
  out.push(1);
  str("Duration");
  out.push(30);
  str("TopLevelHits");
  out.push(3);
  return new Uint8Array(out);
}

describe("intake trace routes", () => {
  it("/api/v0.2/traces decodes AgentPayloads; /outpost/intake/traces lists spans with exact ids", async () => {
    const res = await agentRequest(app, "/api/v0.2/traces", {
      method: "POST",
      headers: { "content-type": "application/x-protobuf", "content-encoding": "gzip" },
      body: gzipSync(payload),
    });
    assert.equal(res.status, 202);
    const got = await (await app.request("/outpost/intake/traces?service=web")).json();
    assert.equal(got.count, 1);
    const [s] = got.spans;
    assert.equal(s.trace_id, "18446744073709551615");
    assert.equal(s.span_id, "9223372036854775809");
    assert.equal(s.start, "1700000000000000001");
    assert.equal(s.duration, "1500");
    assert.equal(s.error, 1);
    assert.equal(s.meta["error.message"], "boom");
    assert.equal(s.metrics["_sampling_priority_v1"], 2);
    assert.equal(s.priority, 2);
    assert.equal(s.language, "python");
    assert.equal(s.env, "prod");
    assert.deepEqual(s.span_links[0], {
      trace_id: "5",
      trace_id_high: "0",
      span_id: "6",
      attributes: { k: "v" },
      tracestate: "",
      flags: 0,
    });
    assert.equal(s.span_events[0].time_unix_nano, "1700000000000000002");
    assert.deepEqual(s.span_events[0].attributes.attempt, { type: 2, int_value: 2 });
    const all = await (await app.request("/outpost/intake/traces")).json();
    assert.equal(all.count, 2);
  });

  it("an undecodable AgentPayload is a 400", async () => {
    const res = await agentRequest(app, "/api/v0.2/traces", {
      method: "POST",
      body: new Uint8Array([0x2a, 0xff, 0xff]),
    });
    assert.equal(res.status, 400);
  });

  it("/api/v0.2/stats decodes msgpack; /outpost/intake/trace_stats sums per resource", async () => {
    for (let i = 0; i < 2; i++) {
      const res = await agentRequest(app, "/api/v0.2/stats", {
        method: "POST",
        headers: { "content-type": "application/msgpack", "content-encoding": "gzip" },
        body: gzipSync(statsMsgpack()),
      });
      assert.equal(res.status, 202);
    }
    const got = await (await app.request("/outpost/intake/trace_stats?service=web")).json();
    assert.equal(got.payloads, 2);
    assert.deepEqual(got.resources, [{
      service: "web",
      name: "n",
      resource: "GET /",
      hits: 6,
      errors: 2,
      top_level_hits: 6,
      duration: 60,
    }]);
  });

  it("EVP products are stored by subdomain, whatever their path", async () => {
    const res = await agentRequest(app, "/api/v2/citestcycle", {
      method: "POST",
      headers: { "x-datadog-evp-subdomain": "citestcycle-intake" },
      body: "{}",
    });
    assert.equal(res.status, 202);
    const got = await (await app.request("/outpost/intake/payloads?kind=evp")).json();
    assert.equal(got.count, 1);
    assert.equal(got.payloads[0].content.subdomain, "citestcycle-intake");
    assert.equal(got.payloads[0].route, "/api/v2/citestcycle");
    const unknown = await agentRequest(app, "/api/v2/nothing", { method: "POST", body: "{}" });
    assert.equal(unknown.status, 404);
  });
});
