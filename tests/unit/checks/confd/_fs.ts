/** A conf.d tree on disk for one test, under the test file's temp directory. */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

let n = 0;

/** Makes `<root>/<unique>/` holding `files` (relative path → text) and returns its path. */
export function confd(root: string, files: Record<string, string>): string {
  const dir = join(root, `t${n++}`);
  mkdirSync(dir, { recursive: true });
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}
