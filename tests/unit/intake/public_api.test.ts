/**
 * The intake's public-API routes as plain HTTP: JSON v2 series, `zstd1`, distribution points,
 * events, and the 403 for a request without an API key.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { agentRequest, makeIntake, post, runtime, TEST_API_KEY } from "./_support.ts";

const JSON_TYPE = { "Content-Type": "application/json" };
const get = async (app: ReturnType<typeof makeIntake>["app"], path: string) =>
  await (await app.request(path)).json();

const v2Body = (metric: string, value: number) =>
  JSON.stringify({
    series: [{
      metric,
      type: 3,
      points: [{ timestamp: 1_700_000_000, value }],
      resources: [{ name: "edge-1", type: "host" }, { name: "eth0", type: "device" }],
      tags: ["env:test"],
      unit: "byte",
      interval: 10,
      source_type_name: "api",
      metadata: { origin: { product: 1, service: 2, metric_type: 3 } },
    }],
  });

describe("intake: v2 series in JSON", () => {
  it("decodes a JSON body into the protobuf shape, so the series query finds it", async () => {
    const { app } = makeIntake();
    const res = await post(app, "/api/v2/series", v2Body("pub.gauge", 4.5), JSON_TYPE);
    assert.equal(res.status, 202);
    assert.deepEqual(await res.json(), { errors: [] });
    const q = await get(app, "/outpost/intake/series?metric=pub.gauge&host=edge-1&tag=env:test");
    assert.equal(q.count, 1);
    assert.deepEqual(
      [q.points[0].value, q.points[0].type, q.points[0].device, q.points[0].interval],
      [4.5, "gauge", "eth0", 10],
    );
    const p = await get(app, "/outpost/intake/payloads?route=/api/v2/series");
    assert.equal(p.payloads[0].content.series[0].unit, "byte");
    assert.equal(p.payloads[0].content.series[0].metadata.origin.product, 1);
  });

  it("accepts zstd1 (the API clients' name for zstd) and deflate", async () => {
    const { app } = makeIntake();
    const raw = new TextEncoder().encode(v2Body("pub.enc", 1));
    const zstd = await post(app, "/api/v2/series", runtime.zstdCompress(raw, 1) as BodyInit, {
      ...JSON_TYPE,
      "Content-Encoding": "zstd1",
    });
    assert.equal(zstd.status, 202);
    const zlib = await post(app, "/api/v2/series", deflateSync(raw), {
      ...JSON_TYPE,
      "Content-Encoding": "deflate",
    });
    assert.equal(zlib.status, 202);
    assert.equal((await get(app, "/outpost/intake/series?metric=pub.enc")).count, 2);
  });

  it("answers 400 naming the first bad field, and stores nothing", async () => {
    const { app } = makeIntake();
    const cases: Array<[unknown, RegExp]> = [
      [{}, /^cannot decode the JSON body: series: /],
      [
        { series: [{ metric: "m", points: [{ timestamp: 1, value: "x" }] }] },
        /series\[0\]\.points\[0\]\.value: /,
      ],
      [
        { series: [{ metric: "m", type: 7, points: [] }] },
        /series\[0\]\.type: expected 0, 1, 2 or 3/,
      ],
      [{ series: [{ metric: "", points: [] }] }, /series\[0\]\.metric: the metric name is empty/],
    ];
    for (const [body, reason] of cases) {
      const res = await post(app, "/api/v2/series", JSON.stringify(body), JSON_TYPE);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match((await res.json()).errors[0], reason);
    }
    assert.equal((await get(app, "/outpost/intake/stats")).store.records, 0);
  });
});

describe("intake: v1 series and service checks", () => {
  it("accepts what the agent and the clients send, and answers 400 naming the bad field", async () => {
    const { app } = makeIntake();
    const series = {
      series: [{
        metric: "v1.m",
        points: [[1, 2]],
        host: "",
        tags: [],
        type: "gauge",
        interval: 0,
      }],
    };
    assert.equal((await post(app, "/api/v1/series", JSON.stringify(series))).status, 202);
    const checks = [{
      check: "c",
      status: 0,
      host_name: "h",
      timestamp: 1,
      message: "",
      tags: null,
    }];
    assert.equal((await post(app, "/api/v1/check_run", JSON.stringify(checks))).status, 202);
    const cases: Array<[string, unknown, RegExp]> = [
      ["/api/v1/series", { series: [{ metric: "m", points: [[1]] }] }, /^series\[0\]\.points\[0\]/],
      ["/api/v1/series", { series: [{ points: [] }] }, /^series\[0\]\.metric: /],
      ["/api/v1/check_run", [{ check: "c", status: 4 }], /^\[0\]\.status: expected 0, 1, 2 or 3/],
      ["/api/v1/check_run", { check: "c", status: 0 }, /array/i],
    ];
    for (const [path, body, reason] of cases) {
      const res = await post(app, path, JSON.stringify(body));
      assert.equal(res.status, 400, `${path} ${JSON.stringify(body)}`);
      assert.match((await res.json()).errors[0], reason);
    }
    assert.equal((await get(app, "/outpost/intake/stats")).store.records, 2);
  });
});

describe("intake: /api/v1/distribution_points", () => {
  it("stores the points and lists them with the count and sum of their values", async () => {
    const { app } = makeIntake();
    const body = {
      series: [{
        metric: "pub.dist",
        host: "edge-1",
        tags: ["a:b"],
        type: "distribution",
        points: [[1_700_000_000, [1, 2, 3]], [1_700_000_010, [4]]],
      }],
    };
    const res = await post(app, "/api/v1/distribution_points", JSON.stringify(body), JSON_TYPE);
    assert.equal(res.status, 202);
    assert.deepEqual(await res.json(), { status: "ok" });
    const q = await get(app, "/outpost/intake/distribution_points?metric=pub.dist&tag=a:b");
    assert.equal(q.count, 4);
    assert.equal(q.sum, 10);
    assert.deepEqual(q.points.map((p: { values: number[] }) => p.values), [[1, 2, 3], [4]]);
    assert.equal(q.points[0].host, "edge-1");
  });

  it("answers 400 for a point that is not [timestamp, [values]]", async () => {
    const { app } = makeIntake();
    const body = { series: [{ metric: "m", points: [[1, 2]] }] };
    const res = await post(app, "/api/v1/distribution_points", JSON.stringify(body), JSON_TYPE);
    assert.equal(res.status, 400);
    assert.match((await res.json()).errors[0], /^series\[0\]\.points\[0\]\[1\]: /);
  });
});

describe("intake: /api/v1/events", () => {
  it("answers with the event and its id, and the events query lists it in the agent's shape", async () => {
    const { app } = makeIntake();
    const body = { title: "deploy", text: "v2 is out", tags: ["env:test"], alert_type: "info" };
    const res = await post(app, "/api/v1/events", JSON.stringify(body), JSON_TYPE);
    assert.equal(res.status, 202);
    const answer = await res.json();
    assert.equal(answer.status, "ok");
    assert.equal(answer.event.title, "deploy");
    assert.equal(answer.event.id_str, String(answer.event.id));
    const q = await get(app, "/outpost/intake/events?source=api");
    assert.equal(q.count, 1);
    const e = q.events[0];
    assert.deepEqual([e.msg_title, e.msg_text, e.id, e.alert_type], [
      "deploy",
      "v2 is out",
      answer.event.id,
      "info",
    ]);
    assert.equal(e.timestamp, answer.event.date_happened);
  });

  it("answers 400 without a title", async () => {
    const { app } = makeIntake();
    const res = await post(app, "/api/v1/events", JSON.stringify({ text: "x" }), JSON_TYPE);
    assert.equal(res.status, 400);
    assert.match((await res.json()).errors[0], /^title: /);
  });
});

describe("intake: /api/v2/events", () => {
  it("answers with the event's id and lists the event in the agent's shape", async () => {
    const { app } = makeIntake();
    const attributes = { title: "t", message: "m", category: "alert", attributes: {} };
    const res = await post(
      app,
      "/api/v2/events",
      JSON.stringify({ data: { type: "event", attributes } }),
      JSON_TYPE,
    );
    assert.equal(res.status, 202);
    const id = (await res.json()).data.attributes.attributes.evt.id;
    const q = await get(app, "/outpost/intake/events");
    assert.deepEqual([q.events[0].msg_title, q.events[0].msg_text, String(q.events[0].id)], [
      "t",
      "m",
      id,
    ]);
  });

  it("answers 400 naming a missing category", async () => {
    const { app } = makeIntake();
    const body = { data: { type: "event", attributes: { title: "t", attributes: {} } } };
    const res = await post(app, "/api/v2/events", JSON.stringify(body), JSON_TYPE);
    assert.equal(res.status, 400);
    assert.match((await res.json()).errors[0], /^data\.attributes\.category: /);
  });
});

describe("intake: API keys on agent routes", () => {
  it("refuses a request without a key with 403 before decoding, and stores nothing", async () => {
    const { app } = makeIntake();
    for (const path of ["/api/v2/series", "/api/v1/check_run", "/api/v2/logs", "/intake/"]) {
      const res = await app.request(path, { method: "POST", body: "not even decodable" });
      assert.equal(res.status, 403, path);
      assert.match((await res.json()).errors[0], /^Forbidden: no API key/);
    }
    const stats = await get(app, "/outpost/intake/stats");
    assert.equal(stats.store.records, 0);
    assert.equal(stats.routes["/api/v2/series"].rejected_forbidden, 1);
    assert.equal(stats.routes["/api/v2/series"].rejected_undecodable, undefined);
  });

  it("takes the key from the api_key parameter too, and --api-key still narrows the keys", async () => {
    const open = makeIntake().app;
    const viaQuery = await open.request(`/api/v1/check_run?api_key=${TEST_API_KEY}`, {
      method: "POST",
      body: "[]",
    });
    assert.equal(viaQuery.status, 202);
    const { app } = makeIntake({ apiKeys: ["k".repeat(32)] });
    assert.equal((await post(app, "/api/v1/check_run", "[]")).status, 403);
    const listed = await post(app, "/api/v1/check_run", "[]", { "DD-API-KEY": "k".repeat(32) });
    assert.equal(listed.status, 202);
  });

  it("lets the flare sender's HEAD through without a key, but not the upload", async () => {
    const { app } = makeIntake();
    assert.equal((await app.request("/support/flare", { method: "HEAD" })).status, 200);
    const upload = await app.request("/support/flare", { method: "POST", body: "x" });
    assert.equal(upload.status, 403);
    const withKey = await agentRequest(app, "/support/flare", { method: "POST", body: "x" });
    assert.equal(withKey.status, 400);
  });
});
