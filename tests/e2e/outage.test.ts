/**
 * An outage at the level of the whole compiled agent: DogStatsD counters reach `outpost run`
 * while a separate `outpost intake` answers 503. The agent is stopped (its payloads go to the
 * disk queue), restarted into the same outage and killed with SIGKILL while replaying, then
 * restarted once the intake recovers: every count arrives exactly once.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN } from "./_binary.ts";
import {
  type Agent,
  type AgentSetup,
  agentSetup,
  forwarderPending,
  type Intake,
  LineSender,
  startAgent,
  startIntake,
  waitFor,
} from "../../scripts/bench/_agent.ts";

const LINES = 3000;
const CONTEXTS = 30;
const dir = mkdtempSync(join(tmpdir(), "outpost-e2e-outage-"));
let intake: Intake;
let setup: AgentSetup;
let last: Agent | undefined;

before(async () => {
  intake = await startIntake(BIN, join(dir, "intake"), "64mb");
  setup = await agentSetup(dir, intake.url, {
    forwarder_backoff_base: 0.2,
    forwarder_backoff_max: 1,
    forwarder_recovery_interval: 1,
    forwarder_stop_timeout: 1,
  });
});

after(async () => {
  await last?.stop("SIGKILL");
  await intake?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const series = () => intake.get("/outpost/intake/series?metric=e2e.outage.requests");

describe("outpost run through an intake outage, a stop and a SIGKILL", () => {
  it("delivers every count exactly once after the intake recovers", async () => {
    await intake.fault({ status: 503, count: 1_000_000 });

    // 1. Counts arrive during the outage; SIGTERM flushes them and persists what fails.
    const first = await startAgent(BIN, setup);
    const sender = new LineSender(setup.dogstatsdPort, 1400);
    for (let i = 0; i < LINES; i++) {
      sender.line(`e2e.outage.requests:1|c|#k:${i % CONTEXTS}`);
      if (i % 500 === 499) await sender.drain(); // keep the socket buffer drained
    }
    await sender.drain();
    sender.close();
    await waitFor("the agent to count every line", async () => {
      const n = (await first.vars()).aggregator.DogstatsdMetricSample;
      return n === LINES || undefined;
    });
    assert.equal(await first.stop("SIGTERM"), 0, first.stderr());
    const outageStats = await intake.get("/outpost/intake/stats");
    assert.ok(outageStats.routes["/api/v2/series"]?.faults_served > 0, "the intake refused series");
    assert.equal((await series()).count, 0, "nothing got through the outage");

    // 2. A new agent replays the disk queue into the same outage, and is killed meanwhile.
    const second = await startAgent(BIN, setup);
    assert.equal(
      (await second.vars()).forwarder.PreviousRun,
      null,
      "the first run stopped cleanly",
    );
    await waitFor("a replayed series payload refused", async () => {
      const f = (await second.vars()).forwarder;
      const replayed = Object.values(f["DiskQueue.Replayed"]).some((n) => Number(n) > 0);
      const refused = Object.entries(f.Endpoints).some(([url, e]: [string, any]) =>
        url.endsWith("/api/v2/series") && e.errors > 0
      );
      return (replayed && refused) || undefined;
    });
    assert.equal(await second.stop("SIGKILL"), 137);

    // 3. The intake recovers; a third agent replays what is on disk.
    await intake.fault(undefined);
    last = await startAgent(BIN, setup);
    const agent = last;
    // The SIGKILL is told at this start, from the run record the second agent left.
    assert.ok((await agent.vars()).forwarder.PreviousRun?.pid > 0, "the kill is in /debug/vars");
    assert.match(agent.stderr(), /previous run \(pid \d+, .*\) ended without a clean stop/);
    const s = await waitFor("every count at the intake", async () => {
      const got = await series();
      return Math.round(got.total * 10) >= LINES ? got : undefined;
    }, 20_000);
    await waitFor("an empty forwarder queue", async () => {
      return forwarderPending(await agent.vars()) === 0 || undefined;
    });
    assert.equal(await agent.stop("SIGTERM"), 0, agent.stderr());
    last = undefined;

    const final = await series();
    assert.equal(Math.round(final.total * 10), LINES, "every count, none twice");
    const keys = final.points.map((p: any) => `${p.tags.join(",")}@${p.timestamp}`);
    assert.equal(new Set(keys).size, keys.length, "no point arrived twice");
    assert.ok(s.points.every((p: any) => p.host === "bench-host" && p.interval === 10));
  });
});
