/**
 * Runs the fleet scenario (scripts/fleet-e2e.ts): three real binaries published to a real
 * registry and an HTTP server, driven through the daemon's socket with curl, with SIGKILLs at
 * every step. It takes one to two minutes; FLEET_E2E=0 skips it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");
const tools = ["docker-registry", "skopeo", "curl", "zstd"].every((t) => Bun.which(t));
const canInstall = process.getuid?.() === 0 && Bun.which("apt-get") !== null;
const skip = process.env.FLEET_E2E === "0"
  ? "FLEET_E2E=0"
  : !tools && !canInstall
  ? "docker-registry/skopeo missing and apt-get unavailable"
  : false;

test("fleet e2e: install, experiment, promote, rollback and SIGKILL recovery with real artifacts", {
  skip,
  timeout: 300_000,
}, async () => {
  const p = Bun.spawn({
    cmd: [process.execPath, "scripts/fleet-e2e.ts"],
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  const summary = /^(\d+) passed, (\d+) failed$/m.exec(out);
  assert.ok(summary, `no summary line:\n${out}\n${err}`);
  assert.equal(Number(summary[2]), 0, out.split("\n").filter((l) => /FAIL/.test(l)).join("\n"));
  assert.ok(Number(summary[1]) >= 60, `only ${summary[1]} checks ran`);
  assert.equal(code, 0);
});
