import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runtime } from "../../../src/runtime/mod.ts";
import { loadConfig } from "../../../src/config/mod.ts";
import { tempDir } from "./_helpers.ts";

async function load(yaml: string) {
  const dir = tempDir("fleet-config-");
  const path = join(dir, "datadog.yaml");
  writeFileSync(path, `api_key: "${"0".repeat(32)}"\n${yaml}\n`);
  try {
    return await loadConfig(runtime, { path, env: {} });
  } finally {
    rmSync(dir, { recursive: true });
  }
}

test("fleet config: file roots are off, and the entry and catalog caps have defaults", async () => {
  const { config } = await load("");
  assert.deepEqual(config.fleet.file_roots, []);
  assert.equal(config.fleet.max_package_entries, 10_000);
  assert.equal(config.fleet.max_catalog_size, 4 * 1024 * 1024);
});

test("fleet config: a relative file root and an entry cap of 0 stop the load, naming the key", async () => {
  await assert.rejects(load('fleet: { file_roots: ["srv/pkgs"] }'), (e: Error) => {
    assert.match(
      e.message,
      /"fleet\.file_roots\.0": expected absolute paths, got string "srv\/pkgs"/,
    );
    return true;
  });
  await assert.rejects(load("fleet: { max_package_entries: 0 }"), (e: Error) => {
    assert.match(e.message, /"fleet\.max_package_entries": expected an integer of at least 1/);
    return true;
  });
  const { config } = await load('fleet: { file_roots: ["/srv/pkgs"], max_catalog_size: 1mb }');
  assert.deepEqual(config.fleet.file_roots, ["/srv/pkgs"]);
  assert.equal(config.fleet.max_catalog_size, 1024 * 1024);
});
