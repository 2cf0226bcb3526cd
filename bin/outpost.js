#!/usr/bin/env node
/**
 * The `outpost` command of an npm install (`npx outpost status`): runs `cli/main.ts` with the
 * Bun that npm installed, since Node cannot run the TypeScript sources. Arguments, stdio,
 * signals and the exit status pass through, so it behaves as the compiled binary would.
 *
 * Plain JavaScript on purpose: it is the one file Node runs.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { constants } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The Bun executable of the `bun` npm package, found through its `bin` entry. */
function bunPath() {
  const manifest = createRequire(join(root, "package.json")).resolve("bun/package.json");
  const { bin } = JSON.parse(readFileSync(manifest, "utf8"));
  return join(dirname(manifest), typeof bin === "string" ? bin : bin.bun);
}

let bun;
try {
  bun = bunPath();
} catch {
  console.error(
    "Cannot find Bun in node_modules: run npm install (with dev dependencies) in the outpost checkout",
  );
  process.exit(1);
}

const child = spawn(bun, [join(root, "cli", "main.ts"), ...process.argv.slice(2)], {
  stdio: "inherit",
});

// A signal sent to this process alone (a supervisor's SIGTERM) must reach the agent; one from
// the terminal reaches both, and the agent takes a second stop request as the first.
const forwarded = ["SIGTERM", "SIGINT", "SIGHUP"];
const forward = (signal) => child.kill(signal);
for (const signal of forwarded) process.on(signal, forward);

child.on("error", (e) => {
  console.error(`Cannot run ${bun}: ${e.message}`);
  process.exit(1);
});

child.on("exit", (code, signal) => {
  if (signal) {
    // Die of the same signal, so the caller sees what the agent saw (128 + n in a shell);
    // the exit code says the same where Node ignores that signal (SIGPIPE).
    process.exitCode = 128 + (constants.signals[signal] ?? 0);
    for (const s of forwarded) process.off(s, forward);
    process.kill(process.pid, signal);
    return;
  }
  process.exit(code ?? 1);
});
