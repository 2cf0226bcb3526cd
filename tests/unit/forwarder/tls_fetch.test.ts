import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runtime } from "../../../src/runtime/mod.ts";
import { testCertificate } from "./_helpers.ts";

test("runtime.fetch() trusts a custom CA only when given one", async () => {
  const dir = mkdtempSync(join(tmpdir(), "outpost-tls-"));
  const tls = await testCertificate(runtime, dir);
  const server = createServer({ cert: tls.cert, key: tls.key }, (_req, res) => {
    res.writeHead(202).end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/x`;

  await assert.rejects(runtime.fetch(url, { method: "POST", body: "a" }));
  const res = await runtime.fetch(url, { method: "POST", body: "a" }, { ca: tls.ca });
  await res.arrayBuffer();
  assert.equal(res.status, 202);

  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});
