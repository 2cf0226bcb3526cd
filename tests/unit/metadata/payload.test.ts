import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runtime } from "../../../src/runtime/mod.ts";
import { loadConfig } from "../../../src/config/mod.ts";
import { HostMetadata } from "../../../src/metadata/mod.ts";
import { type HostFacts } from "../../../src/metadata/_payload.ts";
import { type HostnameInfo } from "../../../src/metadata/_hostname.ts";

const dir = mkdtempSync(join(tmpdir(), "outpost-metadata-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const hostname: HostnameInfo = {
  hostname: "edge-9",
  provider: "configuration",
  osHostname: "raspberrypi",
  fqdn: "raspberrypi.lan",
  errors: {},
};
let builds = 0;
const facts: HostFacts = {
  uuid: () => `00000000-0000-0000-0000-${String(++builds).padStart(12, "0")}`,
  nixV: () => ["debian", "12", ""],
  timezone: () => "CET",
};

async function metadata(defaults: Record<string, unknown> = {}, configFile: string | null = null) {
  const { config } = await loadConfig(runtime, { searchPaths: [], env: {}, defaults });
  return new HostMetadata({ config, configFile, hostname, facts });
}

/** The spec's top-level keys (metrics-pipeline §3.7, subsystems §1.3). */
const TOP_LEVEL = [
  "apiKey",
  "agentVersion",
  "uuid",
  "internalHostname",
  "os",
  "agent-flavor",
  "python",
  "systemStats",
  "meta",
  "host-tags",
  "network",
  "logs",
  "install-method",
  "proxy-info",
  "otlp",
];

describe("HostMetadata", () => {
  it("getPayload() has the spec's top-level keys and fields", async () => {
    const p = (await metadata({
      api_key: "k".repeat(32),
      tags: ["zone:b", "role:gw", "zone:b"],
      env: "prod",
    }))
      .getPayload();
    assert.deepEqual(Object.keys(p).sort(), [...TOP_LEVEL].sort());
    assert.equal(p.apiKey, "k".repeat(32));
    assert.equal(p.internalHostname, "edge-9");
    assert.equal(p["agent-flavor"], "agent");
    assert.deepEqual(Object.keys(p.systemStats).sort(), [
      "cpuCores",
      "fbsdV",
      "macV",
      "machine",
      "nixV",
      "platform",
      "processor",
      "pythonV",
      "winV",
    ]);
    assert.ok(p.systemStats.cpuCores >= 1);
    assert.deepEqual(p.meta, {
      "socket-hostname": "raspberrypi",
      timezones: ["CET"],
      "socket-fqdn": "raspberrypi.lan",
      "ec2-hostname": "",
      hostname: "edge-9",
      host_aliases: [],
      "instance-id": "",
      "hostname-resolution-version": "1.0",
    });
    assert.deepEqual(p["host-tags"], { system: ["env:prod", "role:gw", "zone:b"] });
    assert.equal(p.network, null);
    assert.deepEqual(p["install-method"], {
      tool: null,
      tool_version: "undefined",
      installer_version: null,
    });
    assert.deepEqual(p.otlp, { enabled: false });
  });

  it("getFromCache() builds once when empty and then returns the cached payload", async () => {
    const md = await metadata();
    builds = 0;
    const first = md.getFromCache();
    const second = md.getFromCache();
    assert.equal(second, first);
    assert.equal(builds, 1);
  });

  it("getPayload() always rebuilds and stores what it built", async () => {
    const md = await metadata();
    const cached = md.getFromCache();
    builds = 0;
    const fresh = md.getPayload();
    assert.notEqual(fresh, cached);
    assert.equal(builds, 1);
    assert.equal(md.getFromCache(), fresh);
    assert.equal(builds, 1);
  });

  it("reads install-method from install_info beside the config file", async () => {
    writeFileSync(
      join(dir, "install_info"),
      "install_method:\n  tool: ansible\n  tool_version: ansible-2.16\n  installer_version: outpost-role-1\n",
    );
    const p = (await metadata({}, join(dir, "datadog.yaml"))).getPayload();
    assert.deepEqual(p["install-method"], {
      tool: "ansible",
      tool_version: "ansible-2.16",
      installer_version: "outpost-role-1",
    });
  });
});
