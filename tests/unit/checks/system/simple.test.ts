import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSystemLoader } from "../../../../src/checks/system/mod.ts";
import { tempDir } from "../../../_temp.ts";
import {
  configFor,
  fakeHost,
  fixtureProc,
  NO_ABORT,
  type RecordingSender,
  useMoment,
} from "./_helpers.ts";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

async function runOnce(name: string, proc = fixtureProc("t0")): Promise<RecordingSender> {
  const host = fakeHost(proc);
  const config = configFor(name);
  const check = (await createSystemLoader().load(config, config.instances[0]!, host))!;
  const result = await check.run(NO_ABORT);
  assert.deepEqual(result, { warnings: [] });
  return host.senders.get(name)!;
}

describe("load check", () => {
  it("run() submits the load averages and the load per core (2 cores)", async () => {
    const sender = await runOnce("load");
    assert.ok(sender.samples.every((s) => s.type === "gauge" && s.tags.length === 0));
    assert.deepEqual(sender.values(), {
      "system.load.1": 0.5,
      "system.load.5": 1,
      "system.load.15": 2,
      "system.load.norm.1": 0.25,
      "system.load.norm.5": 0.5,
      "system.load.norm.15": 1,
    });
  });
});

describe("memory check", () => {
  it("run() submits MB, fractions and the swap counters as MB rates", async () => {
    const sender = await runOnce("memory");
    const rates = sender.samples.filter((s) => s.type === "rate").map((s) => s.name).sort();
    assert.deepEqual(rates, ["system.swap.swap_in", "system.swap.swap_out"]);
    assert.ok(sender.samples.every((s) => s.tags.length === 0));
    assert.deepEqual(sender.values(), {
      "system.mem.total": 8192, // 8388608 kB
      "system.mem.free": 1024,
      "system.mem.used": 7168, // total − free
      "system.mem.usable": 4096, // MemAvailable
      "system.mem.pct_usable": 0.5,
      "system.mem.cached": 2248, // Cached 2048 + SReclaimable 200
      "system.mem.buffered": 100,
      "system.mem.shared": 50,
      "system.mem.slab": 300,
      "system.mem.slab_reclaimable": 200,
      "system.mem.page_tables": 20,
      "system.mem.commit_limit": 6144,
      "system.mem.committed_as": 3072,
      "system.swap.cached": 10,
      "system.swap.total": 2048,
      "system.swap.free": 1536,
      "system.swap.used": 512,
      "system.swap.pct_free": 0.75,
      "system.swap.swap_in": 10, // 2560 pages × 4 KiB
      "system.swap.swap_out": 20,
    });
  });

  it("run() estimates usable memory without MemAvailable and reports pct_free 1 without swap", async () => {
    const proc = tempDir("outpost-mem-");
    writeFileSync(
      join(proc, "meminfo"),
      "MemTotal: 4096 kB\nMemFree: 1024 kB\nBuffers: 512 kB\nCached: 512 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n",
    );
    const sender = await runOnce("memory", proc);
    assert.equal(sender.one("system.mem.usable").value, 2048 / 1024);
    assert.equal(sender.one("system.mem.pct_usable").value, 0.5);
    assert.equal(sender.one("system.swap.pct_free").value, 1);
    assert.equal(sender.find("system.swap.swap_in").length, 0);
  });

  it("run() fails when /proc/meminfo is missing", async () => {
    const host = fakeHost(tempDir("outpost-mem-empty-"));
    const config = configFor("memory");
    const check = (await createSystemLoader().load(config, config.instances[0]!, host))!;
    assert.match((await check.run(NO_ABORT)).error!.message, /meminfo/);
  });
});

describe("uptime check", () => {
  it("run() submits the seconds since boot", async () => {
    const sender = await runOnce("uptime");
    assert.deepEqual(sender.samples, [{
      type: "gauge",
      name: "system.uptime",
      value: 12345.67,
      tags: [],
    }]);
  });
});

describe("file_handle check", () => {
  it("run() submits allocated, unused, used, max and the used fraction", async () => {
    const sender = await runOnce("file_handle");
    assert.ok(sender.samples.every((s) => s.type === "gauge" && s.tags.length === 0));
    assert.deepEqual(sender.values(), {
      "system.fs.file_handles.allocated": 3000,
      "system.fs.file_handles.allocated_unused": 500,
      "system.fs.file_handles.used": 2500,
      "system.fs.file_handles.max": 100000,
      "system.fs.file_handles.in_use": 0.025,
    });
  });

  it("run() fails on a malformed file-nr", async () => {
    const proc = tempDir("outpost-fh-");
    useMoment(proc, "t0");
    writeFileSync(join(proc, "sys/fs/file-nr"), "lots\n");
    const host = fakeHost(proc);
    const config = configFor("file_handle");
    const check = (await createSystemLoader().load(config, config.instances[0]!, host))!;
    assert.match(
      (await check.run(NO_ABORT)).error!.message,
      /Cannot parse \/proc\/sys\/fs\/file-nr/,
    );
  });
});
