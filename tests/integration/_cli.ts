/**
 * Runs the CLI from source (`cli/main.ts`) in a child process, as a user runs `outpost …`, for
 * the integration tests of the commands.
 */
import { join } from "node:path";

const MAIN = join(import.meta.dirname, "../../cli/main.ts");

/** `outpost ARGS…` with a plain environment (plus `env`): its output and exit code. */
export async function outpost(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn({
    cmd: [process.execPath, MAIN, ...args],
    env: { PATH: process.env.PATH ?? "", NO_COLOR: "1", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, code };
}
