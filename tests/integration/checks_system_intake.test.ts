/**
 * The built-in system checks end to end: an agent with an empty conf.d runs the shipped default
 * configs, and their series reach the local intake with this machine's values. Needs the
 * collector wired into buildAgent (src/checks/_wiring.ts).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as outpost from "../../mod.ts";
import { tempDir } from "../_temp.ts";

async function freeUdpPort(): Promise<number> {
  const probe = createSocket("udp4");
  await new Promise<void>((resolve) => probe.bind(0, "127.0.0.1", resolve));
  const { port } = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

type Query = { count: number; points: Array<{ value: number; host: string; tags: string[] }> };

describe("system checks at the local intake", () => {
  // Up to one 15 s aggregator flush plus start and stop.
  it("system.load.1, system.uptime and system.mem.total arrive with this host's values", {
    timeout: 60_000,
  }, async () => {
    const { buildAgent, buildIntake, configDefaults, createLogger, intakeSettings, runtime } =
      outpost;
    const run = tempDir("outpost-checks-intake-");
    const confd = join(run, "conf.d");
    mkdirSync(confd);
    const base = {
      ...configDefaults(),
      api_key: "x",
      run_path: run,
      confd_path: confd,
      hostname: "edge-checks",
      cmd_port: 0,
      expvar_port: 0,
      gui_port: -1,
      dogstatsd_port: await freeUdpPort(),
    };
    const intake = buildIntake(intakeSettings(base), { runtime });
    await intake.component.start();
    const query = async (metric: string): Promise<Query> =>
      await (await fetch(`${intake.component.url}/outpost/intake/series?metric=${metric}`)).json();
    const loadBefore = Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
    const uptimeBefore = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
    const agent = await buildAgent({
      runtime,
      config: outpost.pointAtIntake(base, intake.component.url),
      configFile: null,
      logger: createLogger({ level: "off" }),
      registry: new outpost.Registry(),
    });
    try {
      await agent.start();
      // The first runs start at once; wait for a flush to carry them (no assertion on the time).
      const deadline = Date.now() + 20_000;
      while ((await query("system.load.1")).count === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      // Stopping flushes what the checks committed since.
      await agent.stop();
    }
    const loadAfter = Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
    const uptimeAfter = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
    const load = await query("system.load.1");
    const uptime = await query("system.uptime");
    const mem = await query("system.mem.total");
    await intake.component.stop();

    assert.ok(load.count > 0, "no system.load.1 at the intake");
    // Runs happen up to 20 s apart from the readings and loadavg drifts meanwhile: allow 1.
    for (const p of load.points) {
      assert.equal(p.host, "edge-checks");
      assert.ok(
        p.value >= Math.min(loadBefore, loadAfter) - 1 &&
          p.value <= Math.max(loadBefore, loadAfter) + 1,
      );
    }
    assert.ok(uptime.count > 0);
    for (const p of uptime.points) assert.ok(p.value >= uptimeBefore && p.value <= uptimeAfter);
    const memTotal = Number(/MemTotal:\s+(\d+) kB/.exec(readFileSync("/proc/meminfo", "utf8"))![1]);
    assert.equal(mem.points[0]!.value, memTotal * 1024 / (1024 * 1024));
  });
});
