import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { runtime } from "../../../src/runtime/mod.ts";
import { loadConfig } from "../../../src/config/mod.ts";
import { createLogger } from "../../../src/log/mod.ts";
import { Registry } from "../../../src/telemetry/mod.ts";
import {
  buildHostMetadata,
  HostMetadata,
  hostMetadataSettings,
} from "../../../src/metadata/mod.ts";
import { type MetadataSubmission, type Timers } from "../../../src/metadata/_sender.ts";

/** Timers that record the interval and fire only when the test says so. */
function manualTimers() {
  const t = {
    ms: 0,
    fire: () => {},
    cleared: false,
    setInterval(fn: () => void, ms: number) {
      t.fire = fn;
      t.ms = ms;
      return 1;
    },
    clearInterval() {
      t.cleared = true;
    },
  };
  return t satisfies Timers;
}

async function setup(metadata_providers: unknown[] = [], fail = false) {
  const { config } = await loadConfig(runtime, {
    searchPaths: [],
    env: {},
    defaults: { metadata_providers, api_key: "x".repeat(32) },
  });
  const hostname = {
    hostname: "h",
    provider: "os",
    osHostname: "h",
    fqdn: "h",
    errors: {},
  } as const;
  const sent: MetadataSubmission[] = [];
  const warnings: string[] = [];
  const timers = manualTimers();
  const registry = new Registry();
  const log = createLogger({ level: "warn", write: (l) => warnings.push(l) }).for("metadata");
  const { component } = buildHostMetadata(hostMetadataSettings(config, log), {
    metadata: new HostMetadata({ config, configFile: null, hostname }),
    send: async (s) => {
      if (fail) throw new Error("intake said 503");
      sent.push(s);
    },
    log,
    registry,
    timers,
  });
  return { component, sent, warnings, timers, registry };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("buildHostMetadata()", () => {
  it("sends a fresh, non-storable payload to /intake/ at start and every 1800 s", async () => {
    const { component, sent, timers, registry } = await setup();
    await component.start();
    await tick();
    assert.equal(sent.length, 1);
    assert.equal(sent[0].route, "/intake/");
    assert.equal(sent[0].storable, false);
    assert.equal(sent[0].payload.apiKey, "x".repeat(32));
    assert.equal(timers.ms, 1_800_000);
    timers.fire();
    await tick();
    assert.equal(sent.length, 2);
    assert.notEqual(sent[1].payload, sent[0].payload);
    assert.equal(registry.read("metadata.host_payloads_sent"), 2);
    await component.stop();
    assert.ok(timers.cleared);
  });

  it("takes the host interval from metadata_providers within 300-14400 s", async () => {
    const { component, timers } = await setup([{ name: "host", interval: 600 }]);
    await component.start();
    assert.equal(timers.ms, 600_000);
    await component.stop();
  });

  it("warns and keeps 1800 s for an interval out of range", async () => {
    const { component, warnings } = await setup([{ name: "host", interval: 60 }]);
    assert.equal(component.intervalS, 1800);
    assert.match(warnings.join(""), /host interval 60 is outside 300-14400 s: using 1800/);
  });

  it("counts a failed send and keeps going", async () => {
    const { component, registry, warnings } = await setup([], true);
    await component.start();
    await tick();
    assert.equal(registry.read("metadata.host_payload_errors"), 1);
    assert.match(warnings.join(""), /Cannot send host metadata: intake said 503/);
    await component.stop();
  });
});
