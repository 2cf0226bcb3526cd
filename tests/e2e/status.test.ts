/** `outpost status` against the compiled binary (env OUTPOST_BIN). */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runtime } from "../../src/runtime/mod.ts";
import type { HttpServer } from "../../src/runtime/mod.ts";

const BIN = process.env.OUTPOST_BIN;
if (!BIN) throw new Error("Set OUTPOST_BIN to the compiled binary (bun scripts/build.ts)");
const dir = mkdtempSync(join(tmpdir(), "outpost-status-e2e-"));

async function freePort(): Promise<number> {
  const s = await runtime.serve({ hostname: "127.0.0.1", port: 0 }, () => new Response());
  const port = s.port;
  await s.close();
  return port;
}

/** Runs the binary to completion; `cwd` and extra `env` optional. */
function outpost(...args: string[]) {
  return outpostIn({}, ...args);
}
function outpostIn(
  { cwd, env = {} }: { cwd?: string; env?: Record<string, string> },
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      BIN!,
      args,
      { cwd, env: { ...process.env, NO_COLOR: "", ...env }, timeout: 20_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

/** Polls `status -j` until the agent answers. */
async function waitForAgent(
  ctx: { cwd?: string; env?: Record<string, string> },
  ...args: string[]
) {
  for (let i = 0; i < 100; i++) {
    if ((await outpostIn(ctx, "status", "-j", ...args)).code === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the agent did not answer within 10 s");
}

function config(name: string, keys: Record<string, unknown>): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(
    path,
    Object.entries(keys).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join("\n"),
  );
  return path;
}

/** Asserts exit 1 with exactly one line on stderr matching `re`, nothing on stdout. */
function oneLineFailure(r: { code: number; stdout: string; stderr: string }, re: RegExp) {
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, "");
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], re);
}

let html: HttpServer;
after(async () => {
  await html?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("outpost status without an agent", () => {
  it("prints one line and exits 1 when no agent ever ran (no token)", async () => {
    const port = await freePort();
    const cfg = config("never-ran", { cmd_port: port, auth_token_file_path: join(dir, "none") });
    oneLineFailure(
      await outpost("status", "-c", cfg),
      new RegExp(
        `^Could not reach the agent at http://127\\.0\\.0\\.1:${port}: is it running\\? \\(`,
      ),
    );
  });

  it("prints one line and exits 1 when the agent is stopped", async () => {
    const port = await freePort();
    const token = join(dir, "token-stopped");
    writeFileSync(token, "ab".repeat(32), { mode: 0o600 });
    const cfg = config("stopped", { cmd_port: port, auth_token_file_path: token });
    oneLineFailure(
      await outpost("status", "-c", cfg),
      new RegExp(`^Could not reach the agent at http://127\\.0\\.0\\.1:${port}: is it running\\?$`),
    );
  });
});

describe("outpost status --expvar-url", () => {
  before(async () => {
    html = await runtime.serve(
      { hostname: "127.0.0.1", port: 0 },
      () =>
        new Response("<!doctype html><html><body>Sign in</body></html>", {
          headers: { "content-type": "text/html" },
        }),
    );
  });

  it("a closed port gives one connection error line and exit 1", async () => {
    const url = `http://127.0.0.1:${await freePort()}/debug/vars`;
    oneLineFailure(
      await outpost("status", "-c", config("plain", {}), "--expvar-url", url),
      new RegExp(`^Cannot connect to ${url.replaceAll(".", "\\.")}: connection refused$`),
    );
  });

  it("an HTML answer gives one 'not JSON' line and exit 1", async () => {
    oneLineFailure(
      await outpost(
        "status",
        "-c",
        config("plain", {}),
        "--expvar-url",
        `http://127.0.0.1:${html.port}/`,
      ),
      /is not a JSON object \(text\/html, starts with "<!doctype html>/,
    );
  });
});

describe("outpost status with a running agent", () => {
  let agent: ChildProcess;
  let cfg: string;
  let expvarPort: number;

  before(async () => {
    expvarPort = await freePort();
    cfg = config("running", {
      cmd_port: await freePort(),
      expvar_port: expvarPort,
      gui_port: -1,
      hostname: "e2e-host",
      run_path: join(dir, "run"),
      tags: ["role:test"],
    });
    agent = spawn(BIN!, ["run", "--dev", "-c", cfg], { stdio: "ignore" });
    await waitForAgent({}, "-c", cfg);
  });
  after(() => {
    agent?.kill("SIGTERM");
  });

  it("prints the text status, plain when stdout is not a terminal", async () => {
    const r = await outpost("status", "-c", cfg);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^=+\nOutpost \(v\d+\.\d+\.\d+.*\)\n=+\n {2}Status date: /);
    assert.match(r.stdout, /Runtime: bun /);
    assert.match(r.stdout, /Config File: .*running\.yaml/);
    assert.match(
      r.stdout,
      /\nHost Metadata\n=+\n {2}Hostname: e2e-host\n {2}Hostname provider: configuration\n/,
    );
    assert.ok(!r.stdout.includes("\x1b["), "no ANSI codes in a pipe");
  });

  it("--json and --pretty-json print the status object", async () => {
    const compact = await outpost("status", "-c", cfg, "--json");
    const s = JSON.parse(compact.stdout);
    assert.equal(compact.stdout.trim().split("\n").length, 1);
    assert.equal(s.hostnameStats.hostname, "e2e-host");
    assert.equal(s.runtime, "bun");
    const pretty = await outpost("status", "-c", cfg, "-p");
    assert.deepEqual(Object.keys(JSON.parse(pretty.stdout)), Object.keys(s));
    assert.ok(pretty.stdout.split("\n").length > 10);
  });

  it("status SECTION prints one section; an unknown one exits 1 naming the sections", async () => {
    const r = await outpost("status", "metadata", "-c", cfg);
    assert.match(r.stdout, /^=+\nHost Metadata\n/);
    assert.ok(!r.stdout.includes("Outpost (v"));
    oneLineFailure(
      await outpost("status", "nope", "-c", cfg),
      /answered 404: Unknown status section "nope": expected one of collector, aggregator, apm, dogstatsd, forwarder, logs, metadata$/,
    );
  });

  it("--list prints the sections, collector first then alphabetical", async () => {
    const r = await outpost("status", "-c", cfg, "--list");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "collector\naggregator\napm\ndogstatsd\nforwarder\nlogs\nmetadata\n");
  });

  it("--expvar-url at the agent's /debug/vars builds the remote status, dated in ns", async () => {
    const before = Date.now();
    const r = await outpost(
      "status",
      "-c",
      cfg,
      "-j",
      "--expvar-url",
      `http://127.0.0.1:${expvarPort}/debug/vars`,
    );
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.ok(s.date >= before * 1e6 && s.date < (Date.now() + 1000) * 1e6, `date ${s.date}`);
    assert.equal(s.core.metadata.internalHostname, "e2e-host");
    assert.deepEqual(s.expvars.process_agent.cmdline.slice(-4), ["run", "--dev", "-c", cfg]);
    assert.ok(s.expvars.process_agent.memstats.Alloc > 0);
  });
});

describe("outpost status beside `outpost run --dev` with no config file", () => {
  let agent: ChildProcess;
  const cwd = join(dir, "dev");
  let env: Record<string, string>;

  before(async () => {
    mkdirSync(cwd);
    env = { DD_CMD_PORT: String(await freePort()), DD_EXPVAR_PORT: String(await freePort()) };
    agent = spawn(BIN!, ["run", "--dev"], {
      cwd,
      env: { ...process.env, ...env },
      stdio: "ignore",
    });
    await waitForAgent({ cwd, env });
  });
  after(() => {
    agent?.kill("SIGTERM");
  });

  it("finds the token the dev agent created under .outpost/run", async () => {
    const r = await outpostIn({ cwd, env }, "status");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /There is no config file/);
  });
});
