/**
 * `outpost dogstatsd-stats` as a subprocess against a real agent with
 * `dogstatsd_stats_enable: true` and DogStatsD on a free UDP port: datagrams sent over UDP
 * are counted per metric and tag set, most first.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runtime } from "../../src/runtime/mod.ts";
import { loadConfig } from "../../src/config/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { type Agent, buildAgent } from "../../src/agent.ts";
import { tempDir } from "../_temp.ts";
import { outpost } from "./_cli.ts";

const API_KEY = "0123456789abcdef0123456789abcdef";
const dir = tempDir("outpost-cli-dsd-");
let agent: Agent;
let configFile: string;
let udpPort: number;

/** A UDP port free right now: bound by the OS, then released for the agent. */
async function freeUdpPort(): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", r));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

before(async () => {
  udpPort = await freeUdpPort();
  const { config } = await loadConfig(runtime, {
    searchPaths: [],
    env: {},
    defaults: {
      run_path: dir,
      dd_url: "http://127.0.0.1:9",
      cmd_port: 0,
      dogstatsd_port: udpPort,
      dogstatsd_stats_enable: true,
      expvar_port: 0,
      gui_port: -1,
      hostname: "edge-dsd",
      api_key: API_KEY,
      apm_config: { enabled: false },
    },
  });
  agent = await buildAgent({
    runtime,
    config,
    configFile: null,
    logger: createLogger({ console: false }),
    checks: { loaders: [], loadConfigs: () => ({ configs: [], errors: {} }) },
  });
  await agent.start();
  configFile = join(dir, "datadog.yaml");
  writeFileSync(
    configFile,
    `api_key: ${API_KEY}\ncmd_port: ${agent.component<any>("api")!.port}\nrun_path: ${dir}\n`,
  );
});

after(async () => {
  await agent.stop();
});

describe("outpost dogstatsd-stats", { timeout: 30_000 }, () => {
  it("counts the samples received per metric and tag set", async () => {
    const client = createSocket("udp4");
    const send = (line: string) =>
      new Promise<void>((r, j) => client.send(line, udpPort, "127.0.0.1", (e) => (e ? j(e) : r())));
    for (let i = 0; i < 3; i++) await send("web.hits:1|c|#env:prod,route:/a");
    // Same tags in another order and repeated: the same context.
    await send("web.hits:1|c|#route:/a,env:prod,env:prod");
    await send("web.hits:1|c|#env:dev");
    await send("queue.depth:7|g");
    client.close();
    // UDP delivery is asynchronous: poll until all six samples are counted.
    let d: any;
    for (;;) {
      const j = await outpost(["dogstatsd-stats", "-c", configFile, "--json"]);
      assert.equal(j.code, 0, j.stderr);
      d = JSON.parse(j.stdout);
      if (d.stats.reduce((n: number, s: any) => n + s.Count, 0) >= 6) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(d.stats.map((s: any) => [s.Name, s.Tags, s.Count]), [
      ["web.hits", "env:prod,route:/a", 4],
      ["queue.depth", "", 1],
      ["web.hits", "env:dev", 1],
    ]);
    assert.equal(d.untrackedSamples, 0);
    assert.ok(!Number.isNaN(Date.parse(d.stats[0].LastSeen)));

    const r = await outpost(["dogstatsd-stats", "-c", configFile]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.match(lines[0], /^Metric +\| Tags +\| Count \| Last Seen$/);
    assert.match(lines[2], /^web\.hits +\| env:prod,route:\/a \| 4 +\| \d{4}-/);
    assert.equal(lines.length, 5);
  });
});
