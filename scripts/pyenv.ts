/**
 * Makes the project's Python venvs at its root: `.venv-pychecks` with the real
 * `datadog-checks-base` and its pinned dependencies (tests/python/requirements.txt), which the
 * Python check tests run against, and `.venv-moto` with moto in server mode
 * (tests/python/moto-requirements.txt), which the Lambda API key tests run against.
 *
 *   bun scripts/pyenv.ts
 *
 * Idempotent, per venv: a stamp file in the venv holds the sha256 of the requirements it was made from;
 * when it matches, nothing is done. Otherwise the venv is made anew (`python3 -m venv --clear`)
 * and `pip install --no-deps -r` installs the pins (they are the whole set, so pip resolves
 * nothing). Prints what it did; exits 1 on failure.
 */
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "..");

/** Each venv: its folder, its pinned requirements and an import that proves it works. */
const VENVS = [
  { name: ".venv-pychecks", requirements: "requirements.txt", check: "import datadog_checks.base" },
  { name: ".venv-moto", requirements: "moto-requirements.txt", check: "import moto.server" },
];

function sh(cmd: string[]): void {
  console.log(`$ ${cmd.map((c) => c.replace(ROOT + "/", "")).join(" ")}`);
  const r = spawnSync(cmd[0]!, cmd.slice(1), { cwd: ROOT, stdio: "inherit" });
  if (r.status !== 0) {
    const why = r.error ? r.error.message : `exit code ${r.status ?? r.signal}`;
    console.error(`pyenv: ${cmd[0]} failed (${why})`);
    process.exit(1);
  }
}

for (const venv of VENVS) {
  const dir = join(ROOT, venv.name);
  const requirements = join(ROOT, "tests", "python", venv.requirements);
  const stamp = join(dir, ".outpost-requirements.sha256");
  const hash = createHash("sha256").update(readFileSync(requirements)).digest("hex");
  const python = join(dir, "bin", "python");
  if (existsSync(python) && existsSync(stamp) && readFileSync(stamp, "utf8").trim() === hash) {
    console.log(`pyenv: ${venv.name} is up to date (requirements ${hash.slice(0, 12)})`);
    continue;
  }
  const started = performance.now();
  sh(["python3", "-m", "venv", "--clear", dir]);
  sh([python, "-m", "pip", "install", "--quiet", "--no-deps", "-r", requirements]);
  sh([python, "-c", venv.check]);
  writeFileSync(stamp, hash + "\n");
  const s = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`pyenv: made ${venv.name} with tests/python/${venv.requirements} in ${s} s`);
}
