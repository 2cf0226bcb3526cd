import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runtime } from "../../../src/runtime/mod.ts";
import { loadConfig } from "../../../src/config/mod.ts";
import { authTokenPath, clientAuthTokenPath, DEV_RUN_PATH } from "../../../src/api/mod.ts";

const configWith = async (defaults: Record<string, unknown>) =>
  (await loadConfig(runtime, { searchPaths: [], env: {}, defaults })).config;

/** Runs `fn` in a fresh temp working directory, removed afterwards. */
function inTempCwd<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "outpost-token-path-"));
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    return fn(dir);
  } finally {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  }
}

test("authTokenPath() takes auth_token_file_path, then the config file's folder, then run_path", async () => {
  const set = await configWith({ auth_token_file_path: "/srv/token", run_path: "/var/run/x" });
  assert.equal(authTokenPath(set, "/etc/outpost/datadog.yaml"), "/srv/token");
  const unset = await configWith({ run_path: "/var/run/x" });
  assert.equal(authTokenPath(unset, "/etc/outpost/datadog.yaml"), "/etc/outpost/auth_token");
  assert.equal(authTokenPath(unset, null), "/var/run/x/auth_token");
});

test("clientAuthTokenPath() with no config file finds the dev agent's token under DEV_RUN_PATH", async () => {
  const config = await configWith({ run_path: join(tmpdir(), "outpost-no-such-run-path") });
  inTempCwd(() => {
    assert.equal(clientAuthTokenPath(config, null), authTokenPath(config, null));
    mkdirSync(DEV_RUN_PATH, { recursive: true });
    writeFileSync(join(DEV_RUN_PATH, "auth_token"), "ab".repeat(32));
    assert.equal(clientAuthTokenPath(config, null), join(DEV_RUN_PATH, "auth_token"));
  });
});

test("clientAuthTokenPath() keeps the agent's path when it exists or a config file is given", async () => {
  const run = mkdtempSync(join(tmpdir(), "outpost-token-run-"));
  try {
    const config = await configWith({ run_path: run });
    inTempCwd(() => {
      mkdirSync(DEV_RUN_PATH, { recursive: true });
      writeFileSync(join(DEV_RUN_PATH, "auth_token"), "ab".repeat(32));
      assert.equal(
        clientAuthTokenPath(config, "/etc/outpost/datadog.yaml"),
        "/etc/outpost/auth_token",
      );
      writeFileSync(join(run, "auth_token"), "cd".repeat(32));
      assert.equal(clientAuthTokenPath(config, null), join(run, "auth_token"));
    });
  } finally {
    rmSync(run, { recursive: true, force: true });
  }
});
