/**
 * The agent's status over real sockets: DogStatsD traffic with malformed lines → `/agent/status`
 * (JSON and text) and `/debug/vars` show the same exact counts, and host metadata reaches the
 * local intake at start through the real serializer and forwarder.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runtime } from "../../src/runtime/mod.ts";
import { buildIntake, type IntakeComponent } from "../../src/intake/mod.ts";
import { loadConfig } from "../../src/config/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { type Agent, buildAgent } from "../../src/agent.ts";
import { readAuthToken } from "../../src/api/mod.ts";
import { Registry } from "../../src/telemetry/mod.ts";

let dir: string;
let agent: Agent;
let intake: IntakeComponent;
let api: string;
let expvar: string;
let auth: Record<string, string>;
let dsdPort: number;

async function freeUdpPort(): Promise<number> {
  const probe = await runtime.listenUdp("127.0.0.1", 0, { onBatch: () => {} });
  probe.close();
  return probe.port;
}
const registry = new Registry();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "outpost-status-int-"));
  dsdPort = await freeUdpPort();
  intake = buildIntake({ dataDir: join(dir, "intake") }, { runtime }).component;
  await intake.start();
  const { config } = await loadConfig(runtime, {
    searchPaths: [],
    env: {},
    defaults: {
      run_path: dir,
      dd_url: intake.url,
      cmd_port: 0,
      dogstatsd_port: dsdPort,
      expvar_port: 0,
      gui_port: -1,
      hostname: "edge-int",
      api_key: "0123456789abcdef0123456789abcdef",
      tags: ["site:lab"],
    },
  });
  agent = await buildAgent({
    runtime,
    config,
    configFile: null,
    logger: createLogger({ console: false }),
    registry,
  });
  await agent.start();
  api = `http://127.0.0.1:${agent.component<any>("api")!.port}`;
  expvar = `http://127.0.0.1:${agent.component<any>("expvar")!.port}`;
  auth = { Authorization: `Bearer ${readAuthToken(join(dir, "auth_token"))}` };
});

after(async () => {
  await agent.stop();
  await intake.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("status over HTTP", () => {
  it("JSON status, text status and /debug/vars show the same exact DogStatsD counts", async () => {
    // 5 real UDP packets: 2 carry a malformed metric line, 1 a malformed event.
    const packets = [
      "page.views:1|c|#env:lab",
      "page.views:2|c\nbad.metric:1|zz",
      "temperature:21.5|g\nno_value_at_all",
      "_e{5,4}:oops",
      "_sc|db.up|0|m:fine",
    ];
    const sender = await runtime.listenUdp("127.0.0.1", 0, { onBatch: () => {} });
    for (const p of packets) sender.send(new TextEncoder().encode(p), "127.0.0.1", dsdPort);
    sender.close();
    let status: any;
    for (let i = 0; i < 200; i++) {
      status = await (await fetch(`${api}/agent/status?format=json`, { headers: auth })).json();
      if (status.dogstatsdStats.packets.udp === packets.length) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.deepEqual(status.dogstatsdStats.packets, { udp: 5, uds: 0 });
    assert.equal(status.dogstatsdStats.parse_errors.metric, 2);
    assert.equal(status.dogstatsdStats.parse_errors.event, 1);
    assert.equal(status.dogstatsdStats.parse_errors.service_check, 0);
    const recent = status.dogstatsdStats.last_errors;
    assert.deepEqual(recent.map((e: any) => e.kind).sort(), ["event", "metric", "metric"]);
    assert.ok(recent.some((e: any) => String(e.message).startsWith("bad.metric:1|zz")));

    const text = await (await fetch(`${api}/agent/dogstatsd/status`, { headers: auth })).text();
    assert.match(text, /Packets: 5 \(udp=5/);
    assert.match(text, /bad\.metric:1\|zz/);

    const vars = await (await fetch(`${expvar}/debug/vars`)).json();
    assert.equal(vars["dogstatsd-udp"].Packets, 5);
    assert.equal(vars.dogstatsd.MetricPackets, 3, "the three good metric lines");
    assert.equal(vars.dogstatsd.MetricParseErrors, 2);
    assert.equal(vars.dogstatsd.EventParseErrors, 1);
    assert.equal(vars.dogstatsd.ServiceCheckPackets, 1);
    assert.deepEqual(vars.dogstatsd.RecentParseErrors, recent);
    assert.ok(Array.isArray(vars.cmdline));
    assert.ok(vars.memstats.Sys > 0);
  });

  it("/agent/status answers 401 over the wire without the token", async () => {
    const res = await fetch(`${api}/agent/status`);
    assert.equal(res.status, 401);
    await res.body?.cancel();
  });

  it("host metadata reaches the intake at start with the spec's top-level keys", async () => {
    let stored: any[] = [];
    for (let i = 0; i < 200 && stored.length === 0; i++) {
      const res = await fetch(
        `${intake.url}/outpost/intake/payloads?route=/intake/&kind=host_metadata`,
      );
      stored = (await res.json()).payloads;
      if (stored.length === 0) await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(stored.length, 1, "one host metadata payload at start");
    const { api_key_masked: apiKey, content: body } = stored[0];
    assert.equal(apiKey, "****************************cdef");
    for (
      const k of [
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
      ]
    ) assert.ok(k in body, `${k} in the payload`);
    assert.equal(body.internalHostname, "edge-int");
    assert.deepEqual(body["host-tags"], { system: ["site:lab"] });

    const md = await (await fetch(`${api}/agent/metadata/status?format=json`, { headers: auth }))
      .json();
    assert.equal(md.hostMetadataStats.payloads_sent, 1);
    assert.deepEqual(md.hostnameStats.provider, "configuration");
  });
});
