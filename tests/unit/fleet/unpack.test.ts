import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, lstatSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { join } from "node:path";
import { packTar, type TarEntry } from "modern-tar";
import { FleetError, unpackTarSafely } from "../../../src/fleet/mod.ts";
import { tempDir } from "./_helpers.ts";

function stream(data: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({ start: (c) => (c.enqueue(data), c.close()) });
}

async function unpackEntries(entries: TarEntry[], maxBytes?: number) {
  const dir = tempDir("fleet-unpack-");
  const dest = join(dir, "pkg");
  try {
    await unpackTarSafely(stream(await packTar(entries)), dest, { maxBytes });
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

test("unpackTarSafely() refuses content past the size cap", async () => {
  const { dir, error } = await unpackEntries([
    { header: { name: "a", size: 6, type: "file" }, body: "123456" },
    { header: { name: "b", size: 6, type: "file" }, body: "123456" },
  ], 10);
  assert.equal(error?.code, "unsafe_archive");
  assert.match(error!.message, /more than 10 bytes/);
  rmSync(dir, { recursive: true });
});
