/** Shared fixtures of the fleet unit tests: temp roots and unpacked package directories. */
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A fresh temp directory. */
export function tempDir(prefix = "fleet-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** An unpacked package version in `<root>/tmp/<name>`: `bin/outpost` printing its version. */
export function unpacked(root: string, version: string): string {
  const dir = join(root, "tmp", `${version}-${Math.random().toString(16).slice(2)}`);
  mkdirSync(join(dir, "bin"), { recursive: true });
  const bin = join(dir, "bin", "outpost");
  writeFileSync(bin, `#!/bin/sh\necho ${version}\n`);
  chmodSync(bin, 0o755);
  return dir;
}
