/**
 * `npm run bench`: runs every benchmark script in this folder, one after the other.
 * Scripts that measure the compiled binary need `npm run build` first.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";

const dir = import.meta.dirname;
const scripts = readdirSync(dir).filter((f) =>
  f.endsWith(".ts") && !f.startsWith("_") && f !== "run.ts"
).sort();
let failed = 0;
for (const s of scripts) {
  console.log(`\n=== ${s}`);
  const r = Bun.spawnSync({
    cmd: [process.execPath, join(dir, s)],
    stdout: "inherit",
    stderr: "inherit",
  });
  if (r.exitCode !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
