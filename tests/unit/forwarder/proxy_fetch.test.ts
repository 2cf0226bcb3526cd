import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createProxy } from "proxy";
import { runtime } from "../../../src/runtime/mod.ts";
import { Registry } from "../../../src/telemetry/mod.ts";
import { idPayload, quiet, Receiver, testConfig, testForwarder } from "./_helpers.ts";

/** A real HTTP proxy on 127.0.0.1 that counts the requests it forwarded. */
async function startProxy() {
  const server = createProxy(createServer());
  const seen: string[] = [];
  server.on("request", (req) => seen.push(req.url ?? ""));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test("runtime.fetch() goes through the proxy it is given", async () => {
  const proxy = await startProxy();
  const receiver = await new Receiver(runtime).up();
  const res = await runtime.fetch(`${receiver.url}/ping`, { method: "POST", body: "x" }, {
    proxy: proxy.url,
  });
  await res.arrayBuffer();
  assert.equal(res.status, 200);
  assert.deepEqual(proxy.seen, [`${receiver.url}/ping`]);
  await receiver.down();
  await proxy.close();
});

test("testForwarder().component sends through proxy.http and no_proxy bypasses it", async () => {
  const proxy = await startProxy();
  const receiver = await new Receiver(runtime).up();
  for (const noProxy of [[], ["127.0.0.1"]]) {
    proxy.seen.length = 0;
    receiver.requests.length = 0;
    const fwd = testForwarder(runtime, {
      config: testConfig({
        dd_url: receiver.url,
        api_key: "k1",
        forwarder_storage_max_size_in_bytes: 0,
        proxy: { http: proxy.url, no_proxy: noProxy },
      }),
      registry: new Registry(),
      logger: quiet(),
      validateApiKeys: false,
      env: {},
    }).component;
    await fwd.start();
    const result = await fwd.submit(idPayload(1)).done;
    await fwd.stop();
    assert.equal(result.status, "delivered");
    assert.deepEqual(receiver.ids(), [1]);
    assert.deepEqual(proxy.seen, noProxy.length ? [] : [`${receiver.url}/api/v1/series`]);
  }
  await receiver.down();
  await proxy.close();
});

test("testForwarder().component uses HTTP_PROXY from the environment when no proxy is configured", async () => {
  const proxy = await startProxy();
  const receiver = await new Receiver(runtime).up();
  const fwd = testForwarder(runtime, {
    config: testConfig({
      dd_url: receiver.url,
      api_key: "k1",
      forwarder_storage_max_size_in_bytes: 0,
    }),
    registry: new Registry(),
    logger: quiet(),
    validateApiKeys: false,
    env: { http_proxy: proxy.url },
  }).component;
  await fwd.start();
  assert.equal((await fwd.submit(idPayload(7)).done).status, "delivered");
  await fwd.stop();
  assert.deepEqual(proxy.seen, [`${receiver.url}/api/v1/series`]);
  await receiver.down();
  await proxy.close();
});
