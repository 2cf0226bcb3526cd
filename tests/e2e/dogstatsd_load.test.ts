/**
 * Defaults that keep data: the real hot-shots client, unbuffered (one line per datagram), at
 * 10,000 calls/s for 10 s against the compiled agent with its default config (only pointed at
 * a separate `outpost intake`): every count arrives, in each of 3 runs.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import StatsD from "hot-shots";
import { BIN } from "./_binary.ts";
import { agentSetup, sleep, startAgent, startIntake, waitFor } from "../../scripts/bench/_agent.ts";
import { tempDir } from "../_temp.ts";

const RATE = 10_000;
const SECONDS = 10;
const CALLS = RATE * SECONDS;

/** Sends `CALLS` increments of 1 at `RATE` per second, each in its own datagram. */
async function send(port: number, metric: string): Promise<{ rate: number; errors: number }> {
  let errors = 0;
  const client = new StatsD({
    host: "127.0.0.1",
    port,
    maxBufferSize: 0,
    errorHandler: () => void errors++,
  });
  const start = performance.now();
  let sent = 0;
  while (sent < CALLS) {
    const due = Math.min(CALLS, Math.floor(((performance.now() - start) / 1000) * RATE));
    for (; sent < due; sent++) client.increment(metric, 1, ["run:load"]);
    await sleep(5);
  }
  const rate = CALLS / ((performance.now() - start) / 1000);
  await new Promise<void>((r) => client.close(() => r()));
  return { rate, errors };
}

describe("hot-shots at 10,000 calls/s, unbuffered, default config (compiled binaries)", () => {
  for (const run of [1, 2, 3]) {
    it(`run ${run} of 3: every count arrives, nothing dropped in the kernel or the reader`, {
      timeout: 120_000,
    }, async () => {
      const dir = tempDir(`outpost-load-${run}-`);
      const intake = await startIntake(BIN, join(dir, "intake"), "1gb");
      // agentSetup points the agent at the intake; its one non-default is put back to default.
      const setup = await agentSetup(dir, intake.url, {
        dogstatsd_flush_incomplete_buckets: false,
      });
      const agent = await startAgent(BIN, setup);
      try {
        const metric = `load.run${run}.calls`;
        const { rate, errors } = await send(setup.dogstatsdPort, metric);
        console.log(`run ${run}: ${Math.round(rate)} calls/s achieved`);
        assert.equal(errors, 0, "the client reported send errors");
        // The last bucket closes within 10 s and is flushed within 15 s more.
        const total = await waitFor(`all ${CALLS} counts at the intake`, async () => {
          const s = await intake.get(`/outpost/intake/series?metric=${metric}`);
          const n = Math.round(s.total * 10);
          return n >= CALLS ? n : undefined;
        }, 60_000).catch(async (e) => {
          const s = await intake.get(`/outpost/intake/series?metric=${metric}`);
          const vars = await agent.vars();
          throw new Error(
            `${e.message}: ${Math.round(s.total * 10)} arrived; agent: ${
              JSON.stringify(vars["dogstatsd-udp"])
            }`,
          );
        });
        assert.equal(total, CALLS);
        const udp = (await agent.vars())["dogstatsd-udp"];
        assert.equal(udp.Packets, CALLS);
        assert.equal(udp.KernelDrops, 0);
        assert.equal(udp.QueueDroppedPackets, 0);
        console.log(`run ${run}: receive buffer granted ${udp.ReceiveBufferBytes} bytes`);
        assert.ok(udp.ReceiveBufferBytes > 0);
      } finally {
        assert.equal(await agent.stop("SIGTERM"), 0, agent.stderr());
        await intake.stop();
      }
    });
  }
});
