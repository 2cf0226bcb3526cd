/**
 * JS/TS custom checks in the compiled binary: a `.ts` check (importing `outpost:checks`) and a
 * `.js` check (using the global `AgentCheck`) dropped in checks.d, configured in conf.d, run by
 * `outpost run`; their series reach `outpost intake` with the instance tags. Editing the files
 * and calling `POST /agent/checks/reload` (or restarting, where the route is absent) brings the
 * new code's values: the reload notices the edited code by itself, with conf.d untouched.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, type RunningAgent, startAgent } from "./_binary.ts";
import { type Intake, startIntake, waitFor } from "../../scripts/bench/_agent.ts";
import { tempDir } from "../_temp.ts";
import { loadConfd } from "../../src/checks/confd/mod.ts";

const dir = tempDir("outpost-e2e-js-");
const confd = join(dir, "conf.d");
const checksd = join(dir, "checks.d");
let intake: Intake;
let agent: RunningAgent;
let stamp = 1_900_000_000;

function write(path: string, text: string): void {
  writeFileSync(path, text);
  stamp += 10; // a distinct mtime even when the edit lands within the same millisecond
  utimesSync(path, stamp, stamp);
}

function writeChecks(factor: number): void {
  write(
    join(checksd, "e2e_ts.ts"),
    `import { AgentCheck } from "outpost:checks";
export const version: string = "1.0.${factor}";
interface Settings { value: number }
export default class extends AgentCheck {
  static NAMESPACE = "e2ejs";
  check(instance: Readonly<Record<string, unknown>>): void {
    const s: Settings = { value: Number(instance.value) };
    this.gauge("ts.value", s.value * ${factor}, { tags: ["from:code"] });
    this.serviceCheck("ts.up", AgentCheck.OK);
  }
}
`,
  );
  write(
    join(checksd, "e2e_js.js"),
    `export default class extends AgentCheck {
  check() {
    this.gauge("e2ejs.js.value", 5 * ${factor});
  }
}
`,
  );
}

const config = () =>
  [
    `dd_url: ${intake.url}`,
    "hostname: e2e-js-host",
    "expvar_port: 0",
    "gui_port: -1",
    "use_dogstatsd: false",
    `confd_path: ${confd}`,
    `additional_checksd: ${checksd}`,
    "",
  ].join("\n");

/** The last value of `metric` at the intake once it equals `want`, with that point. */
function pointWith(metric: string, want: number) {
  return waitFor(`${metric} = ${want} at the intake`, async () => {
    const s = await intake.get(`/outpost/intake/series?metric=${metric}`);
    return s.points?.find((p: any) => p.value === want) ?? undefined;
  }, 45_000);
}

before(async () => {
  mkdirSync(join(confd, "e2e_ts.d"), { recursive: true });
  mkdirSync(join(confd, "e2e_js.d"), { recursive: true });
  mkdirSync(checksd, { recursive: true });
  writeFileSync(
    join(confd, "e2e_ts.d", "conf.yaml"),
    "init_config:\n\ninstances:\n  - value: 7\n    min_collection_interval: 1\n    tags:\n      - lang:ts\n      - team:edge\n",
  );
  writeFileSync(
    join(confd, "e2e_js.d", "conf.yaml"),
    'init_config:\n\ninstances:\n  - min_collection_interval: 1\n    tags: ["lang:js"]\n',
  );
  writeChecks(1);
  intake = await startIntake(BIN, join(dir, "intake"), "1gb");
  agent = await startAgent(config());
});

after(async () => {
  agent?.proc.kill("SIGTERM");
  await agent?.proc.exited;
  await intake?.stop();
});

describe("JS/TS checks in the compiled binary → outpost intake", () => {
  // Series leave the agent at its 15 s flush: room for a first run and a flush or two.
  it(
    "the .ts and .js checks' series arrive with the instance tags",
    { timeout: 60_000 },
    async () => {
      const ts = await pointWith("e2ejs.ts.value", 7).catch((err) => {
        throw new Error(`${err.message}\n${agent.stderr()}`);
      });
      assert.equal(ts.host, "e2e-js-host");
      for (const tag of ["lang:ts", "team:edge", "from:code"]) {
        assert.ok(ts.tags.includes(tag), `${tag} in ${ts.tags}`);
      }
      const js = await pointWith("e2ejs.js.value", 5);
      assert.ok(js.tags.includes("lang:js"), `lang:js in ${js.tags}`);
      const runs = await waitFor("the service check", async () => {
        const r = await intake.get("/outpost/intake/check_runs?check=e2ejs.ts.up");
        return r.count > 0 ? r : undefined;
      });
      assert.equal(runs.check_runs[0].status, 0);
      assert.ok(
        runs.check_runs[0].tags.includes("lang:ts"),
        `lang:ts in ${runs.check_runs[0].tags}`,
      );
    },
  );

  it("configcheck and status name each check by the ID conf.d gives it", async () => {
    const expected = loadConfd({ confdPaths: [confd], defaults: [], env: {} }).configs
      .map((c) => c.instances[0].id).sort();
    assert.match(expected[0], /^e2e_js:[0-9a-f]{1,16}$/);
    const res = await agent.api("/agent/config-check");
    const answer = await res.json();
    const ids = answer.configs.filter((c: any) => c.name.startsWith("e2e_"))
      .map((c: any) => c.instances[0].check_id).sort();
    assert.deepEqual(ids, expected);
    const status = await (await agent.api("/agent/status?format=json")).json();
    const running = Object.keys(status.runnerStats.Checks).filter((n) => n.startsWith("e2e_"));
    for (const name of running) {
      assert.deepEqual(Object.keys(status.runnerStats.Checks[name]), [
        expected.find((id) => id.startsWith(`${name}:`)),
      ]);
    }
    assert.equal(running.length, 2);
  });

  it("after an edit and a reload, the new code's values arrive", {
    timeout: 60_000,
  }, async () => {
    writeChecks(10);
    const res = await agent.api("/agent/checks/reload", { method: "POST" });
    assert.equal(res.status, 200);
    const reloaded = await res.json();
    for (const name of ["e2e_ts", "e2e_js"]) {
      assert.ok(
        reloaded.scheduled.some((id: string) => id.startsWith(`${name}:`)),
        `${name} scheduled again in ${JSON.stringify(reloaded)}`,
      );
    }
    await pointWith("e2ejs.ts.value", 70);
    await pointWith("e2ejs.js.value", 50);
  });
});
