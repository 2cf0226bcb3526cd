/**
 * Run as an unprivileged user by logs_files.test.ts (root reads any directory): tails
 * `<dir>/locked/*.log` and `<dir>/open.log`, then prints the sources' status and the lines.
 */
import { join } from "node:path";
import { logsHarness } from "./_logs_harness.ts";

const dir = process.argv[2];
const h = logsHarness(dir, [
  { type: "file", path: join(dir, "locked", "*.log"), start_position: "beginning" },
  { type: "file", path: join(dir, "open.log"), start_position: "beginning" },
]);
await h.start();
await h.waitFor(() => h.text().includes("visible"), "the readable source");
const status = h.sources.sources().map((s) => s.status);
await h.stop();
console.log(JSON.stringify({ status, lines: h.text() }));
