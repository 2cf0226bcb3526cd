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

/** A Go command at a pinned version. */
export interface GoTool {
  name: string;
  module: string;
  version: string;
}

/** The Go tools the tests need. */
const GO_TOOLS: GoTool[] = [
  {
    name: "aws-lambda-rie",
    module: "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie",
    version: "v0.0.0-20261030222936-bef5c4ba774d",
  },
];

/**
 * Builds `tool` into TOOLS_BIN with `go install` unless it is there already (or `force`).
 * Returns the binary's path, or undefined (with the reason on stderr) when it cannot be built.
 */
export function goInstall(tool: GoTool, force = false): string | undefined {
  mkdirSync(TOOLS_BIN, { recursive: true });
  const bin = join(TOOLS_BIN, tool.name);
  if (existsSync(bin) && !force) return bin;
  const go = Bun.spawnSync({
    cmd: ["go", "install", `${tool.module}@${tool.version}`],
    env: { ...process.env, GOBIN: TOOLS_BIN, CGO_ENABLED: "0" },
    stdout: "inherit",
    stderr: "inherit",
  });
  if (go.exitCode !== 0 || !existsSync(bin)) {
    console.error(`${tool.name}: go install ${tool.module}@${tool.version} failed`);
    return undefined;
  }
  return bin;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { force: { type: "boolean", default: false } } });
  let failed = false;
  for (const tool of GO_TOOLS) {
    const bin = goInstall(tool, values.force);
    if (bin) console.log(`${tool.name}: ${bin} (${tool.version})`);
    else failed = true;
  }
  process.exit(failed ? 1 : 0);
}
