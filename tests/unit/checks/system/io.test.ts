import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createSystemLoader } from "../../../../src/checks/system/mod.ts";
import { tempDir } from "../../../_temp.ts";
import { configFor, fakeHost, NO_ABORT, useMoment } from "./_helpers.ts";

/** Loads io over a copy of fixture t0 with a monotonic clock the test moves. */
async function loadIo(init: Record<string, unknown> = {}) {
  const proc = tempDir("outpost-io-");
  useMoment(proc, "t0");
  const clock = { ms: 1_000_000 };
  const host = fakeHost(proc);
  const config = configFor("io", [{}], init);
  const loader = createSystemLoader({ monotonic: () => clock.ms });
  const check = (await loader.load(config, config.instances[0]!, host))!;
  return { proc, clock, check, sender: host.senders.get("io")! };
}

describe("io check", () => {
  it("run() 1st: per-device request rates and block rates only", async () => {
    const { check, sender } = await loadIo();
    assert.deepEqual(await check.run(NO_ABORT), { warnings: [] });
    const sda = sender.samples.filter((s) => s.tags.includes("device:sda"));
    assert.deepEqual(sda.map((s) => [s.type, s.name, s.value]), [
      ["rate", "system.io.r_s", 1000],
      ["rate", "system.io.w_s", 2000],
      ["rate", "system.io.rrqm_s", 100],
      ["rate", "system.io.wrqm_s", 200],
    ]);
    assert.ok(sda.every((s) => s.tags.join() === "device:sda,device_name:sda"));
    assert.deepEqual(sender.find("system.io.block_in"), [
      { type: "rate", name: "system.io.block_in", value: 1000, tags: [] },
    ]);
    assert.equal(sender.one("system.io.block_out").value, 2000);
    assert.equal(sender.find("system.io.util").length, 0);
  });

  it("run() 2nd: iostat gauges over the 2 s between runs, rounded to 2 decimals", async () => {
    const { proc, clock, check, sender } = await loadIo();
    await check.run(NO_ABORT);
    useMoment(proc, "t1");
    clock.ms += 2000;
    sender.clear();
    await check.run(NO_ABORT);
    const gauges = Object.fromEntries(
      sender.samples.filter((s) => s.type === "gauge" && s.tags.includes("device:sda"))
        .map((s) => [s.name, s.value]),
    );
    // Δ over 2 s: reads 100, writes 300, read sectors 2048, write sectors 4096, read ms 200,
    // write ms 900, io ms 1000, weighted io ms 2048.
    assert.deepEqual(gauges, {
      "system.io.rkb_s": 512, // 2048 × 512 B / 1024 / 2 s
      "system.io.wkb_s": 1024,
      "system.io.avg_rq_sz": 15.36, // 6144 sectors / 400 requests
      "system.io.await": 2.75, // 1100 ms / 400
      "system.io.r_await": 2,
      "system.io.w_await": 3,
      "system.io.avg_q_sz": 1, // 2048 / 1024 / 2
      "system.io.svctm": 2.5, // 500 busy ms/s over 200 requests/s
      "system.io.util": 50, // 1000 ms busy in 2000 ms
    });
    assert.equal(sender.one("system.io.r_s", "device:sda").value, 1100);
  });

  it("run() handles a 32-bit counter that wrapped", async () => {
    const { proc, clock, check, sender } = await loadIo();
    await check.run(NO_ABORT);
    useMoment(proc, "t1");
    clock.ms += 1000;
    sender.clear();
    await check.run(NO_ABORT);
    // sda1 reads went 4294967290 → 10: 16 reads, 16 ms.
    assert.equal(sender.one("system.io.r_await", "device:sda1").value, 1);
    assert.equal(sender.one("system.io.avg_rq_sz", "device:sda1").value, 0);
  });

  it("device_exclude_re (and its old name) drops matching devices; lowercase_device_tag keeps case on Linux", async () => {
    for (const key of ["device_exclude_re", "device_blacklist_re"]) {
      const { check, sender } = await loadIo({ [key]: "loop\\d+" });
      await check.run(NO_ABORT);
      assert.equal(sender.samples.filter((s) => s.tags.includes("device:loop0")).length, 0, key);
      assert.ok(sender.find("system.io.r_s", "device:sda").length === 1, key);
    }
    const proc = tempDir("outpost-io-upper-");
    useMoment(proc, "t0");
    writeFileSync(`${proc}/diskstats`, "   8 0 SDA 1 2 3 4 5 6 7 8 0 10 11 0 0 0 0\n");
    const host = fakeHost(proc);
    const config = configFor("io", [{}], { lowercase_device_tag: true });
    const check = (await createSystemLoader().load(config, config.instances[0]!, host))!;
    await check.run(NO_ABORT);
    assert.deepEqual(host.senders.get("io")!.one("system.io.r_s").tags, [
      "device:SDA",
      "device_name:SDA",
    ]);
  });
});
