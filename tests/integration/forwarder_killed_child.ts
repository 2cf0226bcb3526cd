/**
 * Run by forwarder_killed.test.ts as its own process, to be killed with SIGKILL: a forwarder
 * sending to a failing receiver (argv: receiver URL, storage dir, run record path, payloads),
 * with retries kept in memory. Prints "held" once the run record shows them all.
 */
import { readFileSync } from "node:fs";
import { runtime } from "../../src/runtime/mod.ts";
import { Registry } from "../../src/telemetry/mod.ts";
import { idPayload, quiet, testConfig, testForwarder, until } from "../unit/forwarder/_helpers.ts";

const [url, storage, record, count] = process.argv.slice(2);
const forwarder = testForwarder(runtime, {
  config: testConfig({
    dd_url: url,
    api_key: "killed-child-key-1234",
    forwarder_storage_path: storage,
    forwarder_backoff_base: 0.05,
    forwarder_backoff_max: 0.2,
    // Retries stay in memory: what a SIGKILL then loses is what the record must tell.
    forwarder_storage_spill_after_seconds: 3600,
  }),
  registry: new Registry(),
  logger: quiet(),
  retryIntervalMs: 20,
  validateApiKeys: false,
  runRecordPath: record,
}).component;
await forwarder.start();
for (let i = 0; i < Number(count); i++) forwarder.submit(idPayload(i, 500));
const held = () => {
  try {
    return JSON.parse(readFileSync(record, "utf8")).memoryTransactions === Number(count);
  } catch {
    return false;
  }
};
if (!(await until(held))) throw new Error("the run record never showed every payload");
console.log("held");
await new Promise(() => {}); // until killed
