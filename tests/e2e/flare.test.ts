import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { unzipSync } from "fflate";
import { runtime } from "../../src/runtime/mod.ts";
import type { HttpServer } from "../../src/runtime/mod.ts";

const BIN = process.env.OUTPOST_BIN ?? join(import.meta.dirname, "../../dist/outpost-linux-x64");
const API_KEY = "0123456789abcdef0123456789abcdef";
const SUCCESS =
  "Your logs were successfully uploaded. For future reference, your internal case id is 12345";

interface Upload {
  path: string;
  apiKey: string | null;
  fields: Record<string, string>;
  files: Record<string, Uint8Array>;
}
const uploads: Upload[] = [];
let backend: HttpServer;
let dir: string;
let configPath: string;
let cmdPort: number;

/** The receiving end, configured as the flare URL through dd_url. */
function receiver(): Hono {
  const app = new Hono();
  app.get("/support/flare/:id", (c) => c.body(null, 200));
  app.post("/support/flare/:id", async (c) => {
    const form = await c.req.formData();
    const fields: Record<string, string> = {};
    for (const [k, v] of form.entries()) if (typeof v === "string") fields[k] = v;
    const file = form.get("flare_file") as File;
    uploads.push({
      path: new URL(c.req.url).pathname,
      apiKey: c.req.header("dd-api-key") ?? null,
      fields,
      files: unzipSync(new Uint8Array(await file.arrayBuffer())),
    });
    return c.json({ case_id: c.req.param("id"), request_uuid: "e2e" });
  });
  return app;
}

async function freePort(): Promise<number> {
  const s = await runtime.serve({ hostname: "127.0.0.1", port: 0 }, () => new Response());
  const port = s.port;
  await s.close();
  return port;
}

function run(
  args: string[],
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(BIN, args, {
      env: { ...process.env, TMPDIR: dir },
      stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    if (input !== undefined) p.stdin!.end(input);
    let stdout = "";
    let stderr = "";
    p.stdout!.on("data", (d) => (stdout += d));
    p.stderr!.on("data", (d) => (stderr += d));
    p.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

before(async () => {
  backend = await runtime.serve({ hostname: "127.0.0.1", port: 0 }, receiver().fetch);
  dir = mkdtempSync(join(tmpdir(), "flare-e2e-"));
  cmdPort = await freePort();
  configPath = join(dir, "datadog.yaml");
  writeFileSync(
    configPath,
    [
      `api_key: ${API_KEY}`,
      "hostname: e2e-host",
      `dd_url: http://127.0.0.1:${backend.port}`,
      `cmd_port: ${cmdPort}`,
      `run_path: ${join(dir, "run")}`,
      `log_file: ${join(dir, "outpost.log")}`,
      "log_to_console: false",
      "",
    ].join("\n"),
  );
});
after(() => backend.close());

test("outpost flare 12345 -e -s -p 1: the running agent builds the flare with profiles and it is uploaded", async () => {
  const agent = spawn(BIN, ["run", "-c", configPath], {
    env: { ...process.env, TMPDIR: dir },
    stdio: "ignore",
  });
  const exited = new Promise((r) => agent.on("exit", r));
  try {
    // Wait until the API answers with the token the agent created.
    const tokenPath = join(dir, "auth_token");
    let up = false;
    for (let i = 0; i < 200 && !up; i++) {
      await new Promise((r) => setTimeout(r, 50));
      if (!existsSync(tokenPath)) continue;
      const token = readFileSync(tokenPath, "utf8").trim();
      up = await fetch(`http://127.0.0.1:${cmdPort}/agent/version`, {
        headers: { Authorization: `Bearer ${token}` },
      })
        .then((r) => r.ok, () => false);
    }
    assert.ok(up, "the agent API did not come up");

    uploads.length = 0;
    const r = await run([
      "flare",
      "12345",
      "-e",
      "ops@example.com",
      "-s",
      "-p",
      "1",
      "-c",
      configPath,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Flare archive: .*outpost-flare-e2e-host-.*\.zip$/m);
    assert.ok(r.stdout.includes(SUCCESS), r.stdout);
    assert.equal(uploads.length, 1);
    const u = uploads[0];
    assert.equal(u.path, "/support/flare/12345");
    assert.equal(u.apiKey, API_KEY);
    assert.deepEqual(Object.keys(u.fields), [
      "case_id",
      "email",
      "source",
      "agent_version",
      "hostname",
    ]);
    assert.equal(u.fields.case_id, "12345");
    assert.equal(u.fields.email, "ops@example.com");
    assert.equal(u.fields.source, "local");
    assert.equal(u.fields.hostname, "e2e-host");
    assert.match(u.fields.agent_version, /^\d+\.\d+\.\d+/);
    // Built inside the agent: its health is there and there is no local marker.
    assert.equal(u.files["e2e-host/local"], undefined);
    assert.ok(u.files["e2e-host/health.yaml"], Object.keys(u.files).join(", "));
    assert.ok(u.files["e2e-host/flare_creation.log"]);
    const history = JSON.parse(new TextDecoder().decode(u.files["e2e-host/version-history.json"]));
    assert.equal(history.entries.at(-1).version, u.fields.agent_version);
    const cpu = JSON.parse(
      new TextDecoder().decode(u.files["e2e-host/profiles/core-cpu.cpuprofile"]),
    );
    assert.ok(Array.isArray(cpu.nodes) && Array.isArray(cpu.samples));
    const heap = JSON.parse(
      new TextDecoder().decode(u.files["e2e-host/profiles/core-1st-heap.heapsnapshot"]),
    );
    assert.ok(heap.snapshot && Array.isArray(heap.strings));
    const dd = new TextDecoder().decode(u.files["e2e-host/etc/datadog.yaml"]);
    assert.ok(!dd.includes(API_KEY) && dd.includes("cdef"));
  } finally {
    agent.kill("SIGTERM");
    await exited;
  }
});

test("outpost flare 12345 -e -s with the agent stopped: a local flare with the marker is uploaded", async () => {
  uploads.length = 0;
  const r = await run(["flare", "12345", "-e", "ops@example.com", "-s", "-c", configPath]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Could not get the flare from the agent/);
  assert.ok(r.stdout.includes(SUCCESS), r.stdout);
  assert.equal(uploads.length, 1);
  const local = new TextDecoder().decode(uploads[0].files["e2e-host/local"]);
  assert.match(local, /^unable to contact the agent to retrieve flare: /);
  assert.equal(uploads[0].fields.case_id, "12345");
  assert.equal(uploads[0].fields.email, "ops@example.com");
});

test("outpost flare -l builds a local flare and does not upload it", async () => {
  uploads.length = 0;
  const r = await run(["flare", "-l", "-c", configPath]);
  assert.equal(r.code, 0, r.stderr);
  const zip = /^Flare archive: (.*)$/m.exec(r.stdout)![1];
  const files = unzipSync(readFileSync(zip));
  assert.equal(new TextDecoder().decode(files["e2e-host/local"]), "local flare was requested\n");
  assert.equal(uploads.length, 0);
});

test("outpost flare without -s asks for confirmation and uploads only on yes", async () => {
  uploads.length = 0;
  const no = await run(["flare", "12345", "-e", "ops@example.com", "-c", configPath], "n\n");
  assert.equal(no.code, 0, no.stderr);
  assert.match(no.stdout, /Are you sure you want to upload a flare\? \[y\/N\]/);
  assert.match(no.stdout, /Aborting\. \(You can still use .*\.zip\)/);
  assert.equal(uploads.length, 0);
  const yes = await run(["flare", "12345", "-e", "ops@example.com", "-c", configPath], "y\n");
  assert.ok(yes.stdout.includes(SUCCESS), yes.stdout + yes.stderr);
  assert.equal(uploads.length, 1);
});
