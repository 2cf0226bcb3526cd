/**
 * `bin/outpost.js`, the `outpost` command of an npm install, run by Node as npm runs it: the
 * CLI answers through it, and exit codes and signals pass through both ways.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const LAUNCHER = join(import.meta.dir, "..", "..", "bin", "outpost.js");
const dir = mkdtempSync(join(tmpdir(), "outpost-launcher-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function outpost(...args: string[]) {
  return spawnSync("node", [LAUNCHER, ...args], { encoding: "utf8", timeout: 30_000 });
}

/**
 * Starts a command through the launcher; resolves once its output includes `ready`.
 */
async function start(args: string[], ready: string, env: Record<string, string> = {}) {
  const proc = spawn("node", [LAUNCHER, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    proc.on("exit", (code, signal) => resolve({ code, signal }))
  );
  let out = "";
  await new Promise<void>((resolve, reject) => {
    const seen = (d: Buffer) => {
      out += d;
      if (out.includes(ready)) resolve();
    };
    proc.stdout.on("data", seen);
    proc.stderr.on("data", seen);
    proc.on("exit", () => reject(new Error(`${args[0]} exited early: ${out}`)));
  });
  return { proc, exited };
}

test("bin/outpost.js version prints the version line of the Bun runtime and exits 0", () => {
  const r = outpost("version");
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    /^Outpost \d+\.\d+\.\d+ - Commit: \S+ - Build date: \(from source\) - Datadog Agent version sent: 7\.\d+\.\d+ - Runtime: bun \d+\.\d+\.\d+ - /,
  );
});

test("bin/outpost.js --help prints the usage and exits 0", () => {
  const r = outpost("--help");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Usage: outpost COMMAND \[FLAGS\]/);
  assert.match(r.stdout, /\n {2}status +Print the running agent's status/);
});

test("bin/outpost.js passes an unknown command's exit code 2 through", () => {
  const r = outpost("no-such-command");
  assert.equal(r.status, 2);
  assert.match(r.stderr, /Unknown command "no-such-command"/);
});

test("bin/outpost.js forwards SIGTERM to the command, which stops cleanly (exit 0)", async () => {
  // `run` catches signals before it says it started; free ports keep it off a running agent's.
  const { proc, exited } = await start(["run", "--dev"], "started on bun", {
    DD_RUN_PATH: join(dir, "run"),
    DD_CMD_PORT: "0",
    DD_EXPVAR_PORT: "0",
    DD_DOGSTATSD_PORT: "0",
    DD_LOCAL_INTAKE_PORT: "0",
  });
  proc.kill("SIGTERM");
  assert.deepEqual(await exited, { code: 0, signal: null });
});

test("bin/outpost.js dies of the signal that killed the command", async () => {
  const intake = ["intake", "--port", "0", "--data-dir", join(dir, "intake")];
  const { proc, exited } = await start(intake, "listening on");
  const bun = execFileSync("pgrep", ["-P", String(proc.pid)], { encoding: "utf8" }).trim();
  assert.match(bun, /^\d+$/, "one child: the Bun process");
  process.kill(Number(bun), "SIGKILL");
  assert.deepEqual(await exited, { code: null, signal: "SIGKILL" });
});
