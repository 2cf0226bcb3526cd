import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  checkRunPath,
  ensureAuthToken,
  ensureRunPath,
  type FileStatus,
} from "../../../src/api/_auth_token.ts";
import { tempDir } from "../../_temp.ts";

const TOKEN = "cd".repeat(32);
const me = process.getuid!();
const tmp = () => tempDir("outpost-token-");

function tokenFile(mode: number): string {
  const path = join(tmp(), "auth_token");
  writeFileSync(path, TOKEN);
  chmodSync(path, mode);
  return path;
}

test("ensureAuthToken() reads an existing token that only the agent's user can read", () => {
  assert.equal(ensureAuthToken(tokenFile(0o600)), TOKEN);
  assert.equal(ensureAuthToken(tokenFile(0o400), { uid: me }), TOKEN);
});

test("ensureAuthToken() refuses a token file that group or others can read or write", () => {
  for (const mode of [0o644, 0o660, 0o602, 0o640]) {
    const path = tokenFile(mode);
    assert.throws(
      () => ensureAuthToken(path),
      {
        code: "auth_token",
        message: `Refusing the auth token file "${path}": its mode 0${
          mode.toString(8)
        } lets other users read or write it; run: chmod 600 "${path}"`,
      },
    );
  }
});

test("ensureAuthToken() refuses a token file owned by another user than the agent's", () => {
  const path = tokenFile(0o600);
  const other = me + 1000;
  assert.throws(() => ensureAuthToken(path, { uid: other }), {
    code: "auth_token",
    message: `Refusing the auth token file "${path}": it is owned by uid ${me}, not by the ` +
      `agent's user (uid ${other}); remove it so that a new one is created, or run: ` +
      `chown ${other} "${path}"`,
  });
});

test("ensureAuthToken() refuses a symbolic link in place of the token file", () => {
  const target = tokenFile(0o600);
  const link = join(tmp(), "auth_token");
  symlinkSync(target, link);
  assert.throws(
    () => ensureAuthToken(link),
    /Refusing the auth token file ".*": it is a symbolic link/,
  );
});

test("ensureAuthToken() creates a missing token 0600 in a new 0700 directory", () => {
  const path = join(tmp(), "run", "auth_token");
  const token = ensureAuthToken(path);
  assert.match(token, /^[0-9a-f]{64}$/);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(statSync(join(path, "..")).mode & 0o777, 0o700);
  assert.equal(ensureAuthToken(path), token);
  assert.equal(readFileSync(path, "utf8"), token);
});

test("ensureRunPath() creates a missing run_path 0700 and accepts one only its owner writes", () => {
  const path = join(tmp(), "a", "run");
  ensureRunPath(path);
  assert.equal(statSync(path).mode & 0o777, 0o700);
  chmodSync(path, 0o755);
  ensureRunPath(path);
});

test("ensureRunPath() refuses a run_path that group or others can write", () => {
  for (const mode of [0o777, 0o770, 0o703]) {
    const path = join(tmp(), "run");
    mkdirSync(path);
    chmodSync(path, mode);
    assert.throws(() => ensureRunPath(path), {
      code: "run_path",
      message: `Refusing run_path "${path}": its mode 0${
        mode.toString(8)
      } lets other users write in it; run: chmod 700 "${path}"`,
    });
  }
  const file = join(tmp(), "file");
  writeFileSync(file, "");
  assert.throws(() => ensureRunPath(file), /Refusing run_path ".*": it is not a directory/);
});

test("checkRunPath() refuses a run_path owned by another user, not one owned by root", () => {
  const dir = (uid: number): FileStatus => ({
    uid,
    mode: 0o40700,
    isFile: () => false,
    isDirectory: () => true,
  });
  assert.throws(() => checkRunPath("/x/run", dir(4242), 1000), {
    code: "run_path",
    message: `Refusing run_path "/x/run": it is owned by uid 4242, not by the agent's user ` +
      `(uid 1000) or root; run: chown 1000 "/x/run"`,
  });
  checkRunPath("/x/run", dir(0), 1000);
  checkRunPath("/x/run", dir(1000), 1000);
});
