/** Helpers for tests that run the compiled binary (path in OUTPOST_BIN). */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The binary under test. */
export const BIN = process.env.OUTPOST_BIN ?? "";
if (!BIN) {
  throw new Error(
    "OUTPOST_BIN is not set: build with `bun scripts/build.ts --target linux-x64` and point it at dist/",
  );
}

import { freePort } from "../../scripts/bench/_agent.ts";

export { freePort };

/** Runs the binary to completion. */
export async function outpost(args: string[], env: Record<string, string> = {}, cwd?: string) {
  const proc = Bun.spawn({
    cmd: [BIN, ...args],
    env: { PATH: process.env.PATH ?? "", ...env },
    cwd,
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

// Removed when the test process exits, not after a test: agents started in a before() hook
// keep their directory for the whole describe block.
const made: string[] = [];
process.on("exit", () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A temp directory holding `datadog.yaml` with the given content; removed at exit. */
export function configDir(yaml: string): { dir: string; config: string } {
  const dir = mkdtempSync(join(tmpdir(), "outpost-e2e-"));
  made.push(dir);
  const config = join(dir, "datadog.yaml");
  writeFileSync(config, yaml);
  return { dir, config };
}

/** A running `outpost run`, ready when its health route answers. */
export interface RunningAgent {
  proc: ReturnType<typeof Bun.spawn>;
  dir: string;
  port: number;
  token: string;
  /** Output collected so far. */
  stderr(): string;
  api(path: string, init?: RequestInit): Promise<Response>;
}

/**
 * Starts `outpost run` with a temp config on free ports (API, trace receiver; `extra` YAML is
 * appended) and waits until `/agent/status/health` answers with the token.
 */
export async function startAgent(
  extra = "",
  env: Record<string, string> = {},
): Promise<RunningAgent> {
  const port = await freePort();
  const { dir, config } = configDir("");
  // The trace receiver too, so that two agents (or a real one on 8126) never collide.
  const apm = /^apm_config:/m.test(extra)
    ? ""
    : `apm_config:\n  receiver_port: ${await freePort()}\n`;
  // The console only where a test asks for it: two agents would both want 5002.
  const gui = /^gui_port:/m.test(extra) ? "" : "gui_port: -1\n";
  writeFileSync(
    config,
    `api_key: 0123456789abcdef0123456789abcdef\ncmd_port: ${port}\nrun_path: ${
      join(dir, "run")
    }\n${apm}${gui}${extra}`,
  );
  const proc = Bun.spawn({
    cmd: [BIN, "run", "-c", config],
    // The agent's temp files (flare zips among them) go to its directory, removed at exit.
    env: { PATH: process.env.PATH ?? "", TMPDIR: dir, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  let stderr = "";
  (async () => {
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
      stderr += new TextDecoder().decode(chunk);
    }
  })();
  const tokenPath = join(dir, "auth_token");
  for (let i = 0; i < 200; i++) {
    if (proc.exitCode !== null) {
      throw new Error(`outpost run exited with ${proc.exitCode}: ${stderr}`);
    }
    try {
      const token = readFileSync(tokenPath, "utf8");
      const res = await fetch(`http://127.0.0.1:${port}/agent/status/health`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      if (res.ok) {
        return {
          proc,
          dir,
          port,
          token,
          stderr: () => stderr,
          api: (path, init = {}) =>
            fetch(`http://127.0.0.1:${port}${path}`, {
              ...init,
              headers: { Authorization: `Bearer ${token}`, ...init.headers },
            }),
        };
      }
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 25));
  }
  proc.kill("SIGKILL");
  throw new Error(`outpost run did not become healthy: ${stderr}`);
}
