/**
 * A forwarder killed with SIGKILL during an outage: the next start reads the run record left
 * behind, logs what was lost, counts it and shows it in status.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runtime } from "../../src/runtime/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { Registry } from "../../src/telemetry/mod.ts";
import { forwarderStatusProvider, PLAIN } from "../../src/status/mod.ts";
import { Receiver, testConfig, testForwarder } from "../unit/forwarder/_helpers.ts";

const PAYLOADS = 12;

test("a forwarder killed during an outage is told at the next start, with what it held", async () => {
  const dir = mkdtempSync(join(tmpdir(), "outpost-killed-"));
  const receiver = await new Receiver(runtime).up();
  receiver.status = 503;
  const storage = join(dir, "retry");
  const record = join(dir, "run", "outpost_run.json");
  const child = spawn(process.execPath, [
    join(import.meta.dirname, "forwarder_killed_child.ts"),
    receiver.url,
    storage,
    record,
    String(PAYLOADS),
  ], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (c) => (out += c) && out.includes("held") && resolve());
    child.once("exit", (code) => reject(new Error(`the child exited with ${code}: ${out}`)));
  });
  const killed = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await killed;
  assert.equal(JSON.parse(readFileSync(record, "utf8")).state, "running");

  const lines: string[] = [];
  const registry = new Registry();
  const forwarder = testForwarder(runtime, {
    config: testConfig({
      dd_url: receiver.url,
      api_key: "killed-child-key-1234",
      forwarder_storage_path: storage,
    }),
    registry,
    logger: createLogger({ level: "info", write: (l) => void lines.push(l) }),
    validateApiKeys: false,
    runRecordPath: record,
  }).component;
  await forwarder.start();
  const previous = forwarder.previousRun();
  assert.equal(previous?.pid, child.pid);
  assert.equal(previous?.transactions, PAYLOADS);
  assert.ok(previous!.bytes >= PAYLOADS * 400);
  const told = lines.find((l) => l.includes("ended without a clean stop"));
  assert.ok(told, lines.join(""));
  assert.match(
    told,
    new RegExp(`pid ${child.pid}.*${PAYLOADS} payload\\(s\\).*held only in memory`),
  );
  assert.deepEqual(registry.read("forwarder.Transactions.Dropped"), { unclean_stop: PAYLOADS });
  const status = forwarderStatusProvider(registry);
  assert.match(status.text(await status.data(), PLAIN), /Previous run: ended without a clean stop/);

  await forwarder.stop();
  assert.equal(JSON.parse(readFileSync(record, "utf8")).state, "stopped");
  await receiver.down();
  rmSync(dir, { recursive: true, force: true });
});
