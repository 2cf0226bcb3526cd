/**
 * Makes `.venv-pychecks` at the project root: a Python venv with the real
 * `datadog-checks-base` and its pinned dependencies (tests/python/requirements.txt), which the
 * Python check tests run against (`.venv-pychecks/bin/python`).
 *
 *   bun scripts/pyenv.ts
 *
 * Idempotent: a stamp file in the venv holds the sha256 of the requirements it was made from;
 * when it matches, nothing is done. Otherwise the venv is made anew (`python3 -m venv --clear`)
 * and `pip install --no-deps -r` installs the pins (they are the whole set, so pip resolves
 * nothing). Prints what it did; exits 1 on failure.
 */
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "..");
const VENV = join(ROOT, ".venv-pychecks");
const REQUIREMENTS = join(ROOT, "tests", "python", "requirements.txt");
const STAMP = join(VENV, ".outpost-requirements.sha256");

function sh(cmd: string[]): void {
  console.log(`$ ${cmd.map((c) => c.replace(ROOT + "/", "")).join(" ")}`);
  const r = spawnSync(cmd[0]!, cmd.slice(1), { cwd: ROOT, stdio: "inherit" });
  if (r.status !== 0) {
    const why = r.error ? r.error.message : `exit code ${r.status ?? r.signal}`;
    console.error(`pyenv: ${cmd[0]} failed (${why})`);
    process.exit(1);
  }
}

const hash = createHash("sha256").update(readFileSync(REQUIREMENTS)).digest("hex");
const python = join(VENV, "bin", "python");
if (existsSync(python) && existsSync(STAMP) && readFileSync(STAMP, "utf8").trim() === hash) {
  console.log(`pyenv: .venv-pychecks is up to date (requirements ${hash.slice(0, 12)})`);
  process.exit(0);
}
const started = performance.now();
sh(["python3", "-m", "venv", "--clear", VENV]);
sh([python, "-m", "pip", "install", "--quiet", "--no-deps", "-r", REQUIREMENTS]);
sh([python, "-c", "import datadog_checks.base"]);
writeFileSync(STAMP, hash + "\n");
const s = ((performance.now() - started) / 1000).toFixed(1);
console.log(`pyenv: made .venv-pychecks with tests/python/requirements.txt in ${s} s`);
