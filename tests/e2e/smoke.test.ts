// The foundation's smoke test on the compiled binary.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { configDir, outpost, startAgent } from "./_binary.ts";

describe("outpost binary", () => {
  it("version prints version, commit, runtime and target", async () => {
    const { stdout, code } = await outpost(["version"]);
    assert.equal(code, 0);
    assert.match(
      stdout,
      /^Outpost \d+\.\d+\.\d+\S* - Commit: [0-9a-f]+ - Build date: \d{4}-\d\d-\d\dT\S+Z - Datadog Agent version sent: 7\.\d+\.\d+ - Runtime: bun \d+\.\d+\.\d+ - Target: linux-x64\n$/,
    );
  });

  it("run serves the API with the token, refuses without it, and exits 0 on SIGTERM", async () => {
    const agent = await startAgent();
    const version = await agent.api("/agent/version");
    assert.equal(version.status, 200);
    assert.equal(typeof (await version.json()).Major, "number");
    const health = await (await agent.api("/agent/status/health")).json();
    assert.ok(health.Healthy.includes("api"));
    const anonymous = await fetch(`http://127.0.0.1:${agent.port}/agent/version`);
    assert.equal(anonymous.status, 401);
    agent.proc.kill("SIGTERM");
    assert.equal(await agent.proc.exited, 0);
    assert.match(agent.stderr(), /Received SIGTERM, stopping/);
  });

  it("POST /agent/stop stops the agent with exit 0", async () => {
    const agent = await startAgent();
    assert.equal((await agent.api("/agent/stop", { method: "POST" })).status, 200);
    assert.equal(await agent.proc.exited, 0);
  });

  for (
    const [what, yaml, expected] of [
      [
        "invalid YAML",
        "api_key: x\nfoo: [1\n",
        /^Cannot parse config file ".*datadog\.yaml": .*line \d+/,
      ],
      [
        "a wrong type",
        "api_key: x\ndogstatsd_port: abc\n",
        /^Invalid config key "dogstatsd_port": expected an integer, got string "abc"$/,
      ],
      [
        "an unknown log_level",
        "api_key: x\nlog_level: loud\n",
        /^Invalid config key "log_level": expected one of trace, debug/,
      ],
    ] as const
  ) {
    it(`run exits 1 with one line naming the problem for ${what}`, async () => {
      const { config } = configDir(yaml);
      const { stderr, code } = await outpost(["run", "-c", config]);
      assert.equal(code, 1);
      const lines = stderr.trim().split("\n");
      assert.equal(lines.length, 1, stderr);
      assert.match(lines[0], expected);
    });
  }

  it("DD_LOG_LEVEL overrides the file", async () => {
    const { config } = configDir("log_level: warn\n");
    const { stdout, code } = await outpost(["config", "-c", config, "--json"], {
      DD_LOG_LEVEL: "debug",
    });
    assert.equal(code, 0);
    assert.equal(JSON.parse(stdout).log_level, "debug");
  });

  it("config prints the effective config with the API key scrubbed", async () => {
    const { config } = configDir("api_key: 0123456789abcdef0123456789abcdef\n");
    const { stdout } = await outpost(["config", "-c", config]);
    assert.match(stdout, /api_key: "?\*{28}cdef"?/);
    assert.ok(!stdout.includes("0123456789abcdef0123"));
  });

  it("run without an API key refuses to start with one clear line", async () => {
    const { config } = configDir("log_level: info\n");
    const { stderr, code } = await outpost(["run", "-c", config]);
    assert.equal(code, 1);
    assert.match(stderr, /No API key configured/);
  });

  it("unknown commands and flags print usage and exit 2", async () => {
    const cmd = await outpost(["frobnicate"]);
    assert.equal(cmd.code, 2);
    assert.match(cmd.stderr, /Unknown command "frobnicate"[\s\S]*Usage: outpost COMMAND/);
    const flag = await outpost(["run", "--frobnicate"]);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /Unknown option '--frobnicate'[\s\S]*Usage: outpost run/);
  });

  it("--help works on every command", async () => {
    for (const cmd of ["run", "version", "config"]) {
      const { stdout, code } = await outpost([cmd, "--help"]);
      assert.equal(code, 0);
      assert.match(stdout, new RegExp(`^outpost ${cmd}`));
    }
  });
});
