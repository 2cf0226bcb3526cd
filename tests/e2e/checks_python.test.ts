/**
 * A Python custom check in the compiled binary, on the real datadog-checks-base of the project
 * venv (`scripts/pyenv.ts`, run by `npm test` before this): `outpost run` sends its gauge,
 * count, monotonic count, histogram, service check and event to `outpost intake` with exact
 * values, and `outpost check` prints the same values without an agent.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { BIN, freePort, outpost, type RunningAgent, startAgent } from "./_binary.ts";
import { type Intake, startIntake, waitFor } from "../../scripts/bench/_agent.ts";
import { tempDir } from "../_temp.ts";

const PYTHON = resolve(import.meta.dirname, "../../.venv-pychecks/bin/python");
if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: run bun scripts/pyenv.ts`);

const dir = tempDir("outpost-e2e-py-");
const confd = join(dir, "conf.d");
const checksd = join(dir, "checks.d");
let intake: Intake;
let agent: RunningAgent;
let expvarPort: number;

const CHECK = `from datadog_checks.base import AgentCheck


class GatewayCheck(AgentCheck):
    def check(self, instance):
        self.runs = getattr(self, "runs", 0) + 1
        self.gauge("e2epy.gauge", 12.5, tags=["env:test"])
        self.count("e2epy.count", 3)
        self.count("e2epy.count", 4)
        self.monotonic_count("e2epy.mono", 10 if self.runs == 1 else 15)
        for v in (1, 2, 3, 4):
            self.histogram("e2epy.hist", v)
        self.service_check("e2epy.up", AgentCheck.WARNING, tags=["svc:a"], message="slow")
        if self.runs == 1:
            self.event({"msg_title": "e2epy started", "msg_text": "body", "alert_type": "warning",
                        "source_type_name": "gateway", "tags": ["e:1"]})
        self.warning("careful")
`;

/** The checks keys both the agent and `outpost check` read. */
const CHECKS_YAML = [
  "hostname: e2e-py-host",
  `python_binary: ${PYTHON}`,
  `confd_path: ${confd}`,
  `additional_checksd: ${checksd}`,
].join("\n");

before(async () => {
  mkdirSync(join(confd, "gateway.d"), { recursive: true });
  mkdirSync(checksd, { recursive: true });
  writeFileSync(join(checksd, "gateway.py"), CHECK);
  writeFileSync(
    join(confd, "gateway.d", "conf.yaml"),
    "init_config:\ninstances:\n  - min_collection_interval: 5\n    tags: [inst:1]\n",
  );
  intake = await startIntake(BIN, join(dir, "intake"), "1gb");
  expvarPort = await freePort();
  agent = await startAgent(
    `${CHECKS_YAML}\ndd_url: ${intake.url}\nexpvar_port: ${expvarPort}\ngui_port: -1\nuse_dogstatsd: false\n`,
  );
});

after(async () => {
  agent?.proc.kill("SIGTERM");
  await agent?.proc.exited;
  await intake?.stop();
});

/** Points of `metric` at the intake once one has `want`. */
function points(metric: string, want: number): Promise<any[]> {
  return waitFor(`${metric} = ${want} at the intake`, async () => {
    const s = await intake.get(`/outpost/intake/series?metric=${metric}`);
    return s.points?.some((p: any) => p.value === want) ? s.points : undefined;
  }, 45_000);
}

describe("a Python check in the compiled binary (real datadog-checks-base)", () => {
  it("its submissions reach the intake with exact values, tags and host", {
    timeout: 90_000,
  }, async () => {
    const gauge = (await points("e2epy.gauge", 12.5)).find((p) => p.value === 12.5);
    assert.deepEqual([...gauge.tags].sort(), ["env:test", "inst:1"]);
    assert.equal(gauge.host, "e2e-py-host");
    // Each run counts 3 + 4; the monotonic count goes 10 → 15 between the first two runs.
    await points("e2epy.count", 7);
    await points("e2epy.mono", 5);
    for (const [name, want] of [["max", 4], ["avg", 2.5], ["count", 4], ["median", 2]] as const) {
      await points(`e2epy.hist.${name}`, want);
    }
    const runs = await intake.get("/outpost/intake/check_runs?check=e2epy.up");
    assert.ok(runs.count > 0);
    assert.deepEqual(
      [runs.check_runs[0].status, runs.check_runs[0].message, [...runs.check_runs[0].tags].sort()],
      [1, "slow", ["inst:1", "svc:a"]],
    );
    const events = (await intake.get("/outpost/intake/events")).events
      .filter((e: any) => e.msg_title === "e2epy started");
    assert.equal(events.length, 1);
    assert.equal(events[0].alert_type, "warning");
    // A custom check that passed validation reports itself ready, as the Datadog Agent does.
    const ready = await points("datadog.agent.check_ready", 1);
    assert.ok(
      ready.some((p) => p.tags.includes("check_name:gateway") && p.tags.includes("status:python3")),
    );
  });

  it("status shows the check's warning and the Python runner", async () => {
    const text = await outpost(["status", "collector", "-c", join(agent.dir, "datadog.yaml")]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /Instance ID: gateway:[0-9a-f]+ \[WARNING\]/);
    assert.match(text.stdout, /Warning: careful/);
    assert.match(text.stdout, /Python runner: pid \d+, RSS [\d.]+ MiB/);
    // The runner's memory and pipe counters are in /debug/vars (no rtloader object: no C heap).
    const vars = await (await fetch(`http://127.0.0.1:${expvarPort}/debug/vars`)).json();
    assert.ok(vars.pyrunner.rss_bytes > 0, JSON.stringify(vars.pyrunner));
    assert.ok(vars.pyrunner.pid > 0);
    assert.ok(Object.keys(vars.pyrunner.checks).some((id) => id.startsWith("gateway:")));
    assert.equal(vars.rtloader, undefined);
  });

  it("outpost check prints the same values, without an agent", { timeout: 60_000 }, async () => {
    const cfg = join(dir, "check.yaml");
    writeFileSync(
      cfg,
      `api_key: 0123456789abcdef0123456789abcdef\nrun_path: ${join(dir, "run2")}\n${CHECKS_YAML}\n`,
    );
    const r = await outpost(["check", "gateway", "-c", cfg, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const [result] = JSON.parse(r.stdout);
    const value = (name: string) =>
      result.aggregator.metrics.find((m: any) => m.metric === name)?.points[0][1];
    assert.equal(value("e2epy.gauge"), 12.5);
    assert.equal(value("e2epy.count"), 7);
    assert.equal(value("e2epy.hist.max"), 4);
    assert.equal(result.aggregator.service_checks[0].status, 1);
    assert.equal(result.aggregator.events[0].msg_title, "e2epy started");
    assert.deepEqual(result.runner.LastWarnings, ["careful"]);
  });
});
