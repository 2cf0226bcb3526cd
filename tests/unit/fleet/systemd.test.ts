import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { runtime } from "../../../src/runtime/mod.ts";
import type { Runtime, SpawnResult } from "../../../src/runtime/mod.ts";
import { createLogger } from "../../../src/log/mod.ts";
import { Repository } from "../../../src/fleet/_repository.ts";
import { SystemdSupervisor } from "../../../src/fleet/_systemd.ts";
import { tempDir, unpacked } from "./_helpers.ts";

const logger = createLogger({ level: "off", console: false });

/** The runtime with `systemctl` answered here: commands are recorded, `is-active` says `unitState`. */
function recordingRuntime() {
  const calls: string[] = [];
  const state = { unit: "activating" };
  const rt: Runtime = {
    ...runtime,
    spawn(cmd): Promise<SpawnResult> {
      calls.push(cmd.join(" "));
      const out = cmd[1] === "is-active" ? state.unit : "";
      return Promise.resolve({
        code: 0,
        stdout: new TextEncoder().encode(out),
        stderr: new Uint8Array(),
        timedOut: false,
      });
    },
  };
  return { rt, calls, state };
}

test("SystemdSupervisor drives outpost.service and outpost-exp.service through install, experiment and promote", async () => {
  const root = tempDir();
  const repo = new Repository(root, "outpost");
  const { rt, calls } = recordingRuntime();
  const sup = new SystemdSupervisor({
    runtime: rt,
    repository: repo,
    logger,
    health: () => Promise.resolve(true),
    healthTimeoutMs: 60_000,
    watchMs: 60_000,
    onExperimentFailed: () => Promise.resolve(),
    pollMs: 5,
  });
  repo.create("1.0.0", unpacked(root, "1.0.0"));
  await sup.start();
  assert.deepEqual(calls.splice(0), [
    "systemctl stop outpost-exp.service",
    "systemctl restart outpost.service",
  ]);
  repo.setExperiment("2.0.0", unpacked(root, "2.0.0"));
  await sup.sync();
  assert.deepEqual(calls.splice(0), ["systemctl start --no-block outpost-exp.service"]);
  assert.deepEqual(sup.running, { version: "2.0.0", slot: "experiment", pid: 0 });
  repo.promote();
  await sup.sync();
  assert.deepEqual(
    calls.splice(0).filter((c) => !c.includes("is-active")),
    ["systemctl stop outpost-exp.service", "systemctl restart outpost.service"],
  );
  assert.deepEqual(sup.running, { version: "2.0.0", slot: "stable", pid: 0 });
  await sup.stop();
  rmSync(root, { recursive: true });
});

test("SystemdSupervisor rolls back when the experiment unit stops", async () => {
  const root = tempDir();
  const repo = new Repository(root, "outpost");
  repo.create("1.0.0", unpacked(root, "1.0.0"));
  const { rt, state } = recordingRuntime();
  const { promise: failed, resolve } = Promise.withResolvers<string>();
  const sup = new SystemdSupervisor({
    runtime: rt,
    repository: repo,
    logger,
    health: () => Promise.resolve(false),
    healthTimeoutMs: 60_000,
    watchMs: 60_000,
    onExperimentFailed: (reason) => {
      resolve(reason);
      return Promise.resolve();
    },
    pollMs: 5,
  });
  await sup.start();
  repo.setExperiment("3.0.0", unpacked(root, "3.0.0"));
  await sup.sync();
  state.unit = "failed";
  assert.equal(await failed, "The experiment 3.0.0 stopped (outpost-exp.service is failed)");
  await sup.stop();
  rmSync(root, { recursive: true });
});
