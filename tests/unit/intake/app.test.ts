import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import { maskApiKey } from "../../../src/intake/_app.ts";
import {
  agentRequest,
  encode,
  makeIntake,
  MetricPayload,
  post,
  runtime,
  SketchPayload,
} from "./_support.ts";

const KEY = "0123456789abcdef0123456789abcdef";

const seriesPayload = () =>
  encode(MetricPayload, {
    series: [
      {
        resources: [{ type: "host", name: "edge-1" }],
        metric: "outpost.requests",
        tags: ["env:test"],
        points: [{ value: 2, timestamp: 1_700_000_000 }, { value: 5, timestamp: 1_700_000_010 }],
        type: 1,
        interval: 10,
      },
      {
        resources: [{ type: "host", name: "edge-2" }],
        metric: "outpost.requests",
        tags: ["env:prod"],
        points: [{ value: 0.5, timestamp: 1_700_000_000 }],
        type: 1,
        interval: 10,
      },
      { metric: "outpost.other", points: [{ value: 100, timestamp: 1 }], type: 3 },
    ],
  });

const COMPRESSIONS: Array<[string, (b: Uint8Array) => Uint8Array]> = [
  ["zstd", (b) => runtime.zstdCompress(b, 1)],
  ["deflate", (b) => deflateSync(b)],
  ["gzip", (b) => gzipSync(b)],
  ["identity", (b) => b],
];

describe("createIntakeApp() data routes", () => {
  for (const [encoding, compress] of COMPRESSIONS) {
    it(`stores a ${encoding} v2 series payload decoded, and sums its points`, async () => {
      const { app } = makeIntake();
      const res = await post(app, "/api/v2/series", compress(seriesPayload()) as BodyInit, {
        "Content-Encoding": encoding,
        "Content-Type": "application/x-protobuf",
      });
      assert.equal(res.status, 202);
      const q = await (await app.request("/outpost/intake/series?metric=outpost.requests")).json();
      assert.equal(q.series, 2);
      assert.equal(q.count, 3);
      assert.equal(q.total, 7.5);
      assert.deepEqual(q.points[0], {
        metric: "outpost.requests",
        type: "count",
        interval: 10,
        host: "edge-1",
        tags: ["env:test"],
        source_type_name: "",
        value: 2,
        timestamp: 1_700_000_000,
        route: "/api/v2/series",
        seq: 1,
      });
    });
  }

  it("accepts a raw deflate stream sent as deflate", async () => {
    const { app } = makeIntake();
    const res = await post(app, "/api/v2/series", deflateRawSync(seriesPayload()) as BodyInit, {
      "Content-Encoding": "deflate",
    });
    assert.equal(res.status, 202);
  });

  it("filters series by host and tag", async () => {
    const { app } = makeIntake();
    await post(app, "/api/v2/series", seriesPayload() as BodyInit);
    const byHost = await (await app.request(
      "/outpost/intake/series?metric=outpost.requests&host=edge-2",
    )).json();
    assert.equal(byHost.total, 0.5);
    const byTag = await (await app.request(
      "/outpost/intake/series?metric=outpost.requests&tag=env:test",
    )).json();
    assert.equal(byTag.total, 7);
  });

  it("narrows series to a time range with from and to, and refuses one that is not a number", async () => {
    const { app } = makeIntake();
    await post(app, "/api/v2/series", seriesPayload() as BodyInit);
    const q = (query: string) =>
      app.request(`/outpost/intake/series?metric=outpost.requests${query}`);
    const late = await (await q("&from=1700000005")).json();
    assert.deepEqual([late.series, late.count, late.total], [1, 1, 5]);
    const early = await (await q("&from=1700000000&to=1700000000")).json();
    assert.deepEqual([early.series, early.count, early.total], [2, 2, 2.5]);
    const none = await (await q("&to=1699999999")).json();
    assert.deepEqual([none.series, none.count], [0, 0]);
    const bad = await q("&from=yesterday");
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).errors[0], /"from" must be a number of seconds/);
  });

  it("stores sketches and sums their counts and sums", async () => {
    const { app } = makeIntake();
    const body = encode(SketchPayload, {
      sketches: [{
        metric: "outpost.latency",
        host: "edge-1",
        tags: ["env:test"],
        dogsketches: [
          { ts: 10, cnt: 3, min: 1, max: 3, avg: 2, sum: 6, k: [1338, 1382], n: [2, 1] },
          { ts: 20, cnt: 1, min: 4, max: 4, avg: 4, sum: 4, k: [1427], n: [1] },
        ],
      }],
      metadata: {},
    });
    const res = await post(app, "/api/beta/sketches", runtime.zstdCompress(body, 1) as BodyInit, {
      "Content-Encoding": "zstd",
    });
    assert.equal(res.status, 202);
    const q = await (await app.request("/outpost/intake/sketches?metric=outpost.latency")).json();
    assert.equal(q.count, 4);
    assert.equal(q.sum, 10);
    assert.deepEqual(q.sketches[1].k, [1427]);
    assert.equal(q.sketches[0].host, "edge-1");
  });

  it("stores v1 JSON series and flattens them like v2", async () => {
    const { app } = makeIntake();
    const body = JSON.stringify({
      series: [{
        metric: "outpost.v1",
        points: [[1_700_000_000, 1.25], [1_700_000_010, 2]],
        tags: ["a:b"],
        host: "edge-1",
        device: "sda",
        type: "gauge",
        interval: 10,
      }],
    });
    const res = await post(app, "/api/v1/series", deflateSync(body) as BodyInit, {
      "Content-Encoding": "deflate",
    });
    assert.equal(res.status, 202);
    const q = await (await app.request("/outpost/intake/series?metric=outpost.v1")).json();
    assert.equal(q.total, 3.25);
    assert.equal(q.points[1].device, "sda");
    assert.equal(q.points[1].type, "gauge");
    assert.equal(q.points[1].route, "/api/v1/series");
  });

  it("stores check runs and finds them by check name", async () => {
    const { app } = makeIntake();
    const runs = [
      { check: "disk.ok", host_name: "h", timestamp: 1, status: 0, message: "", tags: null },
      { check: "app.up", host_name: "h", timestamp: 2, status: 2, message: "down", tags: ["a"] },
    ];
    assert.equal((await post(app, "/api/v1/check_run", JSON.stringify(runs))).status, 202);
    const q = await (await app.request("/outpost/intake/check_runs?check=app.up")).json();
    assert.equal(q.count, 1);
    assert.equal(q.check_runs[0].status, 2);
    assert.equal(q.check_runs[0].message, "down");
  });

  it("tells events from host metadata on /intake/ and masks the metadata's apiKey", async () => {
    const { app, dir } = makeIntake();
    const events = {
      apiKey: "",
      events: {
        api: [{ msg_title: "t1", msg_text: "x", timestamp: 1, host: "h" }],
        nagios: [{ msg_title: "t2", msg_text: "y", timestamp: 2, host: "h" }],
      },
      internalHostname: "edge-1",
    };
    assert.equal((await post(app, "/intake/", JSON.stringify(events))).status, 202);
    const meta = { apiKey: KEY, internalHostname: "edge-1", systemStats: { cpuCores: 2 } };
    assert.equal((await post(app, "/intake/", JSON.stringify(meta))).status, 202);

    const q = await (await app.request("/outpost/intake/events")).json();
    assert.equal(q.count, 2);
    assert.deepEqual(q.events.map((e: any) => [e.msg_title, e.source_group]), [
      ["t1", "api"],
      ["t2", "nagios"],
    ]);
    const hm =
      await (await app.request("/outpost/intake/payloads?route=/intake/&kind=host_metadata"))
        .json();
    assert.equal(hm.count, 1);
    assert.equal(hm.payloads[0].content.apiKey, "*".repeat(28) + "cdef");
    assertKeyNotOnDisk(dir);
  });

  it("keeps orchestrator bodies opaque, as base64 with their size", async () => {
    const { app } = makeIntake();
    const res = await post(app, "/api/v2/orchmanif", new Uint8Array([1, 2, 3, 250]) as BodyInit);
    assert.equal(res.status, 202);
    const q = await (await app.request("/outpost/intake/payloads?route=/api/v2/orchmanif")).json();
    assert.deepEqual(q.payloads[0].content, { size: 4, base64: "AQID+g==" });
    assert.equal(q.payloads[0].kind, "orchestrator_manifest");
  });

  it("answers 400 with a JSON reason for bodies it cannot decode, and stores nothing", async () => {
    const { app } = makeIntake();
    const cases: Array<[string, BodyInit, Record<string, string>, RegExp]> = [
      ["/api/v2/series", new Uint8Array([0x0a, 0x05, 0x12]), {}, /protobuf/],
      ["/api/beta/sketches", new Uint8Array([0xff]), {}, /protobuf/],
      ["/api/v1/series", "{not json", {}, /JSON/],
      ["/api/v1/check_run", "abc", { "Content-Encoding": "zstd" }, /decompress the zstd/],
      ["/api/v1/check_run", "[]", { "Content-Encoding": "br" }, /unsupported Content-Encoding/],
      ["/intake/", "x", { "Content-Encoding": "gzip" }, /decompress the gzip/],
    ];
    for (const [path, body, headers, reason] of cases) {
      const res = await post(app, path, body, headers);
      assert.equal(res.status, 400, path);
      const json = await res.json();
      assert.match(json.errors[0], reason, path);
    }
    const stats = await (await app.request("/outpost/intake/stats")).json();
    assert.equal(stats.store.records, 0);
    assert.equal(stats.routes["/api/v1/check_run"].rejected_undecodable, 2);
  });

  it("keeps only the API key's tail with each payload, never the key", async () => {
    const { app, dir } = makeIntake();
    await post(app, "/api/v1/check_run", "[]", { "DD-API-KEY": KEY });
    await app.request(`/api/v1/check_run?api_key=${KEY}`, { method: "POST", body: "[]" });
    const q = await (await app.request("/outpost/intake/payloads?route=/api/v1/check_run")).json();
    assert.deepEqual(q.payloads.map((p: any) => p.api_key_masked), [
      maskApiKey(KEY),
      maskApiKey(KEY),
    ]);
    assert.ok(maskApiKey(KEY).endsWith("cdef"));
    assertKeyNotOnDisk(dir);
  });

  it("records the headers of interest and the sizes on the wire and decoded", async () => {
    const { app } = makeIntake();
    const body = seriesPayload();
    await post(app, "/api/v2/series", gzipSync(body) as BodyInit, {
      "Content-Encoding": "gzip",
      "Content-Type": "application/x-protobuf",
      "DD-Agent-Payload": "5.0.150",
      "DD-Agent-Version": "7.60.0",
      "Cookie": "secret",
    });
    const p = (await (await app.request("/outpost/intake/payloads?limit=1")).json()).payloads[0];
    assert.equal(p.headers["dd-agent-payload"], "5.0.150");
    assert.equal(p.headers["content-encoding"], "gzip");
    assert.equal(p.headers.cookie, undefined);
    assert.equal(p.decoded_bytes, body.length);
    assert.ok(p.wire_bytes > 0 && p.wire_bytes !== body.length);
  });

  it("answers 404 with a JSON error on an unknown route", async () => {
    const { app } = makeIntake();
    const res = await agentRequest(app, "/api/v9/nothing", { method: "POST", body: "x" });
    assert.equal(res.status, 404);
    assert.match((await res.json()).errors[0], /no route for POST \/api\/v9\/nothing/);
  });

  it("returns the last N payloads of a route, oldest first", async () => {
    const { app } = makeIntake();
    for (let i = 0; i < 5; i++) {
      await post(app, "/api/v1/check_run", JSON.stringify([{ check: `c${i}`, status: 0 }]));
    }
    const q = await (await app.request("/outpost/intake/payloads?route=/api/v1/check_run&limit=2"))
      .json();
    assert.deepEqual(q.payloads.map((p: any) => p.content[0].check), ["c3", "c4"]);
  });
});

describe("createIntakeApp() API keys", () => {
  it("validate answers 200 {valid:true} for a listed key and 403 for another or none", async () => {
    const { app } = makeIntake({ apiKeys: [KEY] });
    const ok = await app.request(`/api/v1/validate?api_key=${KEY}`);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { valid: true });
    const header = await app.request("/api/v1/validate", { headers: { "DD-API-KEY": KEY } });
    assert.equal(header.status, 200);
    assert.equal((await app.request("/api/v1/validate?api_key=nope")).status, 403);
    assert.equal((await app.request("/api/v1/validate")).status, 403);
  });

  it("validate accepts any non-empty key when no keys are configured", async () => {
    const { app } = makeIntake();
    assert.equal((await app.request("/api/v1/validate?api_key=whatever")).status, 200);
    assert.equal((await app.request("/api/v1/validate")).status, 403);
  });

  it("data routes answer 403 to an unlisted key when keys are configured", async () => {
    const { app } = makeIntake({ apiKeys: [KEY] });
    const bad = await post(app, "/api/v1/check_run", "[]", { "DD-API-KEY": "x".repeat(32) });
    assert.equal(bad.status, 403);
    assert.deepEqual(await bad.json(), { errors: ["Forbidden"] });
    const good = await post(app, "/api/v1/check_run", "[]", { "DD-API-KEY": KEY });
    assert.equal(good.status, 202);
  });
});

describe("maskApiKey()", () => {
  it("keeps the last 4 characters and masks short keys whole", () => {
    assert.equal(maskApiKey("abcdefgh"), "****efgh");
    assert.equal(maskApiKey("abcd"), "****");
    assert.equal(maskApiKey(""), "");
  });
});

/** The full key occurs in no stored file. */
function assertKeyNotOnDisk(dir: string) {
  for (const name of readdirSync(dir)) {
    assert.ok(!readFileSync(join(dir, name), "utf8").includes(KEY), `${name} holds the API key`);
  }
}
