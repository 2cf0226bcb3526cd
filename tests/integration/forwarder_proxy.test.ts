import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createProxy } from "proxy";
import { runtime } from "../../src/runtime/mod.ts";
import { Registry } from "../../src/telemetry/mod.ts";
import {
  idPayload,
  quiet,
  Receiver,
  testConfig,
  testForwarder,
  until,
} from "../unit/forwarder/_helpers.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A real HTTP proxy that can be stopped and restarted on the same port. */
class Proxy {
  forwarded = 0;
  port = 0;
  #server: Server | undefined;
  async up() {
    const server = createProxy(createServer());
    server.on("request", () => this.forwarded++);
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.port = (server.address() as AddressInfo).port;
    this.#server = server;
    return this;
  }
  async down() {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => this.#server!.close(() => resolve()));
  }
}

test("forwarder reaches the intake through a real proxy and loses nothing while the proxy restarts", async () => {
  const dir = mkdtempSync(join(tmpdir(), "outpost-fwd-"));
  const receiver = await new Receiver(runtime).up();
  const proxy = await new Proxy().up();
  const fwd = testForwarder(runtime, {
    config: testConfig({
      dd_url: receiver.url,
      api_key: "k1",
      forwarder_storage_path: dir,
      forwarder_backoff_base: 0.05,
      forwarder_backoff_max: 0.2,
      proxy: { http: `http://127.0.0.1:${proxy.port}` },
    }),
    registry: new Registry(),
    logger: quiet(),
    retryIntervalMs: 50,
    env: {},
  }).component;
  await fwd.start();
  let id = 0;
  for (let i = 0; i < 50; i++) fwd.submit(idPayload(id++));
  assert.ok(await until(() => receiver.ids().length === 50));
  await proxy.down();
  for (let i = 0; i < 50; i++) {
    fwd.submit(idPayload(id++));
    await sleep(4);
  }
  await proxy.up();
  assert.ok(await until(() => new Set(receiver.ids()).size === id));
  assert.ok(proxy.forwarded >= id, `the proxy forwarded ${proxy.forwarded} of ${id}`);
  await fwd.stop();
  await proxy.down();
  await receiver.down();
  rmSync(dir, { recursive: true, force: true });
});
