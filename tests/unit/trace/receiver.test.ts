import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as v from "valibot";
import { configSchema } from "../../../src/config/mod.ts";
import { APM, apmEvents, Registry } from "../../../src/telemetry/mod.ts";
import type { Datagram } from "../../../src/runtime/types.ts";
import { traceSettings } from "../../../src/trace/_settings.ts";
import { infoDocument } from "../../../src/trace/_info.ts";
import {
  createReceiverApp,
  DOGSTATSD_PROXY_MAX_LINES,
  type ReceivedHints,
} from "../../../src/trace/_receiver.ts";
import type { ClientStatsPayload, TracerPayload } from "../../../src/trace/_span.ts";

const RATES = { "service:web,env:prod": 0.5, "service:,env:": 1 };

function receiver(config: Record<string, unknown> = {}, { dogstatsd = true } = {}) {
  const settings = traceSettings(v.parse(configSchema, { api_key: "k", ...config }));
  const registry = new Registry();
  const got: { traces: [TracerPayload, ReceivedHints][]; stats: ClientStatsPayload[] } = {
    traces: [],
    stats: [],
  };
  const lines: string[] = [];
  const raw: string[] = [];
  const app = createReceiverApp({
    settings,
    info: infoDocument(settings),
    counters: apmEvents(registry, { receiver: () => ({}) }),
    dogstatsd: dogstatsd
      ? {
        handleBatch: (batch: Datagram[]) => {
          for (const d of batch) raw.push(new TextDecoder().decode(d.data));
          for (const d of batch) lines.push(new TextDecoder().decode(d.data).trimEnd());
        },
      }
      : null,
    sink: {
      traces: (p, h) => void got.traces.push([p, h]),
      clientStats: (p) => void got.stats.push(p),
      rateByService: () => RATES,
    },
  });
  const errors = () => registry.read(APM.requestErrors) as Record<string, number>;
  return { app, got, lines, raw, errors, registry, settings };
}

const post = (body: BodyInit, headers: Record<string, string> = {}) => ({
  method: "POST",
  body,
  headers,
});

// [[dict], [[span]]]: a v0.5 body whose span names dictionary index `service`.
function v05(service: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array([
    0x92,
    0x91,
    0xa1,
    0x61,
    0x91,
    0x91,
    0x9c,
    service,
    0,
    0,
    1,
    2,
    0,
    0,
    0,
    0,
    0x80,
    0x80,
    0,
  ]);
}

describe("createReceiverApp", () => {
  it("/info lists exactly the served routes, and never /v0.7/config", async () => {
    const { app } = receiver();
    const res = await app.request("/info");
    const text = await res.text();
    assert.ok(text.includes('\n\t"version"'), "tab-indented");
    const info = JSON.parse(text);
    assert.ok(info.endpoints.includes("/v0.4/traces"));
    assert.ok(info.endpoints.includes("/v0.6/stats"));
    assert.ok(info.endpoints.includes("/evp_proxy/v4/"));
    assert.ok(info.endpoints.includes("/telemetry/proxy/"));
    assert.ok(!info.endpoints.includes("/v0.7/config"));
    assert.equal(info.config.statsd_port, 8125);
    assert.equal(info.config.receiver_port, 8126);
    // The proxies (mounted by the component) would reach out; they have their own tests.
    const proxied = /proxy|pipeline_stats|profiling|debugger|symdb/;
    for (const e of info.endpoints.filter((p: string) => !proxied.test(p))) {
      const r = await app.request(e, post("[]", { "content-type": "application/json" }));
      assert.notEqual(r.status, 404, `${e} is listed and served`);
    }
    assert.equal((await app.request("/v0.7/config", post("{}"))).status, 404);
  });

  it("every answer carries Datadog-Agent-Version and the sha256 of /info as Datadog-Agent-State", async () => {
    const { app } = receiver();
    const body = await (await app.request("/info")).text();
    const state = createHash("sha256").update(body).digest("hex");
    for (const path of ["/info", "/v0.4/traces", "/nowhere"]) {
      const res = await app.request(path, path === "/info" ? {} : post("[]"));
      assert.equal(res.headers.get("datadog-agent-state"), state, path);
      assert.ok(res.headers.get("datadog-agent-version"), path);
    }
  });

  it("dogstatsd disabled: /dogstatsd/v2/proxy answers 503 and /info does not list it", async () => {
    const { app } = receiver({ use_dogstatsd: false }, { dogstatsd: false });
    const res = await app.request("/dogstatsd/v2/proxy", post("a:1|c\n"));
    assert.equal(res.status, 503);
    const info = await (await app.request("/info")).json();
    assert.ok(!info.endpoints.includes("/dogstatsd/v2/proxy"));
    assert.equal(info.config.statsd_port, 0);
  });

  it("a v0.4 JSON body reaches the sink with the tracer's headers, and the answer is rate_by_service", async () => {
    const { app, got } = receiver();
    const spans = [[{
      service: "web",
      name: "http.request",
      resource: "GET /",
      trace_id: 18446744073709551615n.toString(),
      span_id: 2,
      parent_id: 0,
      start: 1,
      duration: 5,
      metrics: { _sampling_priority_v1: 2 },
    }]];
    const text = JSON.stringify(spans).replace('"18446744073709551615"', "18446744073709551615");
    const res = await app.request(
      "/v0.4/traces",
      post(text, {
        "content-type": "application/json",
        "datadog-meta-lang": "nodejs",
        "datadog-meta-tracer-version": "5.0.0",
        "datadog-client-computed-stats": "yes",
        "datadog-client-computed-top-level": "false",
        "datadog-client-dropped-p0-traces": "3",
      }),
    );
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { rate_by_service: RATES });
    assert.equal(got.traces.length, 1);
    const [payload, hints] = got.traces[0];
    assert.equal(payload.languageName, "nodejs");
    assert.equal(payload.tracerVersion, "5.0.0");
    assert.equal(payload.chunks[0].priority, 2);
    assert.equal(payload.chunks[0].spans[0].traceId, 18446744073709551615n);
    assert.deepEqual(hints, {
      computedTopLevel: false,
      computedStats: true,
      droppedP0Traces: 3,
      droppedP0Spans: 0,
    });
  });

  it("v0.3 answers OK", async () => {
    const { app } = receiver();
    const res = await app.request(
      "/v0.3/traces",
      post("[]", { "content-type": "application/json" }),
    );
    assert.equal(await res.text(), "OK");
  });

  it("a v0.5 index out of range is a 400 with the reason, counted", async () => {
    const { app, got, errors } = receiver();
    const ok = await app.request(
      "/v0.5/traces",
      post(v05(0), { "content-type": "application/msgpack" }),
    );
    assert.equal(ok.status, 200);
    assert.equal(got.traces[0][0].chunks[0].spans[0].service, "a");
    const bad = await app.request(
      "/v0.5/traces",
      post(v05(5), { "content-type": "application/msgpack", "x-datadog-trace-count": "1" }),
    );
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /index 5 is outside the dictionary/);
    assert.equal(errors()["/v0.5/traces index-out-of-range"], 1);
    assert.equal(got.traces.length, 1);
  });

  it("truncated msgpack is a 400 unexpected-eof", async () => {
    const { app, errors } = receiver();
    const res = await app.request(
      "/v0.4/traces",
      post(new Uint8Array([0x91, 0x91, 0x82, 0xa7]), { "content-type": "application/msgpack" }),
    );
    assert.equal(res.status, 400);
    assert.equal(errors()["/v0.4/traces unexpected-eof"], 1);
  });

  it("a Content-Length over max_payload_size is refused with 413, and so is a chunked body", async () => {
    const { app, errors } = receiver({ apm_config: { max_payload_size: 1024 } });
    const big = await app.request(
      "/v0.4/traces",
      post("[]", { "content-length": "4096", "x-datadog-trace-count": "7" }),
    );
    assert.equal(big.status, 413);
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < 4; i++) c.enqueue(new Uint8Array(512));
        c.close();
      },
    });
    const chunked = await app.request(
      "/v0.4/traces",
      { method: "POST", body: stream, duplex: "half" } as RequestInit,
    );
    assert.equal(chunked.status, 413);
    assert.equal(errors()["/v0.4/traces payload-too-large"], 2);
  });

  it("a browser's cross-site request gets 403", async () => {
    const { app, got } = receiver();
    const res = await app.request("/v0.4/traces", post("[]", { "sec-fetch-site": "cross-site" }));
    assert.equal(res.status, 403);
    assert.equal(got.traces.length, 0);
  });

  it("legacy routes refuse msgpack with 415", async () => {
    const { app, errors } = receiver();
    const res = await app.request(
      "/v0.2/traces",
      post("\x90", { "content-type": "application/msgpack" }),
    );
    assert.equal(res.status, 415);
    assert.equal(errors()["/v0.2/traces unsupported-media-type"], 1);
  });

  it("/dogstatsd/v2/proxy feeds each non-empty line to DogStatsD", async () => {
    const { app, raw } = receiver();
    const res = await app.request("/dogstatsd/v2/proxy", post("a:1|c\n\r\nb:2|g|#x:y\r\nc:3|c"));
    assert.equal(res.status, 200);
    // Each keeps its newline, so dogstatsd_eol_required applies to the last one only.
    assert.deepEqual(raw, ["a:1|c\n", "b:2|g|#x:y\r\n", "c:3|c"]);
  });

  it("/dogstatsd/v1/proxy over 100,000 lines: 413 after the first 100,000", async () => {
    const { app, lines } = receiver();
    const body = "m:1|c\n".repeat(DOGSTATSD_PROXY_MAX_LINES + 1);
    const res = await app.request("/dogstatsd/v1/proxy", post(body));
    assert.equal(res.status, 413);
    assert.equal(await res.text(), "too many dogstatsd payloads in request");
    assert.equal(lines.length, DOGSTATSD_PROXY_MAX_LINES);
  });

  it("/dogstatsd/v2/proxy: a line over 64 KiB is a 500 after the lines before it were fed", async () => {
    const { app, lines, errors } = receiver();
    const res = await app.request("/dogstatsd/v2/proxy", post(`a:1|c\n${"x".repeat(70_000)}`));
    assert.equal(res.status, 500);
    assert.deepEqual(lines, ["a:1|c"]);
    assert.equal(errors()["/dogstatsd/v2/proxy line-too-long"], 1);
  });

  it("/v0.3/services and /v0.4/services answer OK", async () => {
    const { app } = receiver();
    for (const p of ["/v0.3/services", "/v0.4/services"]) {
      assert.equal(await (await app.request(p, post("{}"))).text(), "OK");
    }
  });
});
