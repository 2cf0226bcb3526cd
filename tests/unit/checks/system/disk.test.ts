import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createSystemLoader, type StatFs } from "../../../../src/checks/system/mod.ts";
import { defaultStatFs, diskGauges, parseMounts } from "../../../../src/checks/system/_disk.ts";
import { tempDir } from "../../../_temp.ts";
import { configFor, fakeHost, fixtureProc, NO_ABORT, useMoment } from "./_helpers.ts";

/** statfs numbers of the fixture's mount points. */
const STATFS: Record<string, StatFs> = {
  "/": {
    bsize: 4096,
    blocks: 1_000_000,
    bfree: 600_000,
    bavail: 550_000,
    files: 65536,
    ffree: 60000,
  },
  "/proc": { bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0 },
  "/mnt/data disk": { bsize: 1024, blocks: 2048, bfree: 1024, bavail: 1024, files: 0, ffree: 0 },
  "/dev/shm": { bsize: 4096, blocks: 256, bfree: 256, bavail: 256, files: 100, ffree: 99 },
};

/** The `device:` tag of a submission. */
function deviceOf(s: { tags: string[] }): string | undefined {
  return s.tags.find((t) => t.startsWith("device:"));
}

async function runDisk(
  instance: Record<string, unknown> = {},
  devDir?: string,
  initConfig: Record<string, unknown> = {},
) {
  const statted: string[] = [];
  const loader = createSystemLoader({
    devDir: devDir ?? tempDir("outpost-dev-"),
    statfs: (path) => {
      statted.push(path);
      const st = STATFS[path];
      return st ? Promise.resolve(st) : Promise.reject(new Error(`ENOENT: ${path}`));
    },
  });
  const host = fakeHost(fixtureProc("t0"));
  const config = configFor("disk", [instance], initConfig);
  const check = (await loader.load(config, config.instances[0]!, host))!;
  const result = await check.run(NO_ABORT);
  return { result, statted, sender: host.senders.get("disk")! };
}

describe("diskGauges()", () => {
  it("gives kB, the percent of the space users can reach rounded to 1 decimal, and inodes", () => {
    assert.deepEqual(diskGauges(STATFS["/"]!), {
      "system.disk.total": 4_000_000, // 1e6 blocks × 4 KiB
      "system.disk.used": 1_600_000, // (blocks − bfree) × 4 KiB
      "system.disk.free": 2_200_000, // bavail × 4 KiB (root's reserve is not free)
      "system.disk.utilized": 42.1, // 400000 / (400000 + 550000)
      "system.disk.in_use": 42.1 / 100, // the rounded percent over 100, as the Python check does
      "system.fs.inodes.total": 65536,
      "system.fs.inodes.used": 5536,
      "system.fs.inodes.free": 60000,
      "system.fs.inodes.utilized": 8.447265625,
      "system.fs.inodes.in_use": 0.08447265625,
    });
  });

  it("leaves out inodes when the filesystem has none", () => {
    assert.deepEqual(Object.keys(diskGauges(STATFS["/mnt/data disk"]!)), [
      "system.disk.total",
      "system.disk.used",
      "system.disk.free",
      "system.disk.utilized",
      "system.disk.in_use",
    ]);
  });
});

describe("defaultStatFs()", () => {
  it("works on this runtime (Bun and Deno both have node:fs statfs) and gives the fields used", async () => {
    const st = await defaultStatFs(tempDir("outpost-statfs-"));
    for (const k of ["bsize", "blocks", "bfree", "bavail", "files", "ffree"] as const) {
      assert.equal(typeof st[k], "number", k);
    }
    assert.ok(st.blocks > 0 && st.bsize > 0);
    assert.ok(st.bavail <= st.bfree && st.bfree <= st.blocks);
  });
});

describe("parseMounts()", () => {
  it("undoes the octal escapes of mount points", () => {
    assert.deepEqual(parseMounts("/dev/sdb1 /mnt/a\\040b xfs ro,relatime 0 0\n"), [
      { device: "/dev/sdb1", mountPoint: "/mnt/a b", fsType: "xfs", options: ["ro", "relatime"] },
    ]);
  });
});

describe("disk check", () => {
  it("run() skips device none, binfmt_misc, iso9660 and zero-size filesystems", async () => {
    const { result, statted, sender } = await runDisk();
    assert.deepEqual(result, { warnings: [] });
    assert.deepEqual(statted, ["/", "/proc", "/mnt/data disk", "/dev/shm"]);
    const devices = [...new Set(sender.find("system.disk.total").map((s) => deviceOf(s)))];
    assert.deepEqual(devices, ["device:/dev/sda1", "device:/dev/sdb1", "device:tmpfs"]);
  });

  it("run() submits gauges in kB tagged device and device_name", async () => {
    const { sender } = await runDisk();
    const root = sender.samples.filter((s) => s.tags.includes("device:/dev/sda1"));
    assert.ok(root.every((s) => s.type === "gauge"));
    assert.deepEqual(root[0]!.tags.sort(), ["device:/dev/sda1", "device_name:sda1"]);
    assert.deepEqual(
      Object.fromEntries(root.map((s) => [s.name, s.value])),
      diskGauges(STATFS["/"]!),
    );
    assert.equal(sender.one("system.disk.total", "device:/dev/sdb1").value, 2048);
    assert.equal(sender.one("system.fs.inodes.total", "device:tmpfs").value, 100);
  });

  it("run() submits read/write time per diskstats device: ms counts and the /10 rates", async () => {
    const { sender } = await runDisk();
    assert.deepEqual(sender.one("system.disk.read_time", "device:sda"), {
      type: "monotonic_count",
      name: "system.disk.read_time",
      value: 4000,
      tags: ["device:sda", "device_name:sda"],
    });
    assert.equal(sender.one("system.disk.write_time", "device:sda").value, 8000);
    const pct = sender.one("system.disk.read_time_pct", "device:sda");
    assert.equal(pct.type, "rate");
    assert.equal(pct.value, 400); // 4000 ms × 100 / 1000
    assert.equal(sender.one("system.disk.write_time_pct", "device:sda").value, 800);
  });

  it("file_system_exclude, mount_point_exclude and device_exclude (and old names) drop partitions", async () => {
    const cases: Array<[Record<string, unknown>, string[]]> = [
      [{ file_system_exclude: ["TMPFS"] }, ["/", "/mnt/data disk"]], // case-insensitive
      [{ file_system_blacklist: ["xfs$"] }, ["/", "/dev/shm"]],
      [{ mount_point_exclude: ["/mnt/"] }, ["/", "/dev/shm"]],
      [{ mount_point_blacklist: ["/dev"] }, ["/", "/mnt/data disk"]],
      [{ device_exclude: ["/dev/sd"] }, ["/dev/shm"]],
      [{ device_blacklist: ["/dev/sdb"] }, ["/", "/dev/shm"]],
      [{ mount_point_exclude: ["shm"] }, ["/", "/mnt/data disk", "/dev/shm"]], // re.match: from the start
      // The Python check cuts a mount point at its last blank before matching.
      [{ mount_point_exclude: ["/mnt/data$"] }, ["/", "/dev/shm"]],
      [{ excluded_filesystems: ["xfs", "ext"] }, ["/", "/dev/shm"]], // whole names: `xfs$`
      [{ excluded_disks: ["/dev/sda1"], excluded_disk_re: "tmp" }, ["/mnt/data disk"]],
      [{ excluded_mountpoint_re: "/dev/" }, ["/", "/mnt/data disk"]],
      [{ min_disk_size: 1 }, ["/", "/mnt/data disk"]], // MB: /dev/shm is exactly 1 MB
    ];
    for (const [instance, mounts] of cases) {
      const { sender } = await runDisk(instance);
      const got = sender.find("system.disk.total").map((s) => deviceOf(s));
      const expected = mounts.map((m) =>
        ({
          "/": "device:/dev/sda1",
          "/mnt/data disk": "device:/dev/sdb1",
          "/dev/shm": "device:tmpfs",
        })[m]
      );
      assert.deepEqual(got, expected, JSON.stringify(instance));
    }
  });

  it("include_all_devices: false keeps only filesystems backed by a device", async () => {
    const { sender } = await runDisk({ include_all_devices: false });
    assert.deepEqual(sender.find("system.disk.total").map((s) => deviceOf(s)), [
      "device:/dev/sda1",
      "device:/dev/sdb1",
    ]);
  });

  it("init_config *_global_exclude replaces the default excludes", async () => {
    const { sender } = await runDisk({}, undefined, { file_system_global_exclude: ["tmpfs"] });
    assert.deepEqual(sender.find("system.disk.total").map(deviceOf), [
      "device:/dev/sda1",
      "device:/dev/sdb1",
    ]);
    // The defaults gone, the iso9660 mount is statted too (and fails here: no statfs fixture).
    const kept = await runDisk({}, undefined, { file_system_global_blacklist: [] });
    assert.ok(kept.statted.includes("/media/cd"));
  });

  it("tag_by_filesystem adds the type bare and as filesystem:<type>; device_tag_re adds tags", async () => {
    const { sender } = await runDisk({
      tag_by_filesystem: true,
      device_tag_re: { "/dev/sdb.*": "role:data, tier:cold", "sdb": "never:matched" },
    });
    assert.deepEqual(sender.one("system.disk.total", "device:/dev/sdb1").tags.sort(), [
      "device:/dev/sdb1",
      "device_name:sdb1",
      "filesystem:xfs",
      "role:data",
      "tier:cold",
      "xfs",
    ]);
    assert.ok(sender.one("system.disk.total", "device:/dev/sda1").tags.includes("filesystem:ext4"));
  });

  it("use_mount tags device with the mount point; lowercase_device_tag lowercases it", async () => {
    const { sender } = await runDisk({ use_mount: true });
    assert.deepEqual(sender.one("system.disk.total", "device:/mnt/data disk").tags.sort(), [
      "device:/mnt/data disk",
      "device_name:sdb1", // always from the device
    ]);
    const proc = tempDir("outpost-disk-upper-");
    useMoment(proc, "t0");
    writeFileSync(join(proc, "self/mounts"), "/dev/SDC1 / ext4 rw 0 0\n");
    writeFileSync(join(proc, "diskstats"), "   8 33 SDC1 1 2 3 4 5 6 7 8 0 10 11 0 0 0 0\n");
    const host = fakeHost(proc);
    const config = configFor("disk", [{ lowercase_device_tag: true }]);
    const loader = createSystemLoader({
      devDir: tempDir("outpost-dev-"),
      statfs: () => Promise.resolve(STATFS["/"]!),
    });
    const check = (await loader.load(config, config.instances[0]!, host))!;
    await check.run(NO_ABORT);
    const upper = host.senders.get("disk")!;
    assert.deepEqual(upper.one("system.disk.total").tags.sort(), [
      "device:/dev/sdc1",
      "device_name:SDC1",
    ]);
    assert.deepEqual(upper.one("system.disk.read_time").tags.sort(), [
      "device:sdc1",
      "device_name:SDC1",
    ]);
  });

  it("tag_by_label (default on) tags label and device_label from disk/by-label links", async () => {
    const dev = tempDir("outpost-dev-labels-");
    mkdirSync(join(dev, "disk", "by-label"), { recursive: true });
    symlinkSync("../../sda1", join(dev, "disk", "by-label", "root\\x20fs"));
    const { sender } = await runDisk({}, dev);
    assert.deepEqual(sender.one("system.disk.total", "device:/dev/sda1").tags.sort(), [
      "device:/dev/sda1",
      "device_label:root fs",
      "device_name:sda1",
      "label:root fs",
    ]);
    const off = await runDisk({ tag_by_label: false }, dev);
    assert.equal(off.sender.one("system.disk.total", "device:/dev/sda1").tags.length, 2);
  });

  it("service_check_rw: disk.read_write OK for rw, CRITICAL for ro", async () => {
    const { sender } = await runDisk({ service_check_rw: true });
    assert.deepEqual(
      sender.serviceChecks.map((c) => [c.name, c.status, deviceOf(c)]),
      [
        ["disk.read_write", 0, "device:/dev/sda1"],
        ["disk.read_write", 2, "device:/dev/sdb1"],
        ["disk.read_write", 0, "device:tmpfs"],
      ],
    );
    assert.equal((await runDisk()).sender.serviceChecks.length, 0);
  });

  it("run() asks a slow mount again once its late statfs returned", async () => {
    let release: (st: StatFs) => void = () => {};
    const calls: string[] = [];
    const loader = createSystemLoader({
      devDir: tempDir("outpost-dev-"),
      statfs: (path) => {
        calls.push(path);
        if (path !== "/") return Promise.reject(new Error("skip"));
        return calls.filter((c) => c === "/").length === 1
          ? new Promise<StatFs>((r) => release = r)
          : Promise.resolve(STATFS["/"]!);
      },
    });
    const host = fakeHost(fixtureProc("t0"));
    const config = configFor("disk", [{ timeout: 0.02 }]);
    const check = (await loader.load(config, config.instances[0]!, host))!;
    await check.run(NO_ABORT);
    release(STATFS["/"]!);
    await new Promise((r) => setTimeout(r, 0));
    const sender = host.senders.get("disk")!;
    sender.clear();
    const result = await check.run(NO_ABORT);
    assert.equal(calls.filter((c) => c === "/").length, 2);
    assert.equal(sender.find("system.disk.total", "device:/dev/sda1").length, 1);
    assert.ok(!result.warnings.some((w) => w.startsWith("Skipping")));
  });

  it("run() warns and goes on when statfs of one mount point fails or hangs", async () => {
    const loader = createSystemLoader({
      devDir: tempDir("outpost-dev-"),
      statfs: (path) =>
        path === "/mnt/data disk"
          ? new Promise<StatFs>(() => {}) // a dead network mount never answers
          : path === "/dev/shm"
          ? Promise.reject(new Error("EACCES"))
          : Promise.resolve(STATFS[path]!),
    });
    const host = fakeHost(fixtureProc("t0"));
    const config = configFor("disk", [{ timeout: 0.05 }]);
    const check = (await loader.load(config, config.instances[0]!, host))!;
    const result = await check.run(NO_ABORT);
    assert.equal(result.error, undefined);
    assert.equal(result.warnings.length, 2);
    assert.match(result.warnings[0]!, /\/mnt\/data disk: statfs of \/mnt\/data disk timed out/);
    assert.match(result.warnings[1]!, /\/dev\/shm: EACCES/);
    assert.equal(host.senders.get("disk")!.find("system.disk.total").length, 1);
    // The hung mount is not asked again while its first call is pending.
    const again = await check.run(NO_ABORT);
    assert.match(again.warnings[0]!, /Skipping \/mnt\/data disk: its last statfs has not returned/);
  });
});
