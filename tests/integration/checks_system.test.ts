/**
 * The system checks against this machine's real /proc, each compared with an independent
 * reading taken around the check's own (the test parses /proc itself or runs free, df, ip,
 * getconf). Counters are bracketed by a reading before and one after the run; gauges that can
 * move both ways get a tolerance, with the reason beside it. ntp runs against NTP responders on
 * 127.0.0.1 started here.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createSocket, type Socket } from "node:dgram";
import { createSystemLoader, type SystemLoaderOptions } from "../../src/checks/system/mod.ts";
import type { Check } from "../../src/checks/_types.ts";
import {
  configFor,
  fakeHost,
  NO_ABORT,
  type RecordingSender,
} from "../unit/checks/system/_helpers.ts";

const MB = 1024 * 1024;

async function load(
  name: string,
  instance: Record<string, unknown> = {},
  options: SystemLoaderOptions = {},
): Promise<{ check: Check; sender: RecordingSender }> {
  const host = fakeHost("/proc");
  const config = configFor(name, [instance]);
  const check = (await createSystemLoader(options).load(config, config.instances[0]!, host))!;
  return { check, sender: host.senders.get(check.id)! };
}

function sh(cmd: string, ...args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8" });
}

function procStatCpu(): number[] {
  const line = readFileSync("/proc/stat", "utf8").split("\n").find((l) => l.startsWith("cpu "))!;
  return line.trim().split(/\s+/).slice(1).map(Number);
}

function diskstats(): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const line of readFileSync("/proc/diskstats", "utf8").split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 14) out.set(f[2]!, f.slice(3).map(Number));
  }
  return out;
}

function within(value: number, low: number, high: number, why: string): void {
  assert.ok(value >= low && value <= high, `${value} not in [${low}, ${high}]: ${why}`);
}

describe("system checks on this machine's /proc", () => {
  it("cpu: num_cores is the online CPU count, totals match /proc/stat, percentages add up to 100", async () => {
    const { check, sender } = await load("cpu");
    const before = procStatCpu();
    assert.deepEqual(await check.run(NO_ABORT), { warnings: [] });
    const after = procStatCpu();
    // getconf's online count is nproc's, before any CPU affinity of this process narrows it.
    assert.equal(
      sender.one("system.cpu.num_cores").value,
      Number(sh("getconf", "_NPROCESSORS_ONLN")),
    );
    // Counters grow between the two readings: the check's must lie between them (ticks of 1/100 s).
    within(sender.one("system.cpu.user.total").value, before[0]! / 100, after[0]! / 100, "counter");
    within(sender.one("system.cpu.idle.total").value, before[3]! / 100, after[3]! / 100, "counter");
    // Wait (without a deadline) until the kernel counted more CPU time, then run again.
    const seen = after.slice(0, 8).reduce((a, b) => a + b, 0);
    while (procStatCpu().slice(0, 8).reduce((a, b) => a + b, 0) === seen) {
      await new Promise((r) => setTimeout(r, 20));
    }
    sender.clear();
    await check.run(NO_ABORT);
    const pct = (n: string) => sender.one(`system.cpu.${n}`).value;
    for (const n of ["user", "system", "iowait", "idle", "stolen", "interrupt", "guest"]) {
      within(pct(n), 0, 100, n);
    }
    // user (with nice) + system (with irq, softirq) + iowait + idle + stolen is the whole interval.
    const sum = pct("user") + pct("system") + pct("iowait") + pct("idle") + pct("stolen");
    assert.ok(Math.abs(sum - 100) < 1e-9, `sum ${sum}`);
  });

  it("load: the averages are /proc/loadavg's, divided by the online CPUs for norm", async () => {
    const { check, sender } = await load("load");
    const before = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number);
    await check.run(NO_ABORT);
    const after = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number);
    const cores = Number(sh("getconf", "_NPROCESSORS_ONLN"));
    ["1", "5", "15"].forEach((k, i) => {
      // The kernel recomputes loadavg every 5 s: the check saw the before or the after value.
      const v = sender.one(`system.load.${k}`).value;
      assert.ok(v === before[i] || v === after[i], `load.${k} ${v} vs ${before[i]}/${after[i]}`);
      assert.equal(sender.one(`system.load.norm.${k}`).value, v / cores);
    });
  });

  it("memory: totals equal free -b, the moving figures are close to it", async () => {
    const { check, sender } = await load("memory");
    const free = () => {
      const lines = sh("free", "-b").split("\n");
      const mem = lines.find((l) => l.startsWith("Mem:"))!.trim().split(/\s+/).slice(1).map(Number);
      const swap = lines.find((l) => l.startsWith("Swap:"))!.trim().split(/\s+/).slice(1).map(
        Number,
      );
      return { mem, swap };
    };
    const a = free();
    await check.run(NO_ABORT);
    const b = free();
    const v = (n: string) => sender.one(n).value * MB;
    assert.equal(v("system.mem.total"), a.mem[0]);
    assert.equal(v("system.swap.total"), a.swap[0]);
    // Other processes allocate and free between the readings: allow 64 MB either side.
    const tol = 64 * MB;
    const close = (value: number, x: number, y: number, what: string) =>
      within(value, Math.min(x, y) - tol, Math.max(x, y) + tol, what);
    close(v("system.mem.free"), a.mem[2]!, b.mem[2]!, "free");
    close(v("system.mem.usable"), a.mem[5]!, b.mem[5]!, "available");
    close(v("system.mem.shared"), a.mem[3]!, b.mem[3]!, "shared");
    close(v("system.mem.buffered") + v("system.mem.cached"), a.mem[4]!, b.mem[4]!, "buff/cache");
    close(v("system.swap.free"), a.swap[2]!, b.swap[2]!, "swap free");
    assert.ok(Math.abs(v("system.mem.used") - (v("system.mem.total") - v("system.mem.free"))) < 1);
  });

  it("uptime: between two readings of /proc/uptime", async () => {
    const { check, sender } = await load("uptime");
    const before = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
    await check.run(NO_ABORT);
    const after = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
    within(sender.one("system.uptime").value, before, after, "uptime grows");
  });

  it("io: every /proc/diskstats device, its request counts between two readings", async () => {
    const { check, sender } = await load("io");
    const before = diskstats();
    await check.run(NO_ABORT);
    const after = diskstats();
    assert.ok(before.size > 0);
    for (const [dev, b] of before) {
      const a = after.get(dev)!;
      within(sender.one("system.io.r_s", `device:${dev}`).value, b[0]!, a[0]!, `${dev} reads`);
      within(sender.one("system.io.w_s", `device:${dev}`).value, b[4]!, a[4]!, `${dev} writes`);
    }
  });

  it("disk: the root filesystem's size equals df -B1, used and available are close", async () => {
    const { check, sender } = await load("disk");
    const df = () => {
      const [source, size, used, avail] = sh("df", "-B1", "--output=source,size,used,avail", "/")
        .trim().split("\n")[1]!.trim().split(/\s+/);
      return { source: source!, size: Number(size), used: Number(used), avail: Number(avail) };
    };
    const a = df();
    const result = await check.run(NO_ABORT);
    const b = df();
    assert.equal(result.error, undefined);
    const kb = (n: string) => sender.find(n, `device:${a.source}`)[0]!.value * 1024;
    assert.equal(kb("system.disk.total"), a.size);
    // Files are written by other processes between the readings: allow 64 MB.
    const tol = 64 * MB;
    within(
      kb("system.disk.used"),
      Math.min(a.used, b.used) - tol,
      Math.max(a.used, b.used) + tol,
      "used",
    );
    within(
      kb("system.disk.free"),
      Math.min(a.avail, b.avail) - tol,
      Math.max(a.avail, b.avail) + tol,
      "free",
    );
    // Mounts of size 0 (proc, sysfs, cgroup) are left out.
    assert.equal(sender.find("system.disk.total").filter((s) => s.value === 0).length, 0);
  });

  it("network: every interface of ip -s link, its byte and packet counts between two readings", async () => {
    const { check, sender } = await load("network");
    type Link = {
      ifname: string;
      stats64: { rx: Record<string, number>; tx: Record<string, number> };
    };
    const ip = () =>
      new Map(
        (JSON.parse(sh("ip", "-j", "-s", "link")) as Link[]).map((l) => [l.ifname, l.stats64]),
      );
    const before = ip();
    await check.run(NO_ABORT);
    const after = ip();
    assert.ok(before.size > 0);
    for (const [name, b] of before) {
      const a = after.get(name)!;
      const tag = `device:${name}`;
      within(
        sender.one("system.net.bytes_rcvd", tag).value,
        b.rx.bytes!,
        a.rx.bytes!,
        `${name} rx`,
      );
      within(
        sender.one("system.net.bytes_sent", tag).value,
        b.tx.bytes!,
        a.tx.bytes!,
        `${name} tx`,
      );
      within(
        sender.one("system.net.packets_in.count", tag).value,
        b.rx.packets!,
        a.rx.packets!,
        name,
      );
      within(
        sender.one("system.net.packets_out.count", tag).value,
        b.tx.packets!,
        a.tx.packets!,
        name,
      );
    }
    assert.ok(sender.one("system.net.tcp.in_segs").value > 0);
  });

  it("file_handle: max equals /proc/sys/fs/file-nr, allocated is close to it", async () => {
    const { check, sender } = await load("file_handle");
    const read = () => sh("cat", "/proc/sys/fs/file-nr").trim().split(/\s+/).map(Number);
    const a = read();
    await check.run(NO_ABORT);
    const b = read();
    assert.equal(sender.one("system.fs.file_handles.max").value, a[2]);
    // Processes open and close files between the readings: allow 1000 handles.
    const allocated = sender.one("system.fs.file_handles.allocated").value;
    within(allocated, Math.min(a[0]!, b[0]!) - 1000, Math.max(a[0]!, b[0]!) + 1000, "allocated");
  });
});

/** A UDP NTP responder (127.0.0.1, a free port by default): receive = client time + `offsetS`, transmit 1 ms later. */
async function ntpServer(
  offsetS: number,
  { stratum = 2, silent = false, address = "127.0.0.1", port = 0, leap = 0 }: {
    stratum?: number;
    leap?: number;
    silent?: boolean;
    address?: string;
    port?: number;
  } = {},
): Promise<{ port: number; socket: Socket; requests: Uint8Array[] }> {
  const socket = createSocket("udp4");
  const requests: Uint8Array[] = [];
  socket.on("message", (msg: Uint8Array, from) => {
    requests.push(new Uint8Array(msg));
    if (silent) return;
    const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
    const t1 = view.getUint32(40) + view.getUint32(44) / 2 ** 32;
    const reply = new Uint8Array(48);
    const out = new DataView(reply.buffer);
    reply[0] = (leap << 6) | (3 << 3) | 4; // version 3, server mode
    reply[1] = stratum;
    if (stratum === 0) reply.set(new TextEncoder().encode("RATE"), 12);
    reply.set(msg.subarray(40, 48), 24); // originate = the client's transmit time
    const put = (at: number, seconds: number) => {
      const whole = Math.floor(seconds);
      out.setUint32(at, whole);
      out.setUint32(at + 4, Math.floor((seconds - whole) * 2 ** 32));
    };
    put(32, t1 + offsetS);
    put(40, t1 + offsetS + 0.001);
    socket.send(reply, from.port, from.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, address, () => resolve());
  });
  return { port: socket.address().port, socket, requests };
}

describe("ntp check against local responders", () => {
  const T = 1_767_225_600_000; // a fixed wall clock in ms

  it("submits offset ((t2 − t1) + (t3 − t4)) / 2 and in_sync CRITICAL past the threshold", async () => {
    const server = await ntpServer(100);
    try {
      // t1 = T when sending; t4 = T + 2 ms on receipt.
      let calls = 0;
      const now = () => T + (calls++ % 2 === 0 ? 0 : 2);
      const { check, sender } = await load("ntp", { hosts: ["127.0.0.1"], port: server.port }, {
        now,
      });
      assert.deepEqual(await check.run(NO_ABORT), { warnings: [] });
      // ((100) + (100.001 − 0.002)) / 2; NTP fractions and doubles near 1.7e9 s keep ~1e-6 s.
      const offset = sender.one("ntp.offset");
      assert.equal(offset.type, "gauge");
      assert.ok(Math.abs(offset.value - 99.9995) < 1e-5, String(offset.value));
      assert.equal(sender.serviceChecks.length, 1);
      assert.equal(sender.serviceChecks[0]!.name, "ntp.in_sync");
      assert.equal(sender.serviceChecks[0]!.status, 2);
      assert.match(sender.serviceChecks[0]!.message!, /higher than offset threshold \(60 secs\)/);
      // The request: 48 bytes, LI 0, version 3, client mode.
      assert.equal(server.requests[0]!.length, 48);
      assert.equal(server.requests[0]![0], (3 << 3) | 3);
    } finally {
      server.socket.close();
    }
  });

  it("takes the median over hosts, is OK under offset_threshold, and sends the configured version", async () => {
    // Three responders on one port of three loopback addresses (all of 127/8 is loopback on Linux).
    const first = await ntpServer(10);
    const servers = [
      first,
      await ntpServer(300, { address: "127.0.0.2", port: first.port }),
      await ntpServer(20, { address: "127.0.0.3", port: first.port }),
    ];
    try {
      const { check, sender } = await load("ntp", {
        hosts: ["127.0.0.1", "127.0.0.2", "127.0.0.3"],
        port: first.port,
        offset_threshold: 30,
        version: 4,
      }, { now: () => T });
      assert.deepEqual(await check.run(NO_ABORT), { warnings: [] });
      // With t1 = t4 each offset is the responder's shift plus half its 1 ms turnaround.
      const offset = sender.one("ntp.offset").value;
      assert.ok(Math.abs(offset - 20.0005) < 1e-5, String(offset));
      assert.deepEqual(sender.serviceChecks.map((c) => [c.name, c.status]), [["ntp.in_sync", 0]]);
      for (const s of servers) assert.equal(s.requests[0]![0], (4 << 3) | 3);
    } finally {
      servers.forEach((s) => s.socket.close());
    }
  });

  it("a host that answers wins over one that does not; an even count takes the mean of the middle two", async () => {
    const a = await ntpServer(4);
    const b = await ntpServer(8, { address: "127.0.0.2", port: a.port });
    const mute = await ntpServer(0, { address: "127.0.0.3", port: a.port, silent: true });
    try {
      const { check, sender } = await load("ntp", {
        hosts: ["127.0.0.1", "127.0.0.2", "127.0.0.3"],
        port: a.port,
        timeout: 0.2,
      }, { now: () => T });
      const result = await check.run(NO_ABORT);
      assert.deepEqual(result, { warnings: [] });
      assert.ok(Math.abs(sender.one("ntp.offset").value - 6.0005) < 1e-5);
      assert.equal(sender.serviceChecks[0]!.status, 0);
    } finally {
      [a, b, mute].forEach((s) => s.socket.close());
    }
  });

  it("a host that does not answer gives UNKNOWN with the error, a warning, and no offset", async () => {
    const server = await ntpServer(0, { silent: true });
    try {
      const { check, sender } = await load("ntp", {
        hosts: ["127.0.0.1"],
        port: server.port,
        timeout: 0.2,
      });
      const result = await check.run(NO_ABORT);
      assert.equal(result.error, undefined);
      assert.equal(result.warnings.length, 1);
      assert.match(result.warnings[0]!, /timed out after 200 ms/);
      assert.equal(sender.find("ntp.offset").length, 0);
      assert.equal(sender.serviceChecks[0]!.status, 3);
      assert.match(
        sender.serviceChecks[0]!.message!,
        /failed to get clock offset from any ntp host/,
      );
      assert.equal(server.requests.length, 1);
    } finally {
      server.socket.close();
    }
  });

  it("a reply from an unsynchronized server (leap 3) is a failure", async () => {
    const server = await ntpServer(0, { leap: 3 });
    try {
      const { check, sender } = await load("ntp", { host: "127.0.0.1", port: server.port });
      const result = await check.run(NO_ABORT);
      assert.match(result.warnings[0]!, /is not synchronized/);
      assert.equal(sender.serviceChecks[0]!.status, 3);
    } finally {
      server.socket.close();
    }
  });

  it("a kiss-of-death reply is a failure that names its code", async () => {
    const server = await ntpServer(0, { stratum: 0 });
    try {
      const { check, sender } = await load("ntp", {
        host: "127.0.0.1",
        port: server.port,
        timeout: 2,
      });
      const result = await check.run(NO_ABORT);
      assert.match(result.warnings[0]!, /kiss-of-death RATE/);
      assert.equal(sender.serviceChecks[0]!.status, 3);
    } finally {
      server.socket.close();
    }
  });
});

describe("ntp check cancellation", () => {
  it("cancel() ends a run waiting on a silent host at once, submitting nothing", async () => {
    const server = await ntpServer(0, { silent: true });
    try {
      // A 60 s timeout: the run can only end this test in time through cancel().
      const { check, sender } = await load("ntp", {
        host: "127.0.0.1",
        port: server.port,
        timeout: 60,
      });
      const running = check.run(NO_ABORT);
      while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
      await check.cancel();
      assert.deepEqual(await running, { warnings: [] });
      assert.equal(sender.serviceChecks.length, 0);
      assert.equal(sender.samples.length, 0);
    } finally {
      server.socket.close();
    }
  });

  it("an aborted signal (run timeout) ends the run the same way", async () => {
    const server = await ntpServer(0, { silent: true });
    try {
      const { check, sender } = await load("ntp", {
        host: "127.0.0.1",
        port: server.port,
        timeout: 60,
      });
      const abort = new AbortController();
      const running = check.run(abort.signal);
      while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
      abort.abort();
      await running;
      assert.equal(sender.serviceChecks.length, 0);
    } finally {
      server.socket.close();
    }
  });
});
