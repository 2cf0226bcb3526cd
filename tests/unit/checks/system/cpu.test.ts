import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSystemLoader } from "../../../../src/checks/system/mod.ts";
import { cpuPercents, parseProcStat } from "../../../../src/checks/system/_cpu.ts";
import { tempDir } from "../../../_temp.ts";
import { configFor, fakeHost, NO_ABORT, useMoment } from "./_helpers.ts";

async function loadCpu(instance: Record<string, unknown> = {}) {
  const proc = tempDir("outpost-cpu-");
  useMoment(proc, "t0");
  const host = fakeHost(proc);
  const config = configFor("cpu", [instance]);
  const check = (await createSystemLoader().load(config, config.instances[0]!, host))!;
  return { proc, check, sender: host.senders.get("cpu")! };
}

describe("cpu check", () => {
  it("run() 1st: cores, context switches and cumulative seconds, no percentages", async () => {
    const { check, sender } = await loadCpu();
    assert.deepEqual(await check.run(NO_ABORT), { warnings: [] });
    assert.deepEqual(sender.one("system.cpu.num_cores"), {
      type: "gauge",
      name: "system.cpu.num_cores",
      value: 2,
      tags: [],
    });
    assert.deepEqual(sender.one("system.cpu.context_switches"), {
      type: "monotonic_count",
      name: "system.cpu.context_switches",
      value: 100000,
      tags: [],
    });
    assert.equal(sender.find("system.cpu.user").length, 0);
    // /proc/stat counts 1/100 s ticks: 1000 user ticks are 10 s.
    const totals = sender.values("core:cpu-total");
    assert.deepEqual(totals, {
      "system.cpu.user.total": 10,
      "system.cpu.nice.total": 2,
      "system.cpu.system.total": 3,
      "system.cpu.idle.total": 50,
      "system.cpu.iowait.total": 1,
      "system.cpu.irq.total": 0.5,
      "system.cpu.softirq.total": 0.5,
      "system.cpu.steal.total": 0.2,
      "system.cpu.guest.total": 0.1,
      "system.cpu.guestnice.total": 0,
    });
    assert.ok(
      sender.samples.filter((s) => s.name.endsWith(".total")).every((s) => s.type === "gauge"),
    );
    assert.equal(sender.samples.filter((s) => s.tags.some((t) => /^core:cpu\d/.test(t))).length, 0);
  });

  it("run() 2nd: the percent split of the interval", async () => {
    const { proc, check, sender } = await loadCpu();
    await check.run(NO_ABORT);
    useMoment(proc, "t1");
    sender.clear();
    await check.run(NO_ABORT);
    // Δ: user 300, nice 100, system 150, idle 1200, iowait 100, irq 50, softirq 50, steal 50,
    // guest 20; Δtotal (guest excluded, it is inside user) = 2000 ticks.
    const pct = Object.fromEntries(
      sender.samples.filter((s) =>
        !s.name.endsWith(".total") && s.name !== "system.cpu.num_cores" &&
        s.name !== "system.cpu.context_switches"
      ).map((s) => [s.name, s.value]),
    );
    assert.deepEqual(pct, {
      "system.cpu.user": 20, // (300 + 100) / 2000
      "system.cpu.system": 12.5, // (150 + 50 + 50) / 2000
      "system.cpu.interrupt": 5, // (50 + 50) / 2000
      "system.cpu.iowait": 5,
      "system.cpu.idle": 60,
      "system.cpu.stolen": 2.5,
      "system.cpu.guest": 1,
    });
    assert.ok(
      sender.find("system.cpu.user").every((s) => s.type === "gauge" && s.tags.length === 0),
    );
    assert.equal(sender.one("system.cpu.context_switches").value, 100500);
    assert.equal(sender.one("system.cpu.user.total").value, 13);
  });

  it("report_total_percpu adds one series per core tagged core:cpuN", async () => {
    const { check, sender } = await loadCpu({ report_total_percpu: true });
    await check.run(NO_ABORT);
    assert.equal(sender.one("system.cpu.idle.total", "core:cpu0").value, 25);
    assert.equal(sender.one("system.cpu.idle.total", "core:cpu1").value, 25);
    assert.equal(sender.one("system.cpu.idle.total", "core:cpu-total").value, 50);
  });

  it("run() fails with the path when /proc/stat is missing", async () => {
    const host = fakeHost(tempDir("outpost-cpu-empty-"));
    const config = configFor("cpu");
    const check = (await createSystemLoader().load(config, config.instances[0]!, host))!;
    const result = await check.run(NO_ABORT);
    assert.match(result.error!.message, /Cannot read .*stat/);
    assert.ok(result.error!.traceback.length > 0);
  });

  it("cpuPercents() is empty when no time passed", () => {
    const t = parseProcStat("cpu 1 2 3 4 5 6 7 8 9 10\n").total;
    assert.deepEqual(cpuPercents(t, t), {});
  });
});
