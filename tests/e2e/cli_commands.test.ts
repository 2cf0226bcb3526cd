/**
 * The Datadog Agent's everyday commands on the compiled binary (env OUTPOST_BIN), against an
 * `outpost run` of the same binary on free ports: every one listed in `--help` with its own
 * usage, `health`, `hostname`, `dogstatsd-stats` over real UDP, and `stop` ending the agent.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { join } from "node:path";
import { freePort, outpost, type RunningAgent, startAgent } from "./_binary.ts";
import { freeUdpPort } from "../../scripts/bench/_agent.ts";

const COMMANDS = [
  "health",
  "hostname",
  "stop",
  "diagnose",
  "secret",
  "dogstatsd-stats",
  "dogstatsd-capture",
  "dogstatsd-replay",
];

let agent: RunningAgent;
let config: string;
let udpPort: number;

before(async () => {
  udpPort = await freeUdpPort();
  const extra = [
    "hostname: edge-e2e",
    `dogstatsd_port: ${udpPort}`,
    "dogstatsd_stats_enable: true",
    `expvar_port: ${await freePort()}`,
    "gui_port: -1",
    "dd_url: http://127.0.0.1:9",
    "apm_config:",
    "  enabled: false",
  ].join("\n") + "\n";
  agent = await startAgent(extra);
  // The CLI reads the file the agent runs with (and finds the token beside it).
  config = join(agent.dir, "datadog.yaml");
});

after(() => {
  if (agent.proc.exitCode === null) agent.proc.kill("SIGKILL");
});

describe("CLI commands (compiled binary)", { timeout: 60_000 }, () => {
  it("lists every command in --help, each with its own usage", async () => {
    const help = await outpost(["--help"]);
    assert.equal(help.code, 0);
    for (const c of COMMANDS) {
      assert.match(help.stdout, new RegExp(`^  ${c} +\\S`, "m"), c);
      const own = await outpost([c, "--help"]);
      assert.equal(own.code, 0, c);
      assert.match(own.stdout, new RegExp(`^outpost ${c} `), c);
    }
  });

  it("health PASS, hostname, and dogstatsd-stats of datagrams sent over UDP", async () => {
    let health;
    // The checks load in the background just after start: poll until every component is up.
    do health = await outpost(["health", "-c", config]); while (
      health.code !== 0 && /Agent health: FAIL/.test(health.stdout)
    );
    assert.equal(health.code, 0, health.stdout + health.stderr);
    assert.match(health.stdout, /^Agent health: PASS\n/);

    const host = await outpost(["hostname", "-c", config]);
    assert.deepEqual([host.code, host.stdout], [0, "edge-e2e\n"]);

    const s = createSocket("udp4");
    await new Promise<void>((r) =>
      s.send("e2e.hits:1|c|#k:v\ne2e.hits:1|c|#k:v", udpPort, "127.0.0.1", () => r())
    );
    s.close();
    let stats: any;
    do {
      const r = await outpost(["dogstatsd-stats", "-c", config, "--json"]);
      assert.equal(r.code, 0, r.stderr);
      stats = JSON.parse(r.stdout).stats;
    } while (stats.length === 0);
    assert.deepEqual(stats.map((x: any) => [x.Name, x.Tags, x.Count]), [["e2e.hits", "k:v", 2]]);
  });

  it("stop ends the agent with exit 0", async () => {
    const r = await outpost(["stop", "-c", config]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "Agent successfully stopped\n");
    assert.equal(await agent.proc.exited, 0);
  });
});
