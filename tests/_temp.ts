/**
 * Temp directories for tests, removed once the test (or file) that made them is done, so a
 * run leaves nothing in the system's temp directory.
 */
import { after } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A fresh directory `<tmpdir>/<prefix>XXXXXX`, removed with everything in it after the current
 * test (Bun) or test file (Deno); called at a file's top level, after that file's tests.
 * Not to be called at the top level of a shared helper module: its hook would belong to
 * whichever file loaded the helper first.
 */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
