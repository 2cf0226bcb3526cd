/**
 * `outpost dogstatsd-capture` and `dogstatsd-replay` as subprocesses between two real agents:
 * a hot-shots client sends to agent A while it captures; the capture replayed into agent B
 * gives B the same metric contexts with the same sample counts (compared through
 * `dogstatsd-stats` on both), at a given rate and at the recorded timing.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import StatsD from "hot-shots";
import { runtime } from "../../src/runtime/mod.ts";
import { loadConfig } from "../../src/config/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { type Agent, buildAgent } from "../../src/agent.ts";
import { readCapture } from "../../src/dogstatsd/mod.ts";
import { tempDir } from "../_temp.ts";
import { outpost } from "./_cli.ts";

const API_KEY = "0123456789abcdef0123456789abcdef";

async function freeUdpPort(): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", r));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface Side {
  agent: Agent;
  dir: string;
  file: string;
  udpPort: number;
}

async function startAgent(name: string, dir: string): Promise<Side> {
  const udpPort = await freeUdpPort();
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
      hostname: `edge-${name}`,
      api_key: API_KEY,
      apm_config: { enabled: false },
    },
  });
  const agent = await buildAgent({
    runtime,
    config,
    configFile: null,
    logger: createLogger({ console: false }),
    checks: { loaders: [], loadConfigs: () => ({ configs: [], errors: {} }) },
  });
  await agent.start();
  const file = join(dir, "datadog.yaml");
  writeFileSync(
    file,
    `api_key: ${API_KEY}\ncmd_port: ${agent.component<any>("api")!.port}\nrun_path: ${dir}\n` +
      `dogstatsd_port: ${udpPort}\n`,
  );
  return { agent, dir, file, udpPort };
}

/** `[name, tags, count]` of every context, as `dogstatsd-stats --json` prints them. */
async function contexts(side: Side): Promise<Array<[string, string, number]>> {
  const r = await outpost(["dogstatsd-stats", "-c", side.file, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).stats.map((s: any) => [s.Name, s.Tags, s.Count]);
}

const total = (cs: Array<[string, string, number]>) => cs.reduce((n, c) => n + c[2], 0);

async function until(side: Side, samples: number) {
  for (;;) {
    const cs = await contexts(side);
    if (total(cs) >= samples) return cs;
    await new Promise((r) => setTimeout(r, 50));
  }
}

let a: Side;
let b: Side;
const dirA = tempDir("outpost-capture-a-");
const dirB = tempDir("outpost-capture-b-");

before(async () => {
  a = await startAgent("a", dirA);
  b = await startAgent("b", dirB);
});

after(async () => {
  await a.agent.stop();
  await b.agent.stop();
});

describe("dogstatsd-capture and dogstatsd-replay", { timeout: 60_000 }, () => {
  let capturePath: string;
  let expected: Array<[string, string, number]>;

  it("captures a hot-shots run into a file of the raw datagrams", async () => {
    const captureDir = join(a.dir, "dsd_capture");
    const capture = outpost(["dogstatsd-capture", "-c", a.file, "-d", "3", "--json"]);
    // The capture starts when the agent takes the request: its file appears then.
    while (!existsSync(captureDir) || readdirSync(captureDir).length === 0) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const client = new StatsD({ host: "127.0.0.1", port: a.udpPort, globalTags: { env: "lab" } });
    const sent = new Promise<void>((resolve) => {
      let pending = 0;
      const done = () => --pending === 0 && resolve();
      for (let i = 0; i < 20; i++) {
        pending += 4;
        client.increment("shop.orders", 1, { route: i % 2 ? "/cart" : "/pay" }, done);
        client.gauge("shop.queue", i, done);
        client.histogram("shop.latency", i * 3, ["region:eu"], done);
        client.set("shop.users", `u${i % 5}`, done);
      }
    });
    await sent;
    client.close();
    expected = await until(a, 80);
    const r = await capture;
    assert.equal(r.code, 0, r.stderr);
    const done = JSON.parse(r.stdout);
    capturePath = done.path;
    assert.ok(capturePath.startsWith(captureDir), capturePath);
    const datagrams = readCapture(readFileSync(capturePath));
    assert.equal(datagrams.length, 80);
    assert.equal(done.datagrams, 80);
    assert.match(new TextDecoder().decode(datagrams[0].data), /^shop\.orders:1\|c\|#/);
    assert.ok(datagrams.every((d, i) => i === 0 || d.at >= datagrams[i - 1].at));
  });

  it("replayed at a given rate into a second agent, gives the same contexts and counts", async () => {
    const r = await outpost([
      "dogstatsd-replay",
      "-f",
      capturePath,
      "--port",
      String(b.udpPort),
      "--rate",
      "2000",
      "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).datagrams, 80);
    assert.deepEqual(await until(b, 80), expected);
  });

  it("replays at the recorded timing by default, taking at least the recorded span", async () => {
    const datagrams = readCapture(readFileSync(capturePath));
    const span = (datagrams.at(-1)!.at - datagrams[0].at) / 1000;
    const r = await outpost(["dogstatsd-replay", "-f", capturePath, "-c", b.file, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.target, `127.0.0.1:${b.udpPort}`);
    assert.ok(summary.seconds >= span - 0.01, `${summary.seconds} < ${span}`);
    const doubled = expected.map(([n, t, c]) => [n, t, c * 2]);
    assert.deepEqual(await until(b, 160), doubled);
  });

  it("refuses a file that is not a capture, and a second capture while one runs", async () => {
    const junk = join(b.dir, "junk.bin");
    writeFileSync(junk, "shop.orders:1|c\n");
    const r = await outpost(["dogstatsd-replay", "-f", junk, "--port", String(b.udpPort)]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Cannot read capture file ".*junk\.bin": Not a capture file: /);

    const first = outpost(["dogstatsd-capture", "-c", a.file, "-d", "1"]);
    const captureDir = join(a.dir, "dsd_capture");
    const before = readdirSync(captureDir).length;
    while (readdirSync(captureDir).length === before) await new Promise((r) => setTimeout(r, 20));
    const second = await outpost(["dogstatsd-capture", "-c", a.file, "-d", "1"]);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /answered 409: A capture is already being written to /);
    assert.equal((await first).code, 0);
  });
});
