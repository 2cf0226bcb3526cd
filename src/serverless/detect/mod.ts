/**
 * Whether a started `outpost` should run as a Lambda extension. Apart from the rest of the
 * Lambda mode, because every command asks it first: importing the mode's module graph to
 * answer it cost each `outpost` command about 25 ms (`scripts/bench/startup.ts`).
 *
 * @module
 */
import { basename } from "node:path";

/** Where Lambda runs external extensions: each executable file there is one extension. */
export const EXTENSIONS_DIR = "/opt/extensions";

/** The environment variables the Lambda mode reads. */
export type LambdaEnv = Record<string, string | undefined>;

/**
 * Whether this process should run as a Lambda extension without being told: the executable
 * lives in `/opt/extensions/`, or the Runtime API is set and the executable is not named like
 * the `outpost` CLI (so `outpost run` in a Lambda container image still runs the agent).
 *
 * @example
 * ```ts
 * import { isLambdaExtension } from "./mod.ts";
 * console.assert(isLambdaExtension("/opt/extensions/outpost", {}));
 * console.assert(!isLambdaExtension("/usr/bin/outpost", { AWS_LAMBDA_RUNTIME_API: "127.0.0.1:9001" }));
 * ```
 */
export function isLambdaExtension(execPath: string, env: LambdaEnv): boolean {
  if (execPath.startsWith(`${EXTENSIONS_DIR}/`)) return true;
  const name = basename(execPath);
  const isCli = name === "outpost" || name.startsWith("outpost-");
  return !isCli && !!env.AWS_LAMBDA_RUNTIME_API;
}
