/**
 * Bad input to the compiled agent's file tailers: a binary file, a 10 MB line, a file that
 * disappears, a directory without read permission and invalid UTF-8. Each is handled as the
 * spec says (replacement characters, `...TRUNCATED...` pieces, the tailer closed, a source
 * error), shown in `outpost status`, and the agent keeps running. As root, the agent runs as
 * `nobody` through setpriv, since root reads a directory whatever its mode.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN, outpost } from "./_binary.ts";
import { type Intake, sleep, startIntake, waitFor } from "../../scripts/bench/_agent.ts";
import { intakeLogs, logsSetup } from "./_logs.ts";

const root = mkdtempSync(join(tmpdir(), "outpost-e2e-logs-bad-"));
const logDir = join(root, "logs");
const path = (name: string) => join(logDir, name);
const asRoot = process.getuid?.() === 0;
let intake: Intake;
let proc: ReturnType<typeof Bun.spawn>;
let stderr = "";
let config: string;
let cmdPort: number;

const TEN_MB = 10 * 1024 * 1024;
const source = (p: string, service: string) =>
  `  - type: file\n    path: ${p}\n    service: ${service}\n    source: e2e\n` +
  `    start_position: beginning\n`;

before(async () => {
  mkdirSync(join(logDir, "noread"), { recursive: true });
  const binary = new Uint8Array(64 * 1024);
  for (let i = 0; i < binary.length; i++) binary[i] = (i * 7919) % 256;
  writeFileSync(path("binary.log"), binary);
  writeFileSync(path("long.log"), "L".repeat(TEN_MB) + "\nafter the long line\n");
  writeFileSync(path("gone.log"), "gone 1\ngone 2\n");
  writeFileSync(join(logDir, "noread", "secret.log"), "you cannot read me\n");
  writeFileSync(
    path("utf8.log"),
    new Uint8Array([
      ...new TextEncoder().encode("caf"),
      0xe9,
      ...new TextEncoder().encode(" ok\n"),
    ]),
  );
  intake = await startIntake(BIN, join(root, "intake"), "256mb");
  const setup = await logsSetup(root, intake.url, {
    logs: [
      source(path("binary.log"), "bad-binary"),
      source(path("long.log"), "bad-long"),
      source(path("gone.log"), "bad-gone"),
      source(join(logDir, "noread", "*.log"), "bad-noread"),
      source(path("utf8.log"), "bad-utf8"),
    ].join(""),
  });
  config = setup.config;
  cmdPort = Number(/cmd_port: (\d+)/.exec(readFileSync(config, "utf8"))![1]);
  for (const p of [root, logDir, join(root, "conf.d"), join(root, "conf.d", "app.d")]) {
    chmodSync(p, 0o777);
  }
  chmodSync(join(logDir, "noread"), 0o000);
  const cmd = asRoot
    ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", BIN, "run", "-c", config]
    : [BIN, "run", "-c", config];
  proc = Bun.spawn({
    cmd,
    stdout: "ignore",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "" },
  });
  (async () => {
    for await (const c of proc.stderr as ReadableStream<Uint8Array>) {
      stderr += new TextDecoder().decode(c);
    }
  })();
  await waitFor("the agent", async () => {
    if (proc.exitCode !== null) throw new Error(`the agent exited: ${stderr}`);
    return /started on/.test(stderr) || undefined;
  });
});

after(async () => {
  proc?.kill("SIGKILL");
  await intake?.stop();
  chmodSync(join(logDir, "noread"), 0o755);
  rmSync(root, { recursive: true, force: true });
});

async function status(): Promise<{ text: string; json: any }> {
  const token = readFileSync(join(root, "auth_token"), "utf8").trim();
  const get = (q: string) =>
    fetch(`http://127.0.0.1:${cmdPort}/agent/logs/status?${q}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
  return {
    text: await (await get("format=text")).text(),
    json: await (await get("format=json")).json(),
  };
}

function sourceOf(json: any, service: string) {
  for (const i of json.logsStats.integrations) {
    for (const s of i.sources) if (s.configuration.Service === service) return s;
  }
  throw new Error(`no source of ${service}`);
}

describe("logs bad input", { timeout: 300_000 }, () => {
  it(
    "binary content is decoded with replacement characters, counted",
    { timeout: 90_000 },
    async () => {
      const logs = await waitFor("binary events", async () => {
        const l = await intakeLogs(intake.url, "service=bad-binary");
        return l.length > 0 ? l : undefined;
      }, 20_000);
      assert.ok(logs.some((l) => l.message.includes("\ufffd")));
      const s = sourceOf((await status()).json, "bad-binary");
      assert.equal(s.status, "OK");
      assert.ok(s.info["Decoding Errors"] > 0, JSON.stringify(s.info));
    },
  );

  it("a 10 MB line arrives cut into ...TRUNCATED... pieces, and the next line whole", {
    timeout: 90_000,
  }, async () => {
    const logs = await waitFor("the line after the long one", async () => {
      const l = await intakeLogs(intake.url, "service=bad-long");
      return l.some((x) => x.message === "after the long line") ? l : undefined;
    }, 60_000);
    const pieces = logs.filter((l) => l.message.includes("LLLL"));
    assert.ok(pieces.length >= 40, `${pieces.length} pieces`);
    assert.ok(pieces[0].message.endsWith("...TRUNCATED..."));
    assert.ok(pieces[1].message.startsWith("...TRUNCATED..."));
    const ls = pieces.reduce((n, p) => n + p.message.replaceAll("...TRUNCATED...", "").length, 0);
    assert.equal(ls, TEN_MB, "every byte of the long line arrives once");
    const s = sourceOf((await status()).json, "bad-long");
    assert.ok(s.info["Lines Truncated"] > 0);
  });

  it("invalid UTF-8 is replaced, counted in status", { timeout: 90_000 }, async () => {
    const [log] = await waitFor("utf8 event", async () => {
      const l = await intakeLogs(intake.url, "service=bad-utf8");
      return l.length > 0 ? l : undefined;
    }, 20_000);
    assert.equal(log.message, "caf\ufffd ok");
    assert.ok(sourceOf((await status()).json, "bad-utf8").info["Decoding Errors"] >= 1);
  });

  it(
    "a file that disappears: its lines are sent, then it is closed or shown as an error",
    { timeout: 90_000 },
    async () => {
      await waitFor("gone events", async () => {
        const l = await intakeLogs(intake.url, "service=bad-gone");
        return l.length === 2 || undefined;
      }, 20_000);
      unlinkSync(path("gone.log"));
      const s = await waitFor("the gone file's tailer to close or its error", async () => {
        const src = sourceOf((await status()).json, "bad-gone");
        // Closed (no input left), or shown as the spec's source error.
        const shown = src.inputs.length === 0 ||
          /^Error: cannot read file .*gone\.log/.test(src.status);
        return shown ? src : undefined;
      }, 30_000).catch(async (e) => {
        const src = sourceOf((await status()).json, "bad-gone");
        throw new Error(`${e.message}: ${JSON.stringify(src)}\n${stderr.slice(-1500)}`);
      });
      console.log(
        `gone.log after removal: status ${s.status}, inputs ${JSON.stringify(s.inputs)}`,
      );
    },
  );

  it(
    "a directory without read permission is a source error in status",
    { timeout: 90_000 },
    async () => {
      const { text, json } = await status();
      const s = sourceOf(json, "bad-noread");
      console.log(`noread source (agent ${asRoot ? "as nobody" : "as this user"}): ${s.status}`);
      assert.match(s.status, /^Error: /);
      assert.match(text, /Logs Agent/);
      assert.match(text, /Status: Error: /);
    },
  );

  it(
    "the agent is still running and healthy, and status prints the section",
    { timeout: 90_000 },
    async () => {
      await sleep(200);
      assert.equal(proc.exitCode, null, stderr.slice(-2000));
      const r = await outpost(["status", "-c", config]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Logs Agent/);
      assert.match(r.stdout, /bad-long/);
    },
  );
});
