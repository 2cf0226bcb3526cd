/**
 * The trace receiver's proxies on real sockets: the receiver served by the runtime, the
 * upstream intakes as HTTP servers on 127.0.0.1, and a real HTTP proxy in between for the
 * outbound client. What the tracer gets back is the upstream's own answer.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Hono } from "hono";
import * as v from "valibot";
import { createProxy } from "proxy";
import { configSchema } from "../../src/config/mod.ts";
import { createHttpClient, httpSettings } from "../../src/http/mod.ts";
import { runtime } from "../../src/runtime/mod.ts";
import type { HttpServer } from "../../src/runtime/types.ts";
import { APM, apmEvents, Registry } from "../../src/telemetry/mod.ts";
import { mountProxies } from "../../src/trace/_proxy.ts";
import { traceSettings } from "../../src/trace/_settings.ts";

interface Seen {
  path: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** An upstream intake that records requests and answers with a canned JSON body. */
async function upstream(answer: unknown = { data: { attributes: { itr_enabled: true } } }) {
  const seen: Seen[] = [];
  const server = await runtime.serve({ hostname: "127.0.0.1", port: 0 }, async (req) => {
    const url = new URL(req.url);
    seen.push({
      path: url.pathname + url.search,
      headers: Object.fromEntries(req.headers),
      body: new Uint8Array(await req.arrayBuffer()),
    });
    return Response.json(answer, { status: 202 });
  });
  return { seen, server, url: `http://127.0.0.1:${server.port}` };
}

let main: Awaited<ReturnType<typeof upstream>>;
let extra: Awaited<ReturnType<typeof upstream>>;
let receiver: HttpServer;
let proxy: Server;
let proxied = 0;
let registry: Registry;
let base = "";

before(async () => {
  main = await upstream();
  extra = await upstream();
  proxy = createProxy(createServer());
  proxy.on("request", () => proxied++);
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  const config = v.parse(configSchema, {
    api_key: "main-key",
    proxy: { http: proxyUrl },
    apm_config: {
      env: "edge",
      telemetry: { dd_url: main.url },
      profiling_dd_url: `${main.url}/api/v2/profile`,
      profiling_additional_endpoints: { [extra.url]: ["extra-key"] },
      evp_proxy_config: { dd_url: main.url, max_payload_size: 1024 },
    },
  });
  registry = new Registry();
  const app = new Hono();
  mountProxies(app, {
    settings: traceSettings(config),
    http: createHttpClient(runtime, httpSettings(config, {})),
    counters: apmEvents(registry, { receiver: () => ({}) }),
    hostname: "edge-host",
  });
  receiver = await runtime.serve({ hostname: "127.0.0.1", port: 0 }, app.fetch);
  base = `http://127.0.0.1:${receiver.port}`;
});

after(async () => {
  await receiver?.close();
  await main?.server.close();
  await extra?.server.close();
  proxy?.closeAllConnections();
  await new Promise<void>((r) => proxy.close(() => r()));
});

const errors = () => registry.read(APM.proxyErrors) as Record<string, number>;

describe("trace proxies", () => {
  it("EVP: forwards only the allowed headers plus the agent's, and returns the upstream's answer", async () => {
    const before = main.seen.length;
    const res = await fetch(`${base}/evp_proxy/v2/api/v2/git/repository/search_commits?a=1`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "User-Agent": "dd-trace-js",
        "DD-CI-PROVIDER-NAME": "github",
        "X-Datadog-EVP-Subdomain": "api",
        "Cookie": "secret=1",
        "DD-API-KEY": "tracer-supplied",
      },
      body: '{"q":1}',
    });
    assert.equal(res.status, 202);
    assert.deepEqual(await res.json(), { data: { attributes: { itr_enabled: true } } });
    const got = main.seen[before];
    assert.equal(got.path, "/api/v2/git/repository/search_commits?a=1");
    assert.equal(new TextDecoder().decode(got.body), '{"q":1}');
    assert.equal(got.headers["content-type"], "application/json");
    assert.equal(got.headers["user-agent"], "dd-trace-js");
    assert.equal(got.headers["dd-ci-provider-name"], "github");
    assert.equal(got.headers["dd-api-key"], "main-key");
    assert.equal(got.headers["x-datadog-hostname"], "edge-host");
    assert.equal(got.headers["x-datadog-agentdefaultenv"], "edge");
    assert.equal(got.headers["x-datadog-evp-subdomain"], "api");
    assert.match(got.headers["via"], /^trace-agent /);
    assert.equal(got.headers["cookie"], undefined);
    assert.ok(proxied > 0, "the outbound client went through the configured proxy");
  });

  it("EVP: no subdomain, a bad subdomain, a bad path or a body over the limit answer 502", async () => {
    const post = (path: string, headers: Record<string, string>, body = "{}") =>
      fetch(`${base}${path}`, { method: "POST", headers, body });
    const none = await post("/evp_proxy/v4/api/v2/citestcycle", {});
    assert.equal(none.status, 502);
    assert.match(await none.text(), /no subdomain specified/);
    const bad = await post("/evp_proxy/v2/api/v2/citestcycle", {
      "X-Datadog-EVP-Subdomain": "evil.com/",
    });
    assert.equal(bad.status, 502);
    const path = await post("/evp_proxy/v2/api/v2/cite%20stcycle", {
      "X-Datadog-EVP-Subdomain": "citestcycle-intake",
    });
    assert.equal(path.status, 502);
    const big = await post(
      "/evp_proxy/v2/api/v2/citestcycle",
      { "X-Datadog-EVP-Subdomain": "citestcycle-intake" },
      "x".repeat(2048),
    );
    assert.equal(big.status, 502);
    const e = errors();
    assert.equal(e["evp no-subdomain"], 1);
    assert.equal(e["evp invalid-subdomain"], 1);
    assert.equal(e["evp invalid-path"], 1);
    assert.equal(e["evp payload-too-large"], 1);
  });

  it("telemetry: /telemetry/proxy/<path> goes to <telemetry host>/<path> with the API key", async () => {
    const before = main.seen.length;
    const res = await fetch(`${base}/telemetry/proxy/api/v2/apmtelemetry`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "DD-Telemetry-Request-Type": "app-started" },
      body: '{"request_type":"app-started"}',
    });
    assert.equal(res.status, 202);
    const got = main.seen[before];
    assert.equal(got.path, "/api/v2/apmtelemetry");
    assert.equal(got.headers["dd-api-key"], "main-key");
    assert.equal(got.headers["dd-telemetry-request-type"], "app-started");
    assert.equal(got.headers["dd-agent-hostname"], "edge-host");
  });

  it("profiling: the multipart body reaches the profiling URL intact, and a copy each additional endpoint", async () => {
    const form = new FormData();
    form.set("event", new Blob(['{"family":"node"}'], { type: "application/json" }), "event.json");
    form.set("wall.pprof", new Blob([new Uint8Array([1, 2, 3, 255])]), "wall.pprof");
    const sent = new Request(`${base}/profiling/v1/input`, { method: "POST", body: form });
    const type = sent.headers.get("content-type")!;
    const bytes = new Uint8Array(await sent.clone().arrayBuffer());
    const before = main.seen.length;
    const res = await fetch(`${base}/profiling/v1/input`, {
      method: "POST",
      headers: { "content-type": type },
      body: bytes,
    });
    assert.equal(res.status, 202);
    const got = main.seen[before];
    assert.equal(got.path, "/api/v2/profile");
    assert.equal(got.headers["content-type"], type);
    assert.deepEqual(got.body, bytes);
    for (let i = 0; i < 100 && extra.seen.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(extra.seen[0]?.headers["dd-api-key"], "extra-key");
    assert.deepEqual(extra.seen[0]?.body, bytes);
  });
});
