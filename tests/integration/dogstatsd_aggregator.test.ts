import { test } from "node:test";
import assert from "node:assert/strict";
import StatsD from "hot-shots";
import { runtime } from "../../src/runtime/mod.ts";
import { Registry } from "../../src/telemetry/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { DogStatsDServer } from "../../src/dogstatsd/mod.ts";
import { Aggregator, memorySink } from "../../src/aggregator/mod.ts";
import { sketchKey } from "../../src/aggregator/sketch.ts";
import { BUILD } from "../../src/version.ts";
import { EXPECTED_CHECK, EXPECTED_EVENT, sendMix } from "./_dogstatsd_mix.ts";

// Drops undefined fields so that optional fields compare by presence of a value. The `unit`
// of series is left out of the comparison: carrying `ms`'s millisecond unit into series is
// the aggregator's decision (the parser sets it on the samples).
const plain = <T>(x: T): T => JSON.parse(JSON.stringify(x));

test("hot-shots → DogStatsD server → aggregator: the flushed series equal the spec's arithmetic", async () => {
  let now = 1_700_000_003; // arrivals land in the bucket starting at 1700000000
  const registry = new Registry();
  const logger = createLogger({ level: "off" });
  const sink = memorySink();
  const aggregator = new Aggregator({
    sink,
    hostname: "agent-host",
    registry,
    log: logger.for("aggregator"),
    now: () => now,
  });
  const server = new DogStatsDServer({
    udpHost: "127.0.0.1",
    udpPort: 0,
    socketPath: "",
    bufferSize: 8192,
    receiveBufferSize: 0,
    eolRequired: { udp: false, uds: false },
    forward: { host: "", port: 0 },
    parser: {},
  }, { runtime, sink: aggregator, registry, logger });
  await server.start();
  try {
    const client = new StatsD({ host: "127.0.0.1", port: server.udpPort, maxBufferSize: 0 });
    sendMix(client);
    const read = (n: string) => (registry.read(n) as number | undefined) ?? 0;
    for (let i = 0; i < 500; i++) {
      if (
        read("dogstatsd.MetricPackets") + read("dogstatsd.EventPackets") +
            read("dogstatsd.ServiceCheckPackets") === 9
      ) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    client.close();
    now = 1_700_000_020; // cutoff 1700000020: the bucket [1700000000, 1700000010) is closed
    await aggregator.flush();
  } finally {
    await server.stop();
  }

  const B = 1_700_000_000;
  const dsd = { interval: 10, sourceTypeName: "" };
  const expectedSeries = [
    // gauge: last value; the host: tag became the host
    { name: "mix.gauge", points: [[B, 1.5]], tags: ["env:test"], host: "edge-1", type: "gauge" },
    // counter 3 @0.5: sum 3 / 0.5 = 6 over 10 s → rate 0.6
    { name: "mix.count", points: [[B, 0.6]], tags: ["a:b"], host: "agent-host", type: "rate" },
    // histogram of one value 42, weight 1: max = median = avg = p95 = 42; count 1 / 10 s = 0.1
    ...["max", "median", "avg", "95percentile"].map((agg) => ({
      name: `mix.hist.${agg}`,
      points: [[B, 42]],
      tags: ["h"],
      host: "agent-host",
      type: "gauge",
    })),
    { name: "mix.hist.count", points: [[B, 0.1]], tags: ["h"], host: "agent-host", type: "rate" },
    // timer 12.25 @0.25: weight int(1 / 0.25) = 4, sum 12.25 / 0.25 = 49, avg 49 / 4 = 12.25;
    // count 4 / 10 s = 0.4
    ...["max", "median", "avg", "95percentile"].map((agg) => ({
      name: `mix.timer.${agg}`,
      points: [[B, 12.25]],
      tags: [],
      host: "agent-host",
      type: "gauge",
    })),
    { name: "mix.timer.count", points: [[B, 0.4]], tags: [], host: "agent-host", type: "rate" },
    // set: one distinct member
    { name: "mix.set", points: [[B, 1]], tags: ["s"], host: "agent-host", type: "gauge" },
    // |T1700000000 gauge: the no-aggregation path keeps its own timestamp
    { name: "mix.ts", points: [[B, 5]], tags: ["t"], host: "agent-host", type: "gauge" },
  ].map((s) => ({ ...dsd, ...s }));
  const running = {
    name: "datadog.agent.running",
    points: [[1_700_000_020, 1]],
    tags: [`version:${BUILD.agentVersion}`],
    host: "agent-host",
    type: "gauge",
    interval: 0,
    sourceTypeName: "System",
  };
  const dropped = {
    ...running,
    name: "n_o_i_n_d_e_x.datadog.agent.payload.dropped",
    points: [[1_700_000_020, 0]],
    tags: [],
    noIndex: true,
  };
  const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
  const got = plain(sink.received.series).map(({ unit: _unit, ...s }) => s).sort(byName);
  assert.deepEqual(got, [...expectedSeries, running, dropped].sort(byName));

  // distribution 7, weight 1: one sketch point of one value
  assert.deepEqual(plain(sink.received.sketches), [{
    name: "mix.dist",
    tags: ["d:1", "d:2"],
    host: "agent-host",
    interval: 10,
    points: [{ ts: B, cnt: 1, min: 7, max: 7, avg: 7, sum: 7, k: [sketchKey(7)], n: [1] }],
  }]);
  assert.deepEqual(sink.received.events, [EXPECTED_EVENT]);
  assert.deepEqual(sink.received.serviceChecks, [EXPECTED_CHECK, {
    name: "datadog.agent.up",
    status: 0,
    timestamp: 1_700_000_020,
    host: "agent-host",
    message: "",
    tags: [],
  }]);
});
