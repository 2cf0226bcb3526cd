import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runtime } from "../../src/runtime/mod.ts";
import { Registry } from "../../src/telemetry/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { forwarderStatusProvider, PLAIN } from "../../src/status/mod.ts";
import {
  idPayload,
  quiet,
  Receiver,
  testConfig,
  testForwarder,
  until,
} from "../unit/forwarder/_helpers.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function outageConfig(url: string, dir: string) {
  return testConfig({
    dd_url: url,
    api_key: "k1",
    forwarder_storage_path: dir,
    // Small enough that the outage spills to disk, short backoff so the test stays short.
    forwarder_retry_queue_payloads_max_size: 16 * 1024,
    forwarder_backoff_base: 0.05,
    forwarder_backoff_max: 0.2,
    forwarder_timeout: 2,
  });
}

test("forwarder delivers every payload after a 503 and connection-refused outage", async () => {
  const dir = mkdtempSync(join(tmpdir(), "outpost-fwd-"));
  const receiver = await new Receiver(runtime).up();
  const registry = new Registry();
  const fwd = testForwarder(runtime, {
    config: outageConfig(receiver.url, dir),
    registry,
    logger: quiet(),
    retryIntervalMs: 50,
  }).component;
  await fwd.start();
  let id = 0;
  const send = async (ms: number) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      fwd.submit(idPayload(id++, 500));
      await sleep(5);
    }
  };
  await send(300);
  receiver.status = 503;
  await send(700);
  await receiver.down();
  await send(700);
  receiver.status = 200;
  await receiver.up();
  await send(300);

  const all = () => new Set(receiver.ids()).size === id;
  assert.ok(await until(all, 20_000), `received ${new Set(receiver.ids()).size} of ${id}`);
  const ids = receiver.ids();
  const lost = id - new Set(ids).size;
  const duplicates = ids.length - new Set(ids).size;
  console.log(
    `outage: sent ${id}, lost ${lost}, duplicates ${duplicates}, stored on disk ${
      JSON.stringify(registry.read("forwarder.DiskQueue.Stored"))
    }`,
  );
  assert.equal(lost, 0);
  const stored = registry.read("forwarder.DiskQueue.Stored") as Record<string, number>;
  assert.ok(Object.values(stored)[0] > 0, "the outage should have spilled to disk");
  assert.deepEqual(registry.read("forwarder.Transactions.Dropped"), {});
  await fwd.stop();
  assert.equal(fwd.snapshot()[receiver.url].diskFiles, 0);
  await receiver.down();
  rmSync(dir, { recursive: true, force: true });
});

test(
  "an outage writes one WARN when it starts and one INFO when the endpoint answers again; status shows it",
  {
    timeout: 20_000,
  },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "outpost-fwd-"));
    const receiver = await new Receiver(runtime).up();
    receiver.status = 503;
    const registry = new Registry();
    const logged: string[] = [];
    const fwd = testForwarder(runtime, {
      config: outageConfig(receiver.url, dir),
      registry,
      // The default level: the lines must show without debug.
      logger: createLogger({ level: "info", write: (l) => void logged.push(l) }),
      retryIntervalMs: 50,
    }).component;
    await fwd.start();
    const url = `${receiver.url}/api/v1/series`;
    for (let i = 0; i < 5; i++) fwd.submit(idPayload(i));
    const health = () =>
      (registry.read("forwarder.EndpointHealth") as Record<string, Record<string, any>>)[url];
    assert.ok(await until(() => (health()?.failedAttempts ?? 0) >= 5, 10_000));
    assert.equal(typeof health().failingSinceMs, "number");
    await receiver.down(); // now connection refused: the same failure run, no second line
    const errors =
      () => (registry.read("forwarder.Transactions.ErrorsByType") as Record<string, number>);
    assert.ok(await until(() => (errors().connection_refused ?? 0) >= 2, 10_000));
    const status = forwarderStatusProvider(registry);
    const during = status.text(await status.data(), PLAIN);
    assert.match(during, /Failing since: \d{4}-/);
    assert.match(during, /Last error: connection_refused at/);
    assert.match(during, /HTTP errors: \d+ \(503=\d+\)/);
    receiver.status = 200;
    await receiver.up();
    assert.ok(await until(() => new Set(receiver.ids()).size === 5, 10_000));
    await fwd.stop();
    await receiver.down();

    const warns = logged.filter((l) => l.includes("WARN"));
    assert.equal(warns.length, 1, logged.join("\n"));
    assert.match(
      warns[0],
      new RegExp(
        `Cannot send series to ${url}: HTTP 503; payloads are kept and retried until it answers`,
      ),
    );
    const infos = logged.filter((l) => l.includes("works again"));
    assert.equal(infos.length, 1, logged.join("\n"));
    assert.match(
      infos[0],
      /INFO.*Sending to .*\/api\/v1\/series works again after \d+ failed attempts over \d+ s/,
    );
    assert.equal(health().failingSinceMs, null);
    rmSync(dir, { recursive: true, force: true });
  },
);

test("drops after 413, 400 and 403 show their reason and HTTP code per endpoint in status", {
  timeout: 20_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "outpost-fwd-"));
  const receiver = await new Receiver(runtime).up();
  const registry = new Registry();
  const fwd = testForwarder(runtime, {
    config: outageConfig(receiver.url, dir),
    registry,
    logger: quiet(),
    retryIntervalMs: 50,
  }).component;
  await fwd.start();
  for (const [status, n] of [[413, 2], [400, 1], [403, 1]]) {
    receiver.status = status;
    for (let i = 0; i < n; i++) await fwd.submit(idPayload(i)).done;
  }
  await fwd.stop();
  await receiver.down();
  const status = forwarderStatusProvider(registry);
  const data = await status.data();
  const text = status.text(data, PLAIN);
  assert.match(text, /Dropped: 4 \(payload_too_large=2, bad_request=1, api_key_invalid=1\)/);
  assert.match(text, /HTTP errors: 4 \(400=1, 403=1, 413=2\)/);
  assert.match(text, /Last error: HTTP 403 \(api_key_invalid\) at/);
  assert.match(text, /Lost by reason: 4/);
  // The same figures in /debug/vars.
  const health = registry.read("forwarder.EndpointHealth") as Record<string, Record<string, any>>;
  assert.deepEqual(health[`${receiver.url}/api/v1/series`].dropsByReason, {
    payload_too_large: 2,
    bad_request: 1,
    api_key_invalid: 1,
  });
  rmSync(dir, { recursive: true, force: true });
});
