import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runtime } from "../../src/runtime/mod.ts";
import { Registry } from "../../src/telemetry/mod.ts";
import {
  idPayload,
  quiet,
  testCertificate,
  testConfig,
  testForwarder,
} from "../unit/forwarder/_helpers.ts";

test("forwarder trusts an intake's certificate only with forwarder_ca_bundle or skip_ssl_validation", async () => {
  const dir = mkdtempSync(join(tmpdir(), "outpost-tls-"));
  const tls = await testCertificate(runtime, dir);
  let received = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: tls.cert, key: tls.key },
    fetch: () => (received++, new Response("{}", { status: 202 })),
  });
  const url = `https://127.0.0.1:${server.port}`;
  const attempt = async (extra: Record<string, unknown>) => {
    const registry = new Registry();
    const fwd = testForwarder(runtime, {
      config: testConfig({
        dd_url: url,
        api_key: "k",
        forwarder_storage_path: join(dir, "q"),
        forwarder_stop_timeout: 0,
        ...extra,
      }),
      registry,
      logger: quiet(),
      validateApiKeys: false,
      env: {},
    }).component;
    await fwd.start();
    const done = fwd.submit(idPayload(1)).done;
    const result = await Promise.race([
      done,
      new Promise((r) => setTimeout(() => r("pending"), 1500)),
    ]);
    await fwd.stop();
    return { result, errors: registry.read("forwarder.Transactions.Errors") };
  };

  const untrusted = await attempt({});
  assert.equal(untrusted.result, "pending");
  assert.deepEqual(Object.values(untrusted.errors as object), [1], "a TLS failure is retried");
  assert.equal(received, 0);

  const withCa = await attempt({ forwarder_ca_bundle: tls.caPath });
  assert.deepEqual(withCa.result, { status: "delivered", reason: "delivered" });

  const insecure = await attempt({ skip_ssl_validation: true });
  assert.deepEqual(insecure.result, { status: "delivered", reason: "delivered" });
  // The first attempt's payload was persisted on stop and replayed by a later run.
  assert.ok(received >= 2);
  await server.stop(true);
  rmSync(dir, { recursive: true, force: true });
});
