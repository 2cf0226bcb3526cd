import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  aggregatorEvents,
  apmEvents,
  consoleEvents,
  dogstatsdParserEvents,
  dogstatsdServerEvents,
  expvarEvents,
  forwarderEvents,
  intakeEvents,
  metadataEvents,
  Registry,
  serializerEvents,
  type TelemetryName,
} from "../../../src/telemetry/mod.ts";
import { TELEMETRY } from "../../../src/telemetry/events/mod.ts";
import { lossesEvents } from "../../../src/telemetry/events/losses.ts";
import { traceProcessingEvents } from "../../../src/telemetry/events/trace.ts";
import { logsEvents } from "../../../src/telemetry/events/logs.ts";
import { logsSendEvents } from "../../../src/telemetry/events/logs_send.ts";
import {
  aggregatorStatusProvider,
  dogstatsdStatusProvider,
  forwarderStatusProvider,
  hostMetadataStatusProvider,
} from "../../../src/status/mod.ts";
import { HostMetadata } from "../../../src/metadata/mod.ts";
import { configDefaults } from "../../../src/config/mod.ts";

/** Every string in a (nested) names object. */
function leaves(o: object): string[] {
  return Object.values(o).flatMap((v) => typeof v === "string" ? [v] : leaves(v));
}

const ALL = leaves(TELEMETRY);

/** Runs every area's registration, as the agent's components do when built. */
function registerAll(registry: Registry): void {
  const none = () => undefined;
  dogstatsdParserEvents(registry, { recentParseErrors: () => [] });
  dogstatsdServerEvents(registry, () => ({
    queueBytes: () => 0,
    queueDroppedPackets: () => 0,
    queueDroppedBytes: () => 0,
    kernelDrops: none,
    receiveBufferBytes: () => 4096,
  }));
  aggregatorEvents(registry, {
    dogstatsdContexts: () => 1,
    dogstatsdContextsBytes: () => 100,
    dogstatsdContextsByMtype: () => ({ Gauge: 1 }),
    flush: () => ({}),
    flushCount: () => ({}),
  });
  serializerEvents(registry);
  forwarderEvents(registry, {
    apiKeyStatus: () => ({}),
    domains: () => ({}),
    endpoints: () => ({}),
    previousRun: () => null,
    endpointHealth: () => ({}),
  });
  intakeEvents(registry, { store: () => ({ files: 0 }) });
  metadataEvents(registry, { hostLastSent: () => 0 });
  expvarEvents(registry);
  consoleEvents(registry);
  lossesEvents(registry, { reasons: () => ({}) });
  apmEvents(registry, { receiver: () => ({}) });
  traceProcessingEvents(registry);
  logsSendEvents(registry, {
    isRunning: () => true,
    retryCount: () => 0,
    destinationErrors: () => 0,
  });
  logsEvents(registry);
}

/** The full names held by a registry, rebuilt from its grouped snapshot. */
function registered(registry: Registry): string[] {
  return Object.entries(registry.snapshot()).flatMap(([group, vars]) =>
    Object.keys(vars as object).map((k) => `${group}.${k}`)
  );
}

describe("TELEMETRY", () => {
  it("defines every name once", () => {
    const seen = new Set<string>();
    const twice = ALL.filter((n) => seen.size === seen.add(n).size);
    assert.deepEqual(twice, []);
    // Top-level and nested (per transport) names are both walked.
    assert.ok(ALL.includes("dogstatsd.MetricPackets") && ALL.includes("dogstatsd-uds.KernelDrops"));
  });

  it("gives each area's names its prefix (`<area>.` or `<area>-<transport>.`)", () => {
    for (const [area, names] of Object.entries(TELEMETRY)) {
      for (const name of leaves(names)) {
        assert.match(name, new RegExp(`^${area}(-[a-z]+)?\\.[A-Za-z_.]+$`), `${area}: ${name}`);
      }
    }
  });

  it("keeps the Datadog Agent's expvar names", () => {
    assert.equal(TELEMETRY.dogstatsd.metricPackets, "dogstatsd.MetricPackets");
    assert.equal(TELEMETRY.dogstatsd.udp.packetReadingErrors, "dogstatsd-udp.PacketReadingErrors");
    assert.equal(TELEMETRY.dogstatsd.uds.packets, "dogstatsd-uds.Packets");
    assert.equal(
      TELEMETRY.aggregator.dogstatsdContextsByMtype,
      "aggregator.DogstatsdContextsByMtype",
    );
    assert.equal(TELEMETRY.forwarder.transactionsSuccess, "forwarder.Transactions.Success");
  });

  it("is frozen, so no name can be changed at run time", () => {
    assert.ok(Object.isFrozen(TELEMETRY));
    for (const names of Object.values(TELEMETRY)) assert.ok(Object.isFrozen(names));
    assert.ok(Object.isFrozen(TELEMETRY.dogstatsd.udp));
  });
});

describe("<area>Events()", () => {
  it("register exactly the defined names, each of them", () => {
    const registry = new Registry();
    registerAll(registry);
    assert.deepEqual(registered(registry).sort(), [...ALL].sort());
  });
});

describe("status providers", () => {
  it("read only defined names", async () => {
    const reads: string[] = [];
    class Recording extends Registry {
      override read(name: string): unknown {
        reads.push(name);
        return super.read(name);
      }
    }
    const registry = new Recording();
    registerAll(registry);
    const metadata = new HostMetadata({
      config: configDefaults(),
      configFile: null,
      hostname: {
        hostname: "edge-1",
        provider: "os",
        osHostname: "edge-1",
        fqdn: "edge-1",
        errors: {},
      },
    });
    const providers = [
      dogstatsdStatusProvider(registry),
      aggregatorStatusProvider(registry),
      forwarderStatusProvider(registry),
      hostMetadataStatusProvider(registry, metadata),
    ];
    for (const p of providers) await p.data();
    assert.ok(reads.length > 40, `only ${reads.length} reads`);
    const defined = new Set(ALL);
    assert.deepEqual(reads.filter((n) => !defined.has(n)), []);
  });

  it("TelemetryName refuses a misspelt name at type-check time", () => {
    const right: TelemetryName = "dogstatsd.MetricPackets";
    // @ts-expect-error one letter off: not a defined name
    const wrong: TelemetryName = "dogstatsd.MetricPacket";
    assert.notEqual(right, wrong);
  });
});
