/**
 * The checks over real sockets and processes: an agent built with an in-test loader runs its
 * checks, `outpost configcheck` (a separate process) prints the configs with the IDs the agent
 * computed, the status and `/debug/vars` show the runs, and `POST /agent/checks/reload` picks up
 * a changed config.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runtime } from "../../src/runtime/mod.ts";
import { loadConfig } from "../../src/config/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { type Agent, buildAgent } from "../../src/agent.ts";
import { readAuthToken } from "../../src/api/mod.ts";
import type { CheckConfig, ConfdResult, Loader } from "../../src/checks/_types.ts";
import { tempDir } from "../_temp.ts";
import { outpost } from "./_cli.ts";

function cfg(name: string, digest = "00000000000000aa"): CheckConfig {
  return {
    name,
    source: `file:/etc/outpost/conf.d/${name}.d/conf.yaml`,
    provider: "file",
    initConfig: {},
    initConfigBytes: "shared: true\n",
    instances: [{
      index: 0,
      id: `${name}:5a1e0c0ffee0b0b0`,
      raw: { host: "db" },
      bytes: "host: db\n",
      tags: ["env:lab"],
      emptyDefaultHostname: false,
      minCollectionInterval: 1,
    }],
    logs: null,
    isDefault: false,
    digest,
  };
}

/** A loader that takes every check and gauges `<name>.up` 1 per run. */
const loader: Loader = {
  name: "Test Loader",
  key: "test",
  priority: 5,
  load(config, instance, host) {
    const sender = host.senderFor(instance.id);
    return Promise.resolve({
      name: config.name,
      id: instance.id,
      version: "0.1.0",
      source: config.source,
      intervalS: instance.minCollectionInterval ?? 15,
      loader: "Test Loader",
      run() {
        sender.metric("gauge", `${config.name}.up`, 1);
        return Promise.resolve({ warnings: [] });
      },
      cancel: () => Promise.resolve(),
    });
  },
};

const dir = tempDir("outpost-checks-int-");
let agent: Agent;
let api: string;
let expvar: string;
let auth: Record<string, string>;
let configFile: string;
let confd: ConfdResult = {
  configs: [cfg("hello")],
  errors: { broken: "yaml: line 1: did not find expected key" },
};

before(async () => {
  const { config } = await loadConfig(runtime, {
    searchPaths: [],
    env: {},
    defaults: {
      run_path: dir,
      dd_url: "http://127.0.0.1:9",
      cmd_port: 0,
      use_dogstatsd: false,
      expvar_port: 0,
      gui_port: -1,
      hostname: "edge-checks",
      api_key: "0123456789abcdef0123456789abcdef",
    },
  });
  agent = await buildAgent({
    runtime,
    config,
    configFile: null,
    logger: createLogger({ console: false }),
    checks: { loaders: [loader], loadConfigs: () => confd },
  });
  await agent.start();
  // The checks load in the background: wait until they all are (no time asserted).
  while (!agent.health().Healthy.includes("checks")) await new Promise((r) => setTimeout(r, 20));
  const port = agent.component<any>("api")!.port;
  api = `http://127.0.0.1:${port}`;
  expvar = `http://127.0.0.1:${agent.component<any>("expvar")!.port}`;
  auth = { Authorization: `Bearer ${readAuthToken(join(dir, "auth_token"))}` };
  configFile = join(dir, "datadog.yaml");
  writeFileSync(
    configFile,
    `api_key: 0123456789abcdef0123456789abcdef\ncmd_port: ${port}\nrun_path: ${dir}\nhostname: edge-checks\n`,
  );
});

after(async () => {
  await agent.stop();
});

/** Polls the JSON status until `ok` holds (each poll is a real request; no timing asserted). */
async function statusUntil(ok: (s: any) => boolean): Promise<any> {
  for (;;) {
    const s = await (await fetch(`${api}/agent/collector/status?format=json`, { headers: auth }))
      .json();
    if (ok(s)) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("checks in a running agent", () => {
  it("outpost configcheck prints the agent's configs, IDs and config errors", async () => {
    const { stdout, stderr, code } = await outpost(["configcheck", "-c", configFile]);
    assert.equal(code, 0, stderr);
    assert.equal(
      stdout,
      [
        "=== Configuration errors ===",
        "",
        "broken: yaml: line 1: did not find expected key",
        "",
        "=== hello check ===",
        "Configuration provider: file",
        "Configuration source: file:/etc/outpost/conf.d/hello.d/conf.yaml",
        "Config for instance ID: hello:5a1e0c0ffee0b0b0",
        "host: db",
        "~",
        "Init Config:",
        "shared: true",
        "===",
        "",
        "",
      ].join("\n"),
    );
    const json = await outpost(["configcheck", "-c", configFile, "--json"]);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(
      JSON.parse(json.stdout).configs[0].instances[0].check_id,
      "hello:5a1e0c0ffee0b0b0",
    );
  });

  it("the status Collector section and /debug/vars show the runs", async () => {
    const s = await statusUntil((s) =>
      (s.runnerStats?.Checks?.hello?.["hello:5a1e0c0ffee0b0b0"]?.TotalRuns ?? 0) >= 1
    );
    assert.deepEqual(s.autoConfigStats.ConfigErrors, {
      broken: "yaml: line 1: did not find expected key",
    });
    const text = await (await fetch(`${api}/agent/collector/status`, { headers: auth })).text();
    assert.match(text, /^=========\nCollector\n=========\n\n {2}Running Checks\n/);
    assert.ok(
      text.includes(
        "    hello (0.1.0)\n    -------------\n      Instance ID: hello:5a1e0c0ffee0b0b0 [OK]",
      ),
    );
    const vars = await (await fetch(`${expvar}/debug/vars`)).json();
    assert.ok(vars.runner.Runs >= 1);
    assert.deepEqual(vars.scheduler.Queues, [{ Interval: 1, Buckets: 1, Size: 1 }]);
  });

  it("POST /agent/checks/reload unschedules a changed config and schedules the new one", async () => {
    confd = { configs: [cfg("hello", "00000000000000bb"), cfg("second")], errors: {} };
    const res = await fetch(`${api}/agent/checks/reload`, { method: "POST", headers: auth });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      scheduled: ["hello:5a1e0c0ffee0b0b0", "second:5a1e0c0ffee0b0b0"],
      unscheduled: ["hello:5a1e0c0ffee0b0b0"],
    });
    const s = await statusUntil((s) =>
      (s.runnerStats?.Checks?.second?.["second:5a1e0c0ffee0b0b0"]?.TotalRuns ?? 0) >= 1
    );
    assert.deepEqual(s.autoConfigStats.ConfigErrors, {});
  });

  it("outpost check with the shipped wiring and no configs finds no check and exits 1", async () => {
    const { stderr, code } = await outpost(["check", "nothing_here", "-c", configFile]);
    assert.equal(code, 1);
    assert.ok(stderr.includes("no valid check found"), stderr);
  });
});
