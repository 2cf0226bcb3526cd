import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSystemLoader } from "../../../../src/checks/system/mod.ts";
import { CheckSampler } from "../../../../src/aggregator/_check_sampler.ts";
import type { CheckMetricType, Sender } from "../../../../src/checks/_types.ts";
import { tempDir } from "../../../_temp.ts";
import { configFor, fakeHost, NO_ABORT, RecordingSender, useMoment } from "./_helpers.ts";

async function loadNetwork(instance: Record<string, unknown> = {}) {
  const proc = tempDir("outpost-net-");
  useMoment(proc, "t0");
  const host = fakeHost(proc);
  const config = configFor("network", [instance]);
  const check = (await createSystemLoader().load(config, config.instances[0]!, host))!;
  return { proc, check, sender: host.senders.get("network")! };
}

const IF_METRICS = [
  "system.net.bytes_rcvd",
  "system.net.bytes_sent",
  "system.net.packets_in.count",
  "system.net.packets_in.drop",
  "system.net.packets_in.error",
  "system.net.packets_out.count",
  "system.net.packets_out.drop",
  "system.net.packets_out.error",
];

describe("network check", () => {
  it("run() submits each interface's counters as rates tagged device and device_name", async () => {
    const { check, sender } = await loadNetwork();
    assert.deepEqual(await check.run(NO_ABORT), { warnings: [] });
    const eth0 = sender.samples.filter((s) => s.tags.includes("device:eth0"));
    assert.deepEqual(eth0.map((s) => s.name), IF_METRICS);
    assert.ok(
      eth0.every((s) => s.type === "rate" && s.tags.join() === "device:eth0,device_name:eth0"),
    );
    assert.deepEqual(eth0.map((s) => s.value), [5000000, 3000000, 4000, 2, 1, 3000, 4, 3]);
    assert.equal(sender.find("system.net.bytes_rcvd").length, 3); // lo, eth0, docker0
  });

  it("run() submits TCP and UDP counters twice: a rate and a .count monotonic_count", async () => {
    const { check, sender } = await loadNetwork();
    await check.run(NO_ABORT);
    const expected: Record<string, number> = {
      "tcp.retrans_segs": 70,
      "tcp.in_segs": 10000,
      "tcp.out_segs": 9000,
      "tcp.listen_overflows": 11,
      "tcp.listen_drops": 12,
      "tcp.backlog_drops": 13,
      "tcp.failed_retransmits": 14,
      "udp.in_datagrams": 500,
      "udp.no_ports": 6,
      "udp.in_errors": 7,
      "udp.out_datagrams": 400,
      "udp.rcv_buf_errors": 8,
      "udp.snd_buf_errors": 9,
      "udp.in_csum_errors": 10,
    };
    for (const [suffix, value] of Object.entries(expected)) {
      const name = `system.net.${suffix}`;
      assert.deepEqual(sender.one(name), { type: "rate", name, value, tags: [] });
      assert.deepEqual(sender.one(`${name}.count`), {
        type: "monotonic_count",
        name: `${name}.count`,
        value,
        tags: [],
      });
    }
    assert.equal(sender.find("system.net.tcp4.established").length, 0);
  });

  it("excluded_interfaces and excluded_interface_re drop interfaces", async () => {
    const { check, sender } = await loadNetwork({
      excluded_interfaces: ["lo"],
      excluded_interface_re: "docker.*",
    });
    await check.run(NO_ABORT);
    const devices = new Set(
      sender.samples.flatMap((s) => s.tags).filter((t) => t.startsWith("device:")),
    );
    assert.deepEqual([...devices], ["device:eth0"]);
  });

  it("collect_connection_state counts sockets by state for v4 and v6", async () => {
    const { check, sender } = await loadNetwork({ collect_connection_state: true });
    await check.run(NO_ABORT);
    const states = Object.fromEntries(
      sender.samples.filter((s) => /^system\.net\.(tcp|udp)[46]\./.test(s.name))
        .map((s) => [s.name, s.value]),
    );
    assert.deepEqual(states, {
      "system.net.udp4.connections": 2,
      "system.net.tcp4.established": 2,
      "system.net.tcp4.opening": 1, // SYN_SENT
      "system.net.tcp4.closing": 1, // CLOSE_WAIT
      "system.net.tcp4.time_wait": 1,
      "system.net.tcp4.listening": 1,
      "system.net.udp6.connections": 0,
      "system.net.tcp6.established": 0,
      "system.net.tcp6.opening": 0,
      "system.net.tcp6.closing": 0,
      "system.net.tcp6.time_wait": 0,
      "system.net.tcp6.listening": 1,
    });
    assert.ok(sender.find("system.net.tcp4.listening").every((s) => s.type === "gauge"));
  });

  it("rates through the check sampler: bytes per second between two runs 10 s apart", async () => {
    const proc = tempDir("outpost-net-rate-");
    useMoment(proc, "t0");
    const sampler = new CheckSampler({
      histogram: { aggregates: ["max"], percentiles: [] },
      expiryCommits: 2,
      statefulExpirySeconds: 90000,
      hostname: "h",
    });
    const clock = { s: 1_700_000_000 };
    const recorder = new RecordingSender();
    const sender: Sender = Object.assign(Object.create(recorder), {
      metric(type: CheckMetricType, name: string, value: number, tags: readonly string[] = []) {
        sampler.addSample(
          { name, value, type, tags: [...tags], host: "", sampleRate: 1, timestamp: 0 },
          clock.s,
        );
      },
    });
    const host = { ...fakeHost(proc), senderFor: () => sender };
    const config = configFor("network");
    const check = (await createSystemLoader().load(config, config.instances[0]!, host))!;
    await check.run(NO_ABORT);
    const first = sampler.commit(clock.s);
    assert.equal(first.series.filter((s) => s.name === "system.net.bytes_rcvd").length, 0);
    useMoment(proc, "t1");
    clock.s += 10;
    await check.run(NO_ABORT);
    const second = sampler.commit(clock.s).series;
    const point = (name: string, tag: string) =>
      second.find((s) => s.name === name && s.tags.includes(tag))?.points[0]?.[1];
    assert.equal(point("system.net.bytes_rcvd", "device:eth0"), 15000); // 150000 B / 10 s
    assert.equal(point("system.net.bytes_sent", "device:eth0"), 3000);
    assert.equal(point("system.net.packets_out.count", "device:eth0"), 5);
    const inSegs = second.find((s) => s.name === "system.net.tcp.in_segs");
    assert.equal(inSegs?.points[0]?.[1], 30); // 300 segments / 10 s
    const inSegsCount = second.find((s) => s.name === "system.net.tcp.in_segs.count");
    assert.equal(inSegsCount?.points[0]?.[1], 300);
  });
});
