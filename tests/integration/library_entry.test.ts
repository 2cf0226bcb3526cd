import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as outpost from "../../mod.ts";
import type { DogStatsDServer } from "../../src/dogstatsd/mod.ts";

/** A UDP port nothing listens on now (dogstatsd_port 0 turns UDP off rather than picking one). */
async function freeUdpPort(): Promise<number> {
  const probe = createSocket("udp4");
  await new Promise<void>((resolve) => probe.bind(0, "127.0.0.1", resolve));
  const { port } = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe("mod.ts, the library entry", () => {
  it("exports the agent, config, runtime, DogStatsD parser and local intake, and nothing else", () => {
    assert.deepEqual(Object.keys(outpost).sort(), [
      "Agent",
      "ConfigError",
      "DogStatsDParser",
      "Registry",
      "buildAgent",
      "buildIntake",
      "configDefaults",
      "createLogger",
      "intakeSettings",
      "loadConfig",
      "pointAtIntake",
      "runtime",
    ]);
  });

  it("an embedded agent takes a DogStatsD counter over UDP to its local intake", async () => {
    const { buildAgent, buildIntake, configDefaults, createLogger, intakeSettings, runtime } =
      outpost;
    const run = mkdtempSync(join(tmpdir(), "outpost-embed-"));
    const base = {
      ...configDefaults(),
      run_path: run,
      hostname: "edge-embed",
      cmd_port: 0,
      expvar_port: 0,
      gui_port: -1,
      dogstatsd_port: await freeUdpPort(),
      // The counter lands in the bucket still open at stop: flush it then.
      dogstatsd_flush_incomplete_buckets: true,
    };
    // Not handed to the agent: the embedder owns it, so it outlives the agent's stop.
    const intake = buildIntake(intakeSettings(base), { runtime });
    await intake.component.start();
    const config = outpost.pointAtIntake(base, intake.component.url);
    const registry = new outpost.Registry();
    const agent = await buildAgent({
      runtime,
      config,
      configFile: null,
      logger: createLogger({ level: "off" }),
      registry,
    });
    try {
      await agent.start();
      const port = agent.component<DogStatsDServer>("dogstatsd")!.udpPort;
      const socket = createSocket("udp4");
      for (let i = 0; i < 3; i++) {
        await new Promise<void>((resolve, reject) =>
          socket.send(
            "embed.door_open:2|c|#room:a",
            port,
            "127.0.0.1",
            (e) => e ? reject(e) : resolve(),
          )
        );
      }
      socket.close();
      // Stop only once the server has read all three, so the final flush holds them.
      const deadline = Date.now() + 5_000;
      while (registry.read("dogstatsd.MetricPackets") !== 3 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      // Stopping flushes every bucket still open into the forwarder, which delivers before it stops.
      await agent.stop();
    }
    const url = `${intake.component.url}/outpost/intake/series?metric=embed.door_open`;
    const q = await (await fetch(url)).json();
    await intake.component.stop();
    rmSync(run, { recursive: true, force: true });
    // DogStatsD counters reach Datadog as a rate: 3 × 2 over the 10 s bucket.
    assert.equal(q.total, 0.6);
  });
});
