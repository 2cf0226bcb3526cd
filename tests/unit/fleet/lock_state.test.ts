import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FleetLock } from "../../../src/fleet/_lock.ts";
import { loadState, saveState, STATE_FORMAT_VERSION } from "../../../src/fleet/_state.ts";
import { tempDir } from "./_helpers.ts";

test("FleetLock.run() never interleaves two operations", async () => {
  const dir = tempDir();
  const a = new FleetLock(join(dir, "lock"));
  const b = new FleetLock(join(dir, "lock")); // a second holder, as another process would be
  const events: string[] = [];
  const op = (lock: FleetLock, name: string) =>
    lock.run(async () => {
      events.push(`${name} in`);
      await new Promise((r) => setTimeout(r, 30));
      events.push(`${name} out`);
    });
  await Promise.all([op(a, "a1"), op(b, "b1"), op(a, "a2")]);
  for (let i = 0; i < events.length; i += 2) {
    assert.equal(events[i].split(" ")[0], events[i + 1].split(" ")[0], events.join(", "));
  }
  assert.equal(events.length, 6);
  rmSync(dir, { recursive: true });
});

test("FleetLock takes over a lock file left by a dead process", async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "lock"), "2147483646"); // no such pid
  const lock = new FleetLock(join(dir, "lock"), 200);
  const content = await lock.run(async () => readFileSync(join(dir, "lock"), "utf8"));
  assert.equal(content.split(" ")[0], String(process.pid));
  rmSync(dir, { recursive: true });
});

test("loadState() refuses a state file of another format version and reads its own", () => {
  const dir = tempDir();
  const path = join(dir, "state.json");
  assert.deepEqual(loadState(path), {
    format_version: STATE_FORMAT_VERSION,
    catalog: null,
    packages: {},
  });
  saveState(path, {
    format_version: STATE_FORMAT_VERSION,
    catalog: null,
    packages: { outpost: { failed_versions: ["3.0.0"] } },
  });
  assert.deepEqual(loadState(path).packages.outpost.failed_versions, ["3.0.0"]);
  writeFileSync(path, JSON.stringify({ format_version: 99, catalog: null, packages: {} }));
  assert.throws(() => loadState(path), {
    message:
      `Cannot read the fleet state file ${path}: format version 99, expected ${STATE_FORMAT_VERSION}`,
  });
  rmSync(dir, { recursive: true });
});
