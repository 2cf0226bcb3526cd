/**
 * A 5-minute outage of the logs intake while the compiled agent tails a file that grows at a
 * steady rate: the agent pushes back (the file is the buffer, nothing spills), and once the
 * intake answers again every line arrives exactly once, in order.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN } from "./_binary.ts";
import {
  type Agent,
  type Intake,
  sleep,
  startAgent,
  startIntake,
} from "../../scripts/bench/_agent.ts";
import { intakeLogs, logsSetup } from "./_logs.ts";

const OUTAGE_MS = Number(process.env.LOGS_OUTAGE_MS ?? 5 * 60_000);
const RATE_PER_S = 200;

const root = mkdtempSync(join(tmpdir(), "outpost-e2e-logs-outage-"));
let intake: Intake;
let agent: Agent | undefined;

before(async () => {
  intake = await startIntake(BIN, join(root, "intake"), "256mb");
});

after(async () => {
  await agent?.stop("SIGKILL").catch(() => {});
  await intake?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe("logs through an intake outage", () => {
  it("delivers every line once the intake recovers", { timeout: OUTAGE_MS + 180_000 }, async () => {
    const logDir = join(root, "logs");
    mkdirSync(logDir);
    const file = join(logDir, "app.log");
    writeFileSync(file, "");
    const setup = await logsSetup(root, intake.url, {
      logs: `  - type: file\n    path: ${file}\n    service: outage\n    source: e2e\n` +
        `    start_position: beginning\n`,
    });
    // A short backoff cap so the recovery is seen within seconds, not minutes.
    writeFileSync(
      setup.config,
      `forwarder_backoff_max: 10\nforwarder_backoff_base: 1\n`,
      { flag: "a" },
    );
    agent = await startAgent(BIN, setup);
    let n = 0;
    const write = (count: number) => {
      let chunk = "";
      for (let i = 0; i < count; i++) chunk += `outage ${String(n++).padStart(7, "0")} line\n`;
      appendFileSync(file, chunk);
    };
    write(500);
    await sleep(2000);
    assert.equal((await intakeLogs(intake.url, "service=outage")).length, 500, "before the outage");

    await intake.fault({ status: 503, count: 100_000_000, route: "/api/v2/logs" });
    const outageStart = Date.now();
    let peakRss = 0;
    while (Date.now() - outageStart < OUTAGE_MS) {
      write(RATE_PER_S / 10);
      await sleep(100);
      if (n % 2000 === 0) {
        const vars = await agent.vars();
        peakRss = Math.max(peakRss, vars.memstats.Sys);
      }
    }
    const during = await agent.vars();
    const stored = (await intakeLogs(intake.url, "service=outage")).length;
    console.log(
      `outage of ${OUTAGE_MS / 1000} s: ${n} lines written, ${stored} at the intake, ` +
        `LogsSent ${during["logs-agent"].LogsSent}, BytesRead ${during["logs-agent"].BytesRead}, ` +
        `forwarder retries ${JSON.stringify(during.forwarder["Transactions.Retried"])}, ` +
        `disk stored ${JSON.stringify(during.forwarder["DiskQueue.Stored"])}, peak RSS ${
          (peakRss / 2 ** 20).toFixed(0)
        } MiB`,
    );
    assert.equal(stored, 500, "nothing gets through the outage");
    assert.deepEqual(during.forwarder["DiskQueue.Stored"], {}, "file batches never spill to disk");
    const status = await (await fetch(`${setup.expvarUrl}`)).json();
    assert.ok(status["logs-agent"].BytesRead > 0);

    await fetch(`${intake.url}/outpost/intake/faults`, { method: "DELETE" }); // recovered
    const deadline = Date.now() + 120_000;
    let got = await intakeLogs(intake.url, "service=outage");
    while (got.length < n && Date.now() < deadline) {
      await sleep(1000);
      got = await intakeLogs(intake.url, "service=outage");
    }
    const numbers = got.map((l) => Number(l.message.split(" ")[1]));
    console.log(`after recovery: ${got.length} of ${n} lines at the intake`);
    assert.deepEqual(numbers, Array.from({ length: n }, (_, i) => i), "every line once, in order");
    assert.equal(await agent.stop("SIGTERM"), 0);
    agent = undefined;
  });
});
