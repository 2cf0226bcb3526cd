/**
 * The kernel's drops are told: a compiled agent that cannot read (SIGSTOP) while a client
 * blasts datagrams overflows its socket's receive buffer; after SIGCONT every datagram sent is
 * either read or counted as a kernel drop in `/debug/vars`, the status page shows them, and
 * the log says so. And SIGTERM ends the agent within 5 s while it is flooded.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { createSocket } from "node:dgram";
import { BIN, outpost } from "./_binary.ts";
import {
  type Agent,
  type AgentSetup,
  agentSetup,
  type Intake,
  sleep,
  startAgent,
  startIntake,
  waitFor,
} from "../../scripts/bench/_agent.ts";
import { tempDir } from "../_temp.ts";

const dir = tempDir("outpost-kdrops-");
let intake: Intake;

before(async () => {
  intake = await startIntake(BIN, join(dir, "intake"), "1gb");
});
after(async () => {
  await intake?.stop();
});

/** Sends `n` datagrams of `payload` and resolves once the socket took them all. */
async function blast(port: number, payload: Uint8Array, n: number): Promise<void> {
  const socket = createSocket("udp4");
  let pending = n;
  const done = new Promise<void>((r) => {
    for (let i = 0; i < n; i++) {
      socket.send(payload, port, "127.0.0.1", () => {
        if (--pending === 0) r();
      });
    }
  });
  await done;
  socket.close();
}

describe("kernel drops of the DogStatsD socket (compiled binary)", () => {
  let setup: AgentSetup;
  let agent: Agent;

  before(async () => {
    setup = await agentSetup(join(dir), intake.url, { dogstatsd_flush_incomplete_buckets: false });
    agent = await startAgent(BIN, setup);
  });

  it("a stopped agent's overflowing buffer shows up in /debug/vars, status and the log", {
    timeout: 60_000,
  }, async () => {
    const payload = new TextEncoder().encode("kdrops.fill:1|c|#" + "f".repeat(983)); // 1000 bytes
    const sent = 40_000; // 40 MB: far past the receive buffer whatever the kernel granted
    process.kill(agent.pid, "SIGSTOP");
    try {
      await blast(setup.dogstatsdPort, payload, sent);
    } finally {
      process.kill(agent.pid, "SIGCONT");
    }
    const udp = await waitFor("every datagram read or counted", async () => {
      const u = (await agent.vars())["dogstatsd-udp"];
      return u.Packets + u.KernelDrops + u.QueueDroppedPackets === sent ? u : undefined;
    }, 30_000);
    assert.ok(udp.KernelDrops > 0, JSON.stringify(udp));
    assert.ok(udp.Packets > 0, "what the buffer held was read after SIGCONT");
    // The buffer held about what was granted; 1000-byte datagrams take at least that each.
    assert.ok(udp.Packets * 1000 <= udp.ReceiveBufferBytes, JSON.stringify(udp));

    const status = await outpost(["status", "dogstatsd", "-c", setup.config]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(
      status.stdout,
      new RegExp(`Kernel drops: ${udp.KernelDrops} \\(udp=${udp.KernelDrops}\\)`),
    );
    assert.match(
      status.stdout,
      new RegExp(`Receive buffer \\(bytes\\): ${udp.ReceiveBufferBytes}`),
    );
  });

  it("SIGTERM ends a flooded agent within 5 s, and the log tells the losses", {
    timeout: 60_000,
  }, async () => {
    // Lines of many tags fill 8 KiB datagrams: the costliest input per byte to parse.
    const tags = Array.from({ length: 700 }, (_, i) => `k${i}:v`).join(",");
    const payload = new TextEncoder().encode(`kdrops.flood:1|c|#${tags}`.slice(0, 8000));
    let flooding = true;
    const flood = (async () => {
      while (flooding) {
        await blast(setup.dogstatsdPort, payload, 500);
        await sleep(0);
      }
    })();
    try {
      await sleep(2000);
      const signalled = performance.now();
      const exited = agent.stop("SIGTERM");
      const code = await Promise.race([exited, sleep(5000).then(() => "still running")]);
      console.log(`exited ${Math.round(performance.now() - signalled)} ms after SIGTERM`);
      assert.equal(code, 0, `after SIGTERM: ${code}\n${agent.stderr()}`);
    } finally {
      flooding = false;
      await flood;
      await agent.stop("SIGKILL").catch(() => {});
    }
    assert.match(
      agent.stderr(),
      /Lost \d+ datagrams at udp \(receive_buffer_full, dropped by the kernel/,
    );
  });
});
