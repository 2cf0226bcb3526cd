/**
 * `outpost health`, `hostname`, `stop` and `secret` as separate processes against a real agent
 * built in this test (free ports, its own run_path): the Datadog Agent's output layouts, `--json`,
 * and exit 1 on FAIL or when the agent cannot be asked.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runtime } from "../../src/runtime/mod.ts";
import { loadConfig } from "../../src/config/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { type Agent, buildAgent } from "../../src/agent.ts";
import type { Loader } from "../../src/checks/_types.ts";
import { tempDir } from "../_temp.ts";
import { outpost } from "./_cli.ts";

const API_KEY = "0123456789abcdef0123456789abcdef";

/** A loader whose checks finish loading only when `release` is called: "checks" is unhealthy until then. */
let release!: () => void;
const loaded = new Promise<void>((r) => (release = r));
const loader: Loader = {
  name: "Held Loader",
  key: "held",
  priority: 5,
  async load(config, instance) {
    await loaded;
    return {
      name: config.name,
      id: instance.id,
      version: "0.1.0",
      source: config.source,
      intervalS: 60,
      loader: "Held Loader",
      run: () => Promise.resolve({ warnings: [] }),
      cancel: () => Promise.resolve(),
    };
  },
};

const dir = tempDir("outpost-cli-agent-");
let agent: Agent;
let configFile: string;

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
      hostname: "edge-cli",
      api_key: API_KEY,
      apm_config: { enabled: false },
    },
  });
  agent = await buildAgent({
    runtime,
    config,
    configFile: null,
    logger: createLogger({ console: false }),
    checks: {
      loaders: [loader],
      loadConfigs: () => ({
        configs: [{
          name: "held",
          source: "file:/etc/outpost/conf.d/held.d/conf.yaml",
          provider: "file",
          initConfig: {},
          initConfigBytes: "",
          instances: [{
            index: 0,
            id: "held:0000000000000001",
            raw: {},
            bytes: "{}\n",
            tags: [],
            emptyDefaultHostname: false,
            minCollectionInterval: 60,
          }],
          logs: null,
          isDefault: false,
          digest: "0000000000000001",
        }],
        errors: {},
      }),
    },
  });
  await agent.start();
  const port = agent.component<any>("api")!.port;
  configFile = join(dir, "datadog.yaml");
  writeFileSync(
    configFile,
    `api_key: ${API_KEY}\ncmd_port: ${port}\nrun_path: ${dir}\nhostname: edge-cli\n` +
      "use_dogstatsd: false\n",
  );
});

after(async () => {
  await agent.stop();
});

describe("outpost health", () => {
  it("prints FAIL with the unhealthy component and exits 1 while checks are loading", async () => {
    const r = await outpost(["health", "-c", configFile]);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.equal(lines[0], "Agent health: FAIL");
    const at = lines.indexOf("=== 1 unhealthy components ===");
    assert.ok(at > 0, r.stdout);
    assert.equal(lines[at + 1], "checks");
    assert.match(r.stdout, /=== \d+ healthy components ===\n.*\bapi\b/);
    assert.match(r.stderr, /Found 1 unhealthy components/);
  });

  it("prints PASS and exits 0 once every component is healthy; --json is the agent's answer", async () => {
    release();
    while (!agent.health().Healthy.includes("checks")) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const r = await outpost(["health", "-c", configFile]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Agent health: PASS\n=== \d+ healthy components ===\n/);
    assert.doesNotMatch(r.stdout, /unhealthy/);
    const j = await outpost(["health", "-c", configFile, "--json"]);
    assert.equal(j.code, 0);
    const report = JSON.parse(j.stdout);
    assert.deepEqual(report.Unhealthy, []);
    assert.deepEqual(report.Healthy, [...agent.health().Healthy].sort());
  });

  it("exits 1 with one line when no agent answers", async () => {
    const closed = join(dir, "closed.yaml");
    writeFileSync(closed, `api_key: ${API_KEY}\ncmd_port: 9\nrun_path: ${dir}\n`);
    const r = await outpost(["health", "-c", closed]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^Cannot reach the agent at 127\.0\.0\.1:9: connection refused\n$/);
  });
});

describe("outpost hostname", () => {
  it("prints the configured name; --json tells where it came from", async () => {
    const r = await outpost(["hostname", "-c", configFile]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "edge-cli\n");
    const j = JSON.parse((await outpost(["hostname", "-c", configFile, "--json"])).stdout);
    assert.equal(j.hostname, "edge-cli");
    assert.equal(j.provider, "configuration");
  });
});

describe("outpost secret", () => {
  it("lists the resolved handles and where they are used, never the values", async () => {
    const backend = join(dir, "backend.sh");
    writeFileSync(
      backend,
      "#!/bin/sh\ncat >/dev/null\n" +
        `printf '{"k1":{"value":"${API_KEY}"},"t2":{"value":"s3cr3t-tag"}}'\n`,
    );
    chmodSync(backend, 0o700);
    const file = join(dir, "secret.yaml");
    writeFileSync(
      file,
      `api_key: ENC[k1]\nsecret_backend_command: ${backend}\nrun_path: ${dir}\n` +
        "tags:\n  - ENC[t2]\n",
    );
    const r = await outpost(["secret", "-c", file], { DD_HOSTNAME_FILE: "ENC[t2]" });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Number of secrets resolved: 2\n/);
    assert.match(r.stdout, /- 'k1': used in 'api_key'\n/);
    assert.match(r.stdout, /- 't2': used in 'tags\[0\]', '\$DD_HOSTNAME_FILE'/);
    assert.doesNotMatch(r.stdout, new RegExp(`${API_KEY}|s3cr3t`));
    const j = JSON.parse((await outpost(["secret", "-c", file, "--json"])).stdout);
    assert.equal(j.command, backend);
    assert.deepEqual(j.handles, [
      { handle: "k1", usedIn: ["api_key"] },
      { handle: "t2", usedIn: ["tags[0]"] },
    ]);
  });

  it("exits 1 naming the handle the backend could not resolve", async () => {
    const backend = join(dir, "failing.sh");
    writeFileSync(backend, `#!/bin/sh\ncat >/dev/null\nprintf '{"k1":{"error":"no such key"}}'\n`);
    chmodSync(backend, 0o700);
    const file = join(dir, "failing.yaml");
    writeFileSync(file, `api_key: ENC[k1]\nsecret_backend_command: ${backend}\n`);
    const r = await outpost(["secret", "-c", file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Cannot resolve secret "k1": no such key/);
  });
});

describe("outpost dogstatsd-stats", () => {
  it("exits 1 naming the key when dogstatsd_stats_enable is off", async () => {
    const r = await outpost(["dogstatsd-stats", "-c", configFile]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /answered 400: DogStatsD metric stats are not enabled: set dogstatsd_stats_enable: true/,
    );
  });
});

describe("outpost stop", () => {
  it("asks the running agent to stop", async () => {
    const r = await outpost(["stop", "-c", configFile]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "Agent successfully stopped\n");
    await agent.stopRequested;
  });
});
