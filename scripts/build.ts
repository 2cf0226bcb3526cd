/**
 * Builds the single executable for each Linux target with `bun build --compile`.
 *
 *   bun scripts/build.ts                      # all four targets
 *   bun scripts/build.ts --target linux-x64   # one (repeatable)
 *   bun scripts/build.ts --target linux-x64 --version 2.0.0 --outfile /tmp/v2/outpost
 *   bun scripts/build.ts --target linux-x64 --broken   # `run` exits 1 (fleet rollback tests)
 *
 * Cross-compiling needs the Bun runtime of each target. Bun would download it from its
 * release site, which this project must not depend on, so the script takes it from the
 * target's `@oven/bun-*` package on the npm registry (`npm pack`) and caches it in `.cache/`.
 * Version, commit, build date (`SOURCE_DATE_EPOCH` when set) and target are baked in with
 * `--define`.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import pkg from "../package.json" with { type: "json" };

const ROOT = resolve(import.meta.dirname, "..");
const DIST = join(ROOT, "dist");
const CACHE = join(ROOT, ".cache", "bun-runtimes");

/** Our target name → Bun's target and the npm package that holds that Bun binary. */
const TARGETS: Record<string, { bun: string; pkg: string }> = {
  "linux-x64": { bun: "bun-linux-x64", pkg: "@oven/bun-linux-x64" },
  "linux-arm64": { bun: "bun-linux-arm64", pkg: "@oven/bun-linux-aarch64" },
  "linux-x64-musl": { bun: "bun-linux-x64-musl", pkg: "@oven/bun-linux-x64-musl" },
  "linux-arm64-musl": { bun: "bun-linux-arm64-musl", pkg: "@oven/bun-linux-aarch64-musl" },
};

const { values } = parseArgs({
  options: {
    target: { type: "string", multiple: true },
    version: { type: "string" },
    outfile: { type: "string" },
    broken: { type: "boolean" },
  },
});
const version = values.version ?? pkg.version;
const targets = values.target ?? Object.keys(TARGETS);
if (values.outfile && targets.length !== 1) fail("--outfile needs exactly one --target");
for (const t of targets) {
  if (!TARGETS[t]) {
    fail(`Unknown target "${t}": expected one of ${Object.keys(TARGETS).join(", ")}`);
  }
}

const commit = git(["rev-parse", "--short=10", "HEAD"]) ?? "none";
// SOURCE_DATE_EPOCH (seconds) makes the date, and so the binary, reproducible.
const epoch = Number(process.env.SOURCE_DATE_EPOCH);
const buildDate = new Date(Number.isFinite(epoch) && epoch > 0 ? epoch * 1000 : Date.now())
  .toISOString().replace(/\.\d{3}Z$/, "Z");
mkdirSync(DIST, { recursive: true });

for (const name of targets) {
  const started = performance.now();
  const outfile = values.outfile ? resolve(values.outfile) : join(DIST, `outpost-${name}`);
  const cmd = [
    process.execPath,
    "build",
    join(ROOT, "cli/main.ts"),
    "--compile",
    "--minify",
    "--bytecode",
    `--target=${TARGETS[name].bun}`,
    `--compile-executable-path=${await bunBinary(name)}`,
    `--outfile=${outfile}`,
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-bunfig",
    `--define=OUTPOST_VERSION=${JSON.stringify(version)}`,
    `--define=OUTPOST_COMMIT=${JSON.stringify(commit)}`,
    `--define=OUTPOST_TARGET=${JSON.stringify(name)}`,
    `--define=OUTPOST_BUILD_DATE=${JSON.stringify(buildDate)}`,
    ...(values.broken ? [`--define=OUTPOST_BROKEN="1"`] : []),
  ];
  const res = Bun.spawnSync({ cmd, cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if (res.exitCode !== 0) {
    fail(`bun build for ${name} failed:\n${res.stderr.toString()}${res.stdout.toString()}`);
  }
  console.log(
    `built ${outfile.replace(ROOT + "/", "")} in ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s`,
  );
}

// SHA256SUMS covers every binary present in dist/, in `sha256sum -c` format.
if (values.outfile) process.exit(0);
const sums = Object.keys(TARGETS)
  .map((t) => `outpost-${t}`)
  .filter((f) => existsSync(join(DIST, f)))
  .map((f) => `${createHash("sha256").update(readFileSync(join(DIST, f))).digest("hex")}  ${f}`);
writeFileSync(join(DIST, "SHA256SUMS"), sums.join("\n") + "\n");
console.log(`wrote dist/SHA256SUMS (${sums.length} files)`);

/** The Bun binary for `target`, fetched once from its npm package into the cache. */
async function bunBinary(target: string): Promise<string> {
  const { pkg: name } = TARGETS[target];
  const local = join(ROOT, "node_modules", name, "bin", "bun");
  if (existsSync(local)) return local; // the host's own platform package, installed by npm
  const dir = join(CACHE, `${name.replace("@oven/", "")}-${Bun.version}`);
  const bin = join(dir, "package", "bin", "bun");
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const pack = Bun.spawnSync({
    cmd: ["npm", "pack", `${name}@${Bun.version}`, "--pack-destination", dir, "--silent"],
    stdout: "pipe",
    stderr: "pipe",
  });
  if (pack.exitCode !== 0) {
    fail(`Cannot fetch ${name}@${Bun.version} with npm pack:\n${pack.stderr.toString()}`);
  }
  const tgz = join(dir, pack.stdout.toString().trim().split("\n").at(-1)!);
  const untar = Bun.spawnSync({ cmd: ["tar", "-xzf", tgz, "-C", dir], stderr: "pipe" });
  if (untar.exitCode !== 0 || !existsSync(bin)) {
    fail(`Cannot unpack ${tgz}: ${untar.stderr.toString()}`);
  }
  return bin;
}

function git(args: string[]): string | null {
  const r = Bun.spawnSync({ cmd: ["git", ...args], cwd: ROOT, stdout: "pipe", stderr: "ignore" });
  return r.exitCode === 0 ? r.stdout.toString().trim() : null;
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}
