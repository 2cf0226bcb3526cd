import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { FleetError } from "../../../src/fleet/_errors.ts";
import { Repository } from "../../../src/fleet/_repository.ts";
import { tempDir, unpacked } from "./_helpers.ts";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as FleetError).code;
  }
  return undefined;
}

test("Repository.create() makes the first version stable with no experiment", () => {
  const root = tempDir();
  const repo = new Repository(root, "outpost");
  repo.create("1.0.0", unpacked(root, "1.0.0"));
  assert.deepEqual(repo.slots(), { stable: "1.0.0", experiment: null });
  assert.equal(
    readFileSync(join(repo.dir, "stable", "bin", "outpost"), "utf8"),
    "#!/bin/sh\necho 1.0.0\n",
  );
  rmSync(root, { recursive: true });
});

test("Repository refuses stable, experiment and empty names as versions", () => {
  const root = tempDir();
  const repo = new Repository(root, "outpost");
  for (const bad of ["stable", "experiment", "", "../x", "a/b", ".hidden"]) {
    assert.equal(codeOf(() => repo.create(bad, unpacked(root, "x"))), "bad_request", bad);
  }
  assert.equal(codeOf(() => new Repository(root, "../etc")), "bad_request");
  rmSync(root, { recursive: true });
});

test("Repository experiment: set, promote, and no second experiment or empty promote", () => {
  const root = tempDir();
  const repo = new Repository(root, "outpost");
  repo.create("1.0.0", unpacked(root, "1.0.0"));
  repo.setExperiment("2.0.0", unpacked(root, "2.0.0"));
  assert.deepEqual(repo.slots(), { stable: "1.0.0", experiment: "2.0.0" });
  assert.equal(codeOf(() => repo.setExperiment("3.0.0", unpacked(root, "3.0.0"))), "conflict");
  assert.equal(codeOf(() => repo.create("3.0.0", unpacked(root, "3.0.0"))), "conflict");
  assert.equal(repo.promote(), "2.0.0");
  assert.deepEqual(repo.slots(), { stable: "2.0.0", experiment: null });
  assert.equal(codeOf(() => repo.promote()), "conflict");
  // 1.0.0 is garbage now; so are the refused 3.0.0 sources left in tmp (not the repo's concern).
  assert.deepEqual(readdirSync(repo.dir).sort(), ["2.0.0", "stable"]);
  rmSync(root, { recursive: true });
});

test("Repository.deleteExperiment() goes back to stable and collects the experiment", () => {
  const root = tempDir();
  const repo = new Repository(root, "outpost");
  repo.create("1.0.0", unpacked(root, "1.0.0"));
  repo.setExperiment("2.0.0", unpacked(root, "2.0.0"));
  assert.equal(repo.deleteExperiment(), "2.0.0");
  assert.deepEqual(repo.slots(), { stable: "1.0.0", experiment: null });
  assert.deepEqual(readdirSync(repo.dir).sort(), ["1.0.0", "stable"]);
  rmSync(root, { recursive: true });
});

test("Repository reads an experiment link equal to stable as no experiment", async () => {
  const root = tempDir();
  const repo = new Repository(root, "outpost");
  repo.create("1.0.0", unpacked(root, "1.0.0"));
  const { symlinkSync } = await import("node:fs");
  symlinkSync("1.0.0", join(repo.dir, "experiment"));
  assert.deepEqual(repo.slots(), { stable: "1.0.0", experiment: null });
  rmSync(root, { recursive: true });
});

test("Repository.cleanup() removes unreferenced versions and leftover temp links", async () => {
  const root = tempDir();
  const repo = new Repository(root, "outpost");
  repo.create("1.0.0", unpacked(root, "1.0.0"));
  const { mkdirSync, symlinkSync } = await import("node:fs");
  mkdirSync(join(repo.dir, "0.9.0"));
  symlinkSync("0.9.0", join(repo.dir, ".stable.tmp-abc"));
  assert.deepEqual(repo.cleanup().sort(), [".stable.tmp-abc", "0.9.0"]);
  assert.deepEqual(readdirSync(repo.dir).sort(), ["1.0.0", "stable"]);
  rmSync(root, { recursive: true });
});

/** Interrupts `op` after its n-th atomic step, as a kill -9 there would. */
class Crash extends Error {}
function crashAt(n: number) {
  let seen = 0;
  const steps: string[] = [];
  return {
    steps,
    afterStep(step: string) {
      steps.push(step);
      if (++seen === n) throw new Crash(step);
    },
  };
}

/** After any crash: stable points at a complete version (its binary is there) and cleanup settles it. */
function assertConsistent(root: string, allowed: string[], label: string) {
  const repo = new Repository(root, "outpost");
  repo.cleanup(); // what recover() does on the next start
  const { stable, experiment } = repo.slots();
  assert.ok(stable !== null && allowed.includes(stable), `${label}: stable=${stable}`);
  assert.ok(existsSync(join(repo.dir, "stable", "bin", "outpost")), `${label}: stable is complete`);
  const dirs = readdirSync(repo.dir).filter((d) => d !== "stable" && d !== "experiment").sort();
  assert.deepEqual(
    dirs,
    [...new Set([stable, experiment].filter((v) => v !== null))].sort(),
    `${label}: gc`,
  );
}

test("Repository: a crash after any step of install, experiment, promote or stop leaves stable runnable", () => {
  type Op = { name: string; allowed: string[]; run: (r: Repository, root: string) => void };
  const ops: Op[] = [
    {
      name: "install over 1.0.0",
      allowed: ["1.0.0", "1.5.0"],
      run: (r, root) => r.create("1.5.0", unpacked(root, "1.5.0")),
    },
    {
      name: "start experiment",
      allowed: ["1.0.0"],
      run: (r, root) => r.setExperiment("2.0.0", unpacked(root, "2.0.0")),
    },
    { name: "promote", allowed: ["1.0.0", "2.0.0"], run: (r) => r.promote() },
    { name: "stop experiment", allowed: ["1.0.0"], run: (r) => r.deleteExperiment() },
  ];
  let crashes = 0;
  for (const op of ops) {
    for (let n = 1;; n++) {
      const root = tempDir();
      const setup = new Repository(root, "outpost");
      setup.create("1.0.0", unpacked(root, "1.0.0"));
      setup.create("0.9.0", unpacked(root, "0.9.0")); // leaves garbage history to collect
      setup.create("1.0.0", unpacked(root, "1.0.0"));
      if (op.name === "promote" || op.name === "stop experiment") {
        setup.setExperiment("2.0.0", unpacked(root, "2.0.0"));
      }
      const hook = crashAt(n);
      const repo = new Repository(root, "outpost", { afterStep: hook.afterStep });
      let crashed = false;
      try {
        op.run(repo, root);
      } catch (e) {
        if (!(e instanceof Crash)) throw e;
        crashed = true;
        crashes++;
      }
      assertConsistent(
        root,
        op.allowed,
        `${op.name}, crash after step ${n} (${hook.steps.at(-1)})`,
      );
      rmSync(root, { recursive: true });
      if (!crashed) break; // the operation ran past its last step
    }
  }
  assert.ok(crashes >= 8, `crashed at ${crashes} points`);
});
