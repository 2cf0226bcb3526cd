import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { join } from "node:path";
import { packTar, type TarEntry } from "modern-tar";
import { FleetError } from "../../../src/fleet/_errors.ts";
import { unpackTarSafely } from "../../../src/fleet/_unpack.ts";
import { tempDir } from "./_helpers.ts";

function stream(data: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({ start: (c) => (c.enqueue(data), c.close()) });
}

async function unpackEntries(entries: TarEntry[], maxBytes?: number, maxEntries?: number) {
  const dir = tempDir("fleet-unpack-");
  const dest = join(dir, "pkg");
  try {
    await unpackTarSafely(stream(await packTar(entries)), dest, { maxBytes, maxEntries });
    return { dir, dest, error: null as FleetError | null };
  } catch (e) {
    return { dir, dest, error: e as FleetError };
  }
}

test("unpackTarSafely() writes files, directories, modes and in-package symlinks", async () => {
  const { dir, dest, error } = await unpackEntries([
    { header: { name: "./", size: 0, type: "directory" } },
    { header: { name: "bin/", size: 0, type: "directory", mode: 0o755 } },
    { header: { name: "bin/outpost", size: 2, type: "file", mode: 0o755 }, body: "hi" },
    { header: { name: "bin/agent", size: 0, type: "symlink", linkname: "outpost" } },
    { header: { name: "etc/conf", size: 1, type: "file", mode: 0o640 }, body: "x" },
  ]);
  assert.equal(error, null);
  assert.equal(readFileSync(join(dest, "bin/outpost"), "utf8"), "hi");
  assert.equal(lstatSync(join(dest, "bin/outpost")).mode & 0o777, 0o755);
  assert.equal(lstatSync(join(dest, "etc/conf")).mode & 0o777, 0o640);
  assert.equal(readlinkSync(join(dest, "bin/agent")), "outpost");
  rmSync(dir, { recursive: true });
});

const refused: [string, TarEntry[], RegExp][] = [
  [
    "a ../ entry",
    [{ header: { name: "../evil", size: 1, type: "file" }, body: "x" }],
    /"\.\." is not allowed/,
  ],
  [
    "a nested ../ entry",
    [{ header: { name: "a/../../evil", size: 1, type: "file" }, body: "x" }],
    /"\.\." is not allowed/,
  ],
  [
    "an absolute path",
    [{ header: { name: "/tmp/evil", size: 1, type: "file" }, body: "x" }],
    /absolute paths/,
  ],
  [
    "a symlink escaping the package",
    [{ header: { name: "bin/x", size: 0, type: "symlink", linkname: "../../etc/passwd" } }],
    /symlink points outside/,
  ],
  [
    "an absolute symlink",
    [{ header: { name: "x", size: 0, type: "symlink", linkname: "/etc/passwd" } }],
    /symlink points outside/,
  ],
  [
    "a hard link escaping the package",
    [{ header: { name: "x", size: 0, type: "link", linkname: "../outside" } }],
    /"\.\." is not allowed/,
  ],
  [
    "a write through an in-archive symlink",
    [
      { header: { name: "d", size: 0, type: "symlink", linkname: "." } },
      { header: { name: "d/f", size: 1, type: "file" }, body: "x" },
    ],
    /through a symlink/,
  ],
  [
    "a character device",
    [{ header: { name: "dev", size: 0, type: "character-device" } }],
    /not allowed/,
  ],
  ["a block device", [{ header: { name: "dev", size: 0, type: "block-device" } }], /not allowed/],
  ["a fifo", [{ header: { name: "p", size: 0, type: "fifo" } }], /not allowed/],
  [
    "a setuid file",
    [{ header: { name: "su", size: 1, type: "file", mode: 0o4755 }, body: "x" }],
    /setuid/,
  ],
  [
    "a setgid directory",
    [{ header: { name: "g/", size: 0, type: "directory", mode: 0o2755 } }],
    /setuid/,
  ],
];

for (const [what, entries, message] of refused) {
  test(`unpackTarSafely() refuses ${what}`, async () => {
    const { dir, error } = await unpackEntries(entries);
    assert.ok(error instanceof FleetError, `expected a refusal, got ${error}`);
    assert.equal(error.code, "unsafe_archive");
    assert.match(error.message, message);
    assert.equal(existsSync(join(dir, "evil")), false);
    rmSync(dir, { recursive: true });
  });
}

test("unpackTarSafely() refuses an archive whose tar stream passes the size cap", async () => {
  const { dir, error } = await unpackEntries([
    { header: { name: "a", size: 6, type: "file" }, body: "123456" },
    { header: { name: "b", size: 6, type: "file" }, body: "123456" },
  ], 1000);
  assert.equal(error?.code, "too_large");
  assert.equal(
    error!.message,
    "Refused to unpack the archive: it expands past the cap of 1000 bytes (fleet.max_package_size)",
  );
  rmSync(dir, { recursive: true });
});

test("unpackTarSafely() normalizes modes: no group or other write on files and directories", async () => {
  const { dir, dest, error } = await unpackEntries([
    { header: { name: "open/", size: 0, type: "directory", mode: 0o777 } },
    { header: { name: "shut/", size: 0, type: "directory", mode: 0o000 } },
    { header: { name: "bin/outpost", size: 2, type: "file", mode: 0o777 }, body: "hi" },
    { header: { name: "etc/conf", size: 1, type: "file", mode: 0o666 }, body: "x" },
    { header: { name: "etc/owner", size: 1, type: "file", mode: 0o620 }, body: "x" },
    // A directory entry after its content (made as a parent first) still gets its mode fixed.
    { header: { name: "bin/", size: 0, type: "directory", mode: 0o775 } },
  ]);
  assert.equal(error, null);
  const mode = (p: string) => lstatSync(join(dest, p)).mode & 0o7777;
  assert.equal(mode("open"), 0o755);
  assert.equal(mode("shut"), 0o700);
  assert.equal(mode("bin"), 0o755);
  assert.equal(mode("etc"), 0o755);
  assert.equal(mode("bin/outpost"), 0o755);
  assert.equal(mode("etc/conf"), 0o644);
  assert.equal(mode("etc/owner"), 0o600);
  rmSync(dir, { recursive: true });
});

test("unpackTarSafely() refuses a chained symlink that resolves outside, though each looks inside", async () => {
  // "d/up" leads to the package root; "d/out" = "d/up/.." is the root's parent, while the
  // text "d/up/.." alone normalizes to "d".
  const { dir, error } = await unpackEntries([
    { header: { name: "d/", size: 0, type: "directory" } },
    { header: { name: "d/up", size: 0, type: "symlink", linkname: ".." } },
    { header: { name: "d/out", size: 0, type: "symlink", linkname: "up/.." } },
  ]);
  assert.equal(error?.code, "unsafe_archive");
  assert.equal(
    error!.message,
    'Refused to unpack "d/out": the symlink resolves outside the package (up/..)',
  );
  rmSync(dir, { recursive: true });
});

test("unpackTarSafely() refuses a dangling chained symlink that would leave the package", async () => {
  const { dir, error } = await unpackEntries([
    { header: { name: "a/b/", size: 0, type: "directory" } },
    { header: { name: "a/b/top", size: 0, type: "symlink", linkname: "../.." } },
    { header: { name: "a/b/far", size: 0, type: "symlink", linkname: "top/../missing" } },
  ]);
  assert.equal(error?.code, "unsafe_archive");
  assert.match(error!.message, /^Refused to unpack "a\/b\/far": the symlink resolves outside/);
  rmSync(dir, { recursive: true });
});

test("unpackTarSafely() keeps chained and dangling symlinks that stay inside", async () => {
  const { dir, dest, error } = await unpackEntries([
    { header: { name: "lib/real", size: 1, type: "file" }, body: "x" },
    { header: { name: "lib/one", size: 0, type: "symlink", linkname: "real" } },
    { header: { name: "bin/two", size: 0, type: "symlink", linkname: "../lib/one" } },
    { header: { name: "bin/later", size: 0, type: "symlink", linkname: "../run/not-yet" } },
  ]);
  assert.equal(error, null);
  assert.equal(readFileSync(join(dest, "bin/two"), "utf8"), "x");
  assert.equal(readlinkSync(join(dest, "bin/later")), "../run/not-yet");
  rmSync(dir, { recursive: true });
});

test("unpackTarSafely() refuses a hard link to a symlink", async () => {
  // Linked elsewhere, the link text "../.." would name the package's parent.
  const { dir, error } = await unpackEntries([
    { header: { name: "a/b/root", size: 0, type: "symlink", linkname: "../.." } },
    { header: { name: "top", size: 0, type: "link", linkname: "a/b/root" } },
  ]);
  assert.equal(error?.code, "unsafe_archive");
  assert.equal(
    error!.message,
    'Refused to unpack "top": the hard link must name a regular file of the package (a/b/root)',
  );
  rmSync(dir, { recursive: true });
});

test("unpackTarSafely() refuses an archive with more entries than the cap, writing at most the cap", async () => {
  const entries: TarEntry[] = Array.from({ length: 50 }, (_, i) => ({
    header: { name: `f/${i}`, size: 1, type: "file" as const },
    body: "x",
  }));
  const { dir, dest, error } = await unpackEntries(entries, undefined, 20);
  assert.equal(error?.code, "too_large");
  assert.equal(
    error!.message,
    "Refused to unpack the archive: it holds more than 20 entries (fleet.max_package_entries)",
  );
  assert.ok(readdirSync(join(dest, "f")).length <= 20);
  rmSync(dir, { recursive: true });
});
