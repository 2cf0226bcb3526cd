/**
 * Installs the external tools some tests use into the project-local `.tools/bin`, built from
 * source at pinned versions so every machine runs the same ones.
 *
 *   bun scripts/tools.ts [--force]
 *
 * - aws-lambda-rie: the AWS Lambda Runtime Interface Emulator (a Go module; `go install`).
 *   Its repository has no semver tags, so it is pinned to a commit's pseudo-version.
 * Prints where each tool is; exits 1 when one cannot be built (Go missing, no module proxy).
 */
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const ROOT = resolve(import.meta.dirname, "..");
/** Where the tools go; tests look there. */
export const TOOLS_BIN = join(ROOT, ".tools", "bin");

/** The Go tools, at pinned versions. */
const GO_TOOLS = [
  {
    name: "aws-lambda-rie",
    module: "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie",
    version: "v0.0.0-20261030222936-bef5c4ba774d",
  },
];

if (import.meta.main) {
  const { values } = parseArgs({ options: { force: { type: "boolean", default: false } } });
  mkdirSync(TOOLS_BIN, { recursive: true });
  let failed = false;
  for (const tool of GO_TOOLS) {
    const bin = join(TOOLS_BIN, tool.name);
    if (existsSync(bin) && !values.force) {
      console.log(`${tool.name}: ${bin} (already built; --force rebuilds)`);
      continue;
    }
    const go = Bun.spawnSync({
      cmd: ["go", "install", `${tool.module}@${tool.version}`],
      env: { ...process.env, GOBIN: TOOLS_BIN, CGO_ENABLED: "0" },
      stdout: "inherit",
      stderr: "inherit",
    });
    if (go.exitCode !== 0 || !existsSync(bin)) {
      console.error(`${tool.name}: go install ${tool.module}@${tool.version} failed`);
      failed = true;
      continue;
    }
    console.log(`${tool.name}: ${bin} (${tool.version})`);
  }
  process.exit(failed ? 1 : 0);
}
