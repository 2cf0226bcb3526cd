/**
 * Bad check input in the compiled binary: invalid YAML, an instance that is not a map, an
 * unknown `loader:`, a config that names no check, a check that throws and one that never
 * returns. Each shows in `outpost status` (text and JSON) while the agent keeps running and a
 * good check beside them still reaches the intake.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, outpost, type RunningAgent, startAgent } from "./_binary.ts";
import { type Intake, startIntake, waitFor } from "../../scripts/bench/_agent.ts";
import { tempDir } from "../_temp.ts";

const dir = tempDir("outpost-e2e-bad-checks-");
const confd = join(dir, "conf.d");
const checksd = join(dir, "checks.d");
let intake: Intake;
let agent: RunningAgent;

const EVERY_SECOND = "init_config:\ninstances:\n  - min_collection_interval: 1\n";

function conf(name: string, text: string): void {
  mkdirSync(join(confd, `${name}.d`), { recursive: true });
  writeFileSync(join(confd, `${name}.d`, "conf.yaml"), text);
}

before(async () => {
  mkdirSync(checksd, { recursive: true });
  conf("bad_yaml", "init_config:\ninstances:\n  - a: [1, 2\n");
  conf("not_map", "init_config:\ninstances:\n  - just a string\n");
  conf("odd_loader", "init_config:\ninstances:\n  - loader: cobol\n");
  conf("nosuch", EVERY_SECOND);
  conf("thrower", EVERY_SECOND);
  conf("hanger", EVERY_SECOND);
  conf("good", EVERY_SECOND);
  writeFileSync(
    join(checksd, "thrower.js"),
    'export default class extends AgentCheck { check() { throw new Error("boom from a check"); } }\n',
  );
  writeFileSync(
    join(checksd, "hanger.js"),
    "export default class extends AgentCheck { check() { return new Promise(() => {}); } }\n",
  );
  writeFileSync(
    join(checksd, "good.js"),
    'export default class extends AgentCheck { check() { this.gauge("e2ebad.good.value", 3); } }\n',
  );
  intake = await startIntake(BIN, join(dir, "intake"), "1gb");
  agent = await startAgent(
    [
      `dd_url: ${intake.url}`,
      "hostname: e2e-bad-host",
      "expvar_port: 0",
      "gui_port: -1",
      "use_dogstatsd: false",
      `confd_path: ${confd}`,
      `additional_checksd: ${checksd}`,
      "",
    ].join("\n"),
  );
});

after(async () => {
  agent?.proc.kill("SIGTERM");
  await agent?.proc.exited;
  await intake?.stop();
});

/** The status JSON once `ready` holds for it. */
function statusWhen(what: string, ready: (s: any) => boolean) {
  return waitFor(what, async () => {
    const s = await (await agent.api("/agent/status?format=json")).json();
    return ready(s) ? s : undefined;
  }, 20_000);
}

describe("bad check input in the compiled binary", () => {
  it("config errors name the file problem; loading errors name the loader", async () => {
    // The checks load in the background: wait for the last of the loading errors.
    const s = await statusWhen(
      "the loading errors",
      (s) =>
        s.checkSchedulerStats?.LoaderErrors?.odd_loader &&
        s.checkSchedulerStats.LoaderErrors.nosuch,
    );
    const configErrors = s.autoConfigStats.ConfigErrors;
    assert.match(configErrors.bad_yaml, /yaml/i);
    assert.match(configErrors.not_map, /map/i);
    const loaderErrors = s.checkSchedulerStats.LoaderErrors;
    assert.match(loaderErrors.odd_loader.cobol, /unknown loader "cobol"/);
    assert.equal(loaderErrors.nosuch["JS Check Loader"], 'no check named "nosuch"');
    assert.equal(loaderErrors.nosuch["Core Check Loader"], 'no check named "nosuch"');
  });

  it("a throwing check is [ERROR] with its message; a hung one is [WARNING] while it hangs", async () => {
    const s = await statusWhen("the thrower's error and the hung run", (s) => {
      const checks = s.runnerStats?.Checks ?? {};
      const t: any = Object.values(checks.thrower ?? {})[0];
      const h: any = Object.values(checks.hanger ?? {})[0];
      return t?.TotalErrors > 0 && h?.RunningSince > 0;
    });
    const thrower: any = Object.values(s.runnerStats.Checks.thrower)[0];
    assert.equal(JSON.parse(thrower.LastError)[0].message, "boom from a check");
    assert.equal(thrower.LastSuccessDate, 0);
    const hanger: any = Object.values(s.runnerStats.Checks.hanger)[0];
    assert.equal(hanger.TotalRuns, 0);

    const text = await outpost(["status", "collector", "-c", join(agent.dir, "datadog.yaml")]);
    assert.equal(text.code, 0, text.stderr);
    for (
      const want of [
        /Instance ID: thrower:[0-9a-f]+ \[ERROR\]/,
        /Error: boom from a check/,
        /Instance ID: hanger:[0-9a-f]+ \[WARNING\]/,
        /Warning: running since .*, longer than its 1s interval/,
        /bad_yaml/,
        /not_map/,
        /unknown loader "cobol"/,
        /no check named "nosuch"/,
      ]
    ) assert.match(text.stdout, want);
  });

  // Series leave the agent at its 15 s flush.
  it("the agent keeps running: the good check's series reach the intake", {
    timeout: 60_000,
  }, async () => {
    await waitFor("e2ebad.good.value at the intake", async () => {
      const s = await intake.get("/outpost/intake/series?metric=e2ebad.good.value");
      return s.points?.find((p: any) => p.value === 3 && p.host === "e2e-bad-host");
    }, 45_000);
    assert.equal(agent.proc.exitCode, null);
    const health = await (await agent.api("/agent/status/health")).json();
    assert.deepEqual(health.Unhealthy, []);
  });
});
