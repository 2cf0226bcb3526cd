import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createProxy } from "proxy";
import { runtime } from "../../../src/runtime/mod.ts";
import { createHttpClient, httpSettings } from "../../../src/http/mod.ts";
import { testConfig } from "../forwarder/_helpers.ts";

async function listen(server: ReturnType<typeof createServer>): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
function close(server: ReturnType<typeof createServer>): Promise<void> {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
}

test("createHttpClient() fetch sends through proxy.http unless no_proxy names the host", async () => {
  const origin = createServer((_req, res) => res.end("hi"));
  const url = await listen(origin);
  const proxy = createProxy(createServer());
  const seen: string[] = [];
  proxy.on("request", (req) => seen.push(req.url ?? ""));
  const proxyUrl = await listen(proxy);
  try {
    const via = createHttpClient(
      runtime,
      httpSettings(testConfig({ proxy: { http: proxyUrl } }), {}),
    );
    assert.equal(await (await via.fetch(`${url}/a`)).text(), "hi");
    const direct = createHttpClient(
      runtime,
      httpSettings(testConfig({ proxy: { http: proxyUrl, no_proxy: ["127.0.0.1"] } }), {}),
    );
    assert.equal(await (await direct.fetch(`${url}/b`)).text(), "hi");
    assert.deepEqual(seen, [`${url}/a`]);
  } finally {
    await close(proxy);
    await close(origin);
  }
});

test("createHttpClient() fetch gives up on headers after timeoutMs, but not on a slow body", async () => {
  const server = createServer((req, res) => {
    if (req.url === "/silent") return; // accepts and never answers
    res.writeHead(200);
    res.write("a");
    setTimeout(() => res.end("b"), 1500);
  });
  const url = await listen(server);
  try {
    const client = createHttpClient(runtime, {
      ...httpSettings(testConfig(), {}),
      timeoutMs: 1000,
    });
    const started = Date.now();
    const error = await client.fetch(`${url}/silent`).catch((e) => e);
    assert.equal(error.name, "TimeoutError");
    assert.match(error.message, /^No answer from 127\.0\.0\.1:\d+ within 1000 ms$/);
    assert.ok(Date.now() - started < 5000);
    assert.equal(await (await client.fetch(`${url}/slow`)).text(), "ab");
  } finally {
    await close(server);
  }
});
