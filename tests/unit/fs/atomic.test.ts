import { afterEach, test } from "node:test";
import assert from "node:assert/strict";
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isAtomicTemp, replaceAtomic, writeFileAtomic } from "../../../src/fs/mod.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "outpost-fs-"));
  dirs.push(d);
  return d;
}

test("writeFileAtomic() replaces the target whole and leaves only it", () => {
  const dir = tempDir();
  const path = join(dir, "state.json");
  writeFileAtomic(path, "x".repeat(100_000));
  writeFileAtomic(path, "short\n");
  assert.equal(readFileSync(path, "utf8"), "short\n");
  assert.deepEqual(readdirSync(dir), ["state.json"]);
});

test("writeFileAtomic() writes bytes as given", () => {
  const dir = tempDir();
  const path = join(dir, "q.retry");
  writeFileAtomic(path, new Uint8Array([0, 255, 10, 13]));
  assert.deepEqual([...readFileSync(path)], [0, 255, 10, 13]);
});

test("writeFileAtomic() sets the mode exactly, 0600 by default, whatever the umask", () => {
  const dir = tempDir();
  const previous = process.umask(0o077);
  try {
    writeFileAtomic(join(dir, "shared"), "a", { mode: 0o644 });
    writeFileAtomic(join(dir, "private"), "b");
  } finally {
    process.umask(previous);
  }
  assert.equal(statSync(join(dir, "shared")).mode & 0o777, 0o644);
  assert.equal(statSync(join(dir, "private")).mode & 0o777, 0o600);
  // Replacing gives the new file the mode asked for, not the old file's.
  writeFileAtomic(join(dir, "shared"), "c", { mode: 0o600 });
  assert.equal(statSync(join(dir, "shared")).mode & 0o777, 0o600);
});

test("writeFileAtomic() onto a directory throws with its code, keeps the target, leaves no temp", () => {
  const dir = tempDir();
  const target = join(dir, "busy");
  mkdirSync(target);
  writeFileSync(join(target, "inside"), "kept");
  assert.throws(
    () => writeFileAtomic(target, "new"),
    (e: NodeJS.ErrnoException) => ["EISDIR", "ENOTEMPTY", "EEXIST"].includes(e.code ?? ""),
  );
  assert.deepEqual(readdirSync(dir), ["busy"]);
  assert.equal(readFileSync(join(target, "inside"), "utf8"), "kept");
});

test("writeFileAtomic() into a missing directory throws ENOENT and creates nothing", () => {
  const dir = tempDir();
  assert.throws(() => writeFileAtomic(join(dir, "missing", "f"), "x"), { code: "ENOENT" });
  assert.deepEqual(readdirSync(dir), []);
});

test("writeFileAtomic() with exclusive refuses an existing file (EEXIST) and keeps it", () => {
  const dir = tempDir();
  const path = join(dir, "auth_token");
  writeFileAtomic(path, "first", { exclusive: true });
  assert.throws(() => writeFileAtomic(path, "second", { exclusive: true }), { code: "EEXIST" });
  assert.equal(readFileSync(path, "utf8"), "first");
  assert.deepEqual(readdirSync(dir), ["auth_token"]);
  assert.equal(statSync(path).nlink, 1, "the temp name is gone: one link left");
});

test("replaceAtomic() removes what create() left when it throws, and rethrows that error", () => {
  const dir = tempDir();
  writeFileSync(join(dir, "f"), "old");
  const boom = Object.assign(new Error("disk full"), { code: "ENOSPC" });
  assert.throws(
    () =>
      replaceAtomic(join(dir, "f"), (temp) => {
        writeFileSync(temp, "half");
        throw boom;
      }),
    (e) => e === boom,
  );
  assert.deepEqual(readdirSync(dir), ["f"]);
  assert.equal(readFileSync(join(dir, "f"), "utf8"), "old");
});

test("replaceAtomic() switches a symlink in one step", () => {
  const dir = tempDir();
  const link = join(dir, "stable");
  replaceAtomic(link, (temp) => symlinkSync("1.0.0", temp));
  replaceAtomic(link, (temp) => symlinkSync("2.0.0", temp));
  assert.ok(lstatSync(link).isSymbolicLink());
  assert.equal(readlinkSync(link), "2.0.0");
  assert.deepEqual(readdirSync(dir), ["stable"]);
});

test("isAtomicTemp() tells the temp names of a write from other files", () => {
  const dir = tempDir();
  let seen = "";
  try {
    replaceAtomic(join(dir, "x.retry"), (temp) => {
      seen = temp.slice(dir.length + 1);
      throw new Error("stop here");
    });
  } catch { /* only the name matters */ }
  assert.ok(isAtomicTemp(seen), seen);
  assert.equal(isAtomicTemp("x.retry"), false);
  assert.equal(isAtomicTemp("000000000000001-ab12-3.retry"), false);
});
