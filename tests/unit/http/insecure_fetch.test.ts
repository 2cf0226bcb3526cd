import { test } from "node:test";
import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runtime } from "../../../src/runtime/mod.ts";
import { testCertificate } from "../forwarder/_helpers.ts";

test("runtime.fetch() with insecure skips verification per request, on Deno through undici", async () => {
  const dir = mkdtempSync(join(tmpdir(), "outpost-insecure-"));
  const tls = await testCertificate(runtime, dir);
  const server = createServer({ cert: tls.cert, key: tls.key }, (_req, res) => {
    res.writeHead(200).end("ok");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
  // undici announces every request it creates on this channel; the native clients do not.
  const created: string[] = [];
  const onCreate = (message: unknown) => {
    const { request } = message as { request: { origin: string } };
    created.push(String(request.origin));
  };
  subscribe("undici:request:create", onCreate);
  try {
    await assert.rejects(runtime.fetch(url, {}), "an unknown CA is refused without insecure");
    const res = await runtime.fetch(url, {}, { insecure: true });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "ok");
    // Bun's own fetch skips verification per request (tls.rejectUnauthorized); Deno's cannot.
    assert.deepEqual(created, runtime.name === "deno" ? [new URL(url).origin] : []);
  } finally {
    unsubscribe("undici:request:create", onCreate);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  }
});
