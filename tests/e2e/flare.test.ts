/**
 * `outpost flare` on the compiled binaries: the flare goes to a separate `outpost intake`
 * configured as the flare URL through `dd_url`; the intake's fault switch makes it answer the
 * way the support backend can (403, 500, redirects, HTML, a JSON error).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { createHash } from "node:crypto";
import { unzipSync } from "fflate";
import { BIN, configDir, freePort, type RunningAgent, startAgent } from "./_binary.ts";

const API_KEY = "0123456789abcdef0123456789abcdef";
const APP_KEY = "fedcba9876543210fedcba9876543210fedcba98";
const SECRETS = [API_KEY, APP_KEY];
// Values of their own, checked in 8-character pieces too (the keys above repeat the hex digits,
// whose runs appear in any program's text).
const VAULT_TOKEN = "s.Qm7ZLw2xKp9RnYb4";
const ENV_SECRET = "Ev8sWq3NmXc5TzLp";
const success = (id: string) =>
  `Your logs were successfully uploaded. For future reference, your internal case id is ${id}`;
const DESERIALIZE =
  "Error: could not deserialize response body -- Please contact support by email.";
const FLARE_ROUTE = "/support/flare";

const { dir } = configDir("");
let intake: ReturnType<typeof Bun.spawn>;
let intakeUrl = "";

/** A config for the CLI, in its own directory, sending to the intake. */
function flareConfig(name: string, lines: string[]): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  const path = join(d, "datadog.yaml");
  writeFileSync(path, [...lines, `run_path: ${join(d, "run")}`, ""].join("\n"));
  return path;
}

/** `outpost flare …` with zips written under the test's directory; `input` goes to stdin. */
async function flare(args: string[], input?: string) {
  const proc = Bun.spawn({
    cmd: [BIN, "flare", ...args],
    env: { PATH: process.env.PATH ?? "", TMPDIR: dir },
    stdin: input === undefined ? "ignore" : new TextEncoder().encode(input),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  const zip = /^Flare archive: (.*)$/m.exec(stdout)?.[1];
  return { code, stdout, stderr, zip };
}

async function intakeJson(path: string, init?: RequestInit) {
  const res = await fetch(`${intakeUrl}${path}`, init);
  assert.ok(res.ok, `${path}: HTTP ${res.status}`);
  return await res.json();
}

/** Queues faults on the intake, in order. */
async function faults(...list: Record<string, unknown>[]) {
  for (const f of list) {
    await intakeJson("/outpost/intake/faults", {
      method: "POST",
      body: JSON.stringify(f),
      headers: { "Content-Type": "application/json" },
    });
  }
}

async function flareStats(): Promise<Record<string, number>> {
  const s = await intakeJson("/outpost/intake/stats");
  return s.routes[FLARE_ROUTE] ?? { requests: 0, stored: 0, faults_served: 0 };
}

interface StoredFlare {
  seq: number;
  case_id: string;
  email?: string;
  source: string;
  agent_version: string;
  hostname: string;
  field_order: string[];
  api_key_masked: string;
  file: { name: string; size: number; sha256: string };
}

async function storedFlares(): Promise<StoredFlare[]> {
  return (await intakeJson("/outpost/intake/flares")).flares;
}

/** The archive as the intake stored it, unzipped. */
async function downloadZip(
  seq: number,
): Promise<{ raw: Uint8Array; files: Record<string, Uint8Array> }> {
  const res = await fetch(`${intakeUrl}/outpost/intake/flares/${seq}/file`);
  assert.equal(res.status, 200);
  const raw = new Uint8Array(await res.arrayBuffer());
  return { raw, files: unzipSync(raw) };
}

const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

/**
 * Where each secret occurs, byte for byte, in any file of the archive; `pieced` secrets are
 * looked for in every 8-character piece as well.
 */
function secretHits(files: Record<string, Uint8Array>, pieced: string[] = []): string[] {
  const needles = [...SECRETS, ...pieced];
  for (const s of pieced) for (let i = 1; i + 8 <= s.length; i++) needles.push(s.slice(i, i + 8));
  const hits: string[] = [];
  for (const [name, data] of Object.entries(files)) {
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    for (const s of needles) if (buf.includes(s)) hits.push(`${name} holds ${s}`);
  }
  return hits;
}

before(async () => {
  const port = await freePort();
  intake = Bun.spawn({
    cmd: [BIN, "intake", "--port", String(port), "--data-dir", join(dir, "intake")],
    env: { PATH: process.env.PATH ?? "" },
    stdout: "ignore",
    stderr: "pipe",
  });
  intakeUrl = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 400; i++) {
    if (await fetch(`${intakeUrl}/outpost/intake/stats`).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("outpost intake did not come up");
});

after(async () => {
  intake?.kill("SIGTERM");
  await intake?.exited;
});

describe("outpost flare against a running agent and outpost intake", () => {
  let agent: RunningAgent;
  let config = "";

  before(async () => {
    agent = await startAgent(
      [
        `app_key: ${APP_KEY}`,
        "hostname: e2e-host",
        `dd_url: ${intakeUrl}`,
        `expvar_port: ${await freePort()}`,
        "gui_port: -1",
        "use_dogstatsd: false",
        "log_file: LOG",
        `secret_backend_arguments: ["--vault-token", "${VAULT_TOKEN}"]`,
        "",
      ].join("\n").replace("LOG", join(dir, "agent.log")),
      { DD_SECRET_BACKEND_TOKEN: ENV_SECRET },
    );
    config = join(agent.dir, "datadog.yaml");
  });

  after(async () => {
    agent?.proc.kill("SIGTERM");
    await agent?.proc.exited;
  });

  it("flare 12345 -e -s -p 1: the agent's flare reaches the intake with every field and file, and no secret", async () => {
    const before = (await storedFlares()).length;
    const r = await flare(["12345", "-e", "ops@example.com", "-s", "-p", "1", "-c", config]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.zip ?? "", /outpost-flare-e2e-host-.*\.zip$/);
    assert.ok(r.stdout.includes(success("12345")), r.stdout);
    assert.doesNotMatch(r.stderr, /Could not get the flare from the agent/);

    const list = await storedFlares();
    assert.equal(list.length, before + 1);
    const f = list.at(-1)!;
    assert.equal(f.case_id, "12345");
    assert.equal(f.email, "ops@example.com");
    assert.equal(f.source, "local");
    assert.equal(f.hostname, "e2e-host");
    assert.match(f.agent_version, /^\d+\.\d+\.\d+/);
    assert.deepEqual(f.field_order, [
      "case_id",
      "email",
      "source",
      "flare_file",
      "agent_version",
      "hostname",
    ]);
    assert.equal(f.api_key_masked, "*".repeat(28) + "cdef");
    const local = readFileSync(r.zip!);
    assert.equal(f.file.name, basename(r.zip!));
    assert.equal(f.file.size, local.length);
    assert.equal(f.file.sha256, createHash("sha256").update(local).digest("hex"));

    const { raw, files } = await downloadZip(f.seq);
    assert.deepEqual(raw, new Uint8Array(local));
    const names = Object.keys(files);
    assert.ok(names.every((n) => n.startsWith("e2e-host/")), names.join(", "));
    assert.equal(names[0], "e2e-host/flare_creation.log");
    // Built inside the agent: no local marker, and the agent's own status, expvars, metadata.
    assert.equal(files["e2e-host/local"], undefined);
    for (
      const name of [
        "flare_creation.log",
        "etc/datadog.yaml",
        "runtime_config_dump.yaml",
        "status.log",
        "status.json",
        "metadata_v5.json",
        "health.yaml",
        "version-history.json",
        "logs/agent.log",
        "permissions.log",
        "non_scrubbed_files.json",
      ]
    ) {
      assert.ok(files[`e2e-host/${name}`]?.length, `${name} is missing or empty`);
    }
    const expvars = names.filter((n) => n.startsWith("e2e-host/expvar/"));
    assert.ok(expvars.length >= 3, expvars.join(", "));
    for (const n of expvars) assert.ok(files[n].length > 0, `${n} is empty`);
    assert.ok(files["e2e-host/expvar/forwarder"], expvars.join(", "));
    assert.match(text(files["e2e-host/status.log"]), /Outpost \(v\d/);
    // The form carries the Datadog Agent version sent; the status has it beside outpost's own.
    const statusJson = JSON.parse(text(files["e2e-host/status.json"]));
    assert.equal(statusJson.datadog_agent_version, f.agent_version);
    const meta = JSON.parse(text(files["e2e-host/metadata_v5.json"]));
    assert.equal(meta.internalHostname, "e2e-host");
    assert.equal(meta.apiKey, "*".repeat(28) + "cdef");
    const history = JSON.parse(text(files["e2e-host/version-history.json"]));
    // The history is of outpost's own versions (the fleet's), as the status header shows.
    assert.equal(history.entries.at(-1).version, statusJson.version);

    // Profiles through the runtime (-p 1).
    const cpu = JSON.parse(text(files["e2e-host/profiles/core-cpu.cpuprofile"]));
    assert.ok(Array.isArray(cpu.nodes) && Array.isArray(cpu.samples));
    const heap = JSON.parse(text(files["e2e-host/profiles/core-1st-heap.heapsnapshot"]));
    assert.ok(heap.snapshot && heap.strings.length > 1000);

    // No secret leaves the host, in any file, profiles included (the agent's heap holds its
    // auth token, its config and its environment); the keys keep their tails.
    assert.deepEqual(secretHits(files, [agent.token, VAULT_TOKEN, ENV_SECRET]), []);
    const dd = text(files["e2e-host/etc/datadog.yaml"]);
    assert.ok(dd.includes(`"${"*".repeat(28)}cdef"`), dd);
    assert.ok(dd.includes(`"${"*".repeat(36)}ba98"`), dd);
  });

  it("flare without -s asks for confirmation and uploads only on yes", async () => {
    const before = (await storedFlares()).length;
    const no = await flare(["777", "-e", "ops@example.com", "-c", config], "n\n");
    assert.equal(no.code, 0, no.stderr);
    assert.match(no.stdout, /Are you sure you want to upload a flare\? \[y\/N\]/);
    assert.match(no.stdout, /Aborting\. \(You can still use .*\.zip\)/);
    assert.equal((await storedFlares()).length, before);
    const yes = await flare(["777", "-e", "ops@example.com", "-c", config], "y\n");
    assert.ok(yes.stdout.includes(success("777")), yes.stdout + yes.stderr);
    assert.equal((await storedFlares()).at(-1)!.case_id, "777");
  });
});

describe("outpost flare with the agent stopped", () => {
  let config = "";
  let noKeyConfig = "";

  before(async () => {
    // Nothing listens on cmd_port: the CLI builds the flare itself.
    const common = [
      "hostname: e2e-host",
      `dd_url: ${intakeUrl}`,
      `cmd_port: ${await freePort()}`,
      `log_file: ${join(dir, "agent.log")}`,
    ];
    config = flareConfig("stopped", [`api_key: ${API_KEY}`, `app_key: ${APP_KEY}`, ...common]);
    noKeyConfig = flareConfig("nokey", common);
  });

  it("flare 12345 -e -s builds a local flare with the marker and uploads it", async () => {
    const before = (await storedFlares()).length;
    const r = await flare(["12345", "-e", "ops@example.com", "-s", "-c", config]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Could not get the flare from the agent/);
    assert.ok(r.stdout.includes(success("12345")), r.stdout);
    const list = await storedFlares();
    assert.equal(list.length, before + 1);
    const f = list.at(-1)!;
    assert.equal(f.case_id, "12345");
    assert.equal(f.email, "ops@example.com");
    assert.equal(f.hostname, "e2e-host");
    const { files } = await downloadZip(f.seq);
    assert.match(
      text(files["e2e-host/local"]),
      /^unable to contact the agent to retrieve flare: /,
    );
    assert.ok(files["e2e-host/etc/datadog.yaml"]?.length);
    // The CLI has no status of its own to add, and says so.
    assert.equal(files["e2e-host/status.log"], undefined);
    assert.match(text(files["e2e-host/flare_creation.log"]), /status\.log/);
    assert.deepEqual(secretHits(files), []);
  });

  it("flare -l builds a local flare and does not upload it", async () => {
    const before = await flareStats();
    const r = await flare(["-l", "-c", config]);
    assert.equal(r.code, 0, r.stderr);
    const files = unzipSync(readFileSync(r.zip!));
    assert.equal(text(files["e2e-host/local"]), "local flare was requested\n");
    assert.equal((await flareStats()).requests, before.requests);
  });

  /** Runs `flare 12345 -e -s` and checks that the intake stored nothing. */
  async function failedUpload(cfg = config) {
    const before = await flareStats();
    const r = await flare(["12345", "-e", "ops@example.com", "-s", "-c", cfg]);
    assert.equal(r.code, 1, r.stdout);
    assert.ok(r.zip, "the archive path is printed before the upload");
    assert.equal((await flareStats()).stored, before.stored);
    return r;
  }

  const POST = { route: FLARE_ROUTE, method: "POST" };

  it("a 403 shows the API key's last 5 characters", async () => {
    await faults({ ...POST, status: 403 });
    const r = await failedUpload();
    assert.ok(
      r.stderr.includes(
        "HTTP 403 Forbidden: Make sure your API key is valid. API Key ending with: bcdef",
      ),
      r.stderr,
    );
  });

  it("a 403 without an API key says that it is missing", async () => {
    await faults({ ...POST, status: 403 });
    const r = await failedUpload(noKeyConfig);
    assert.ok(r.stderr.includes("HTTP 403 Forbidden: API key is missing"), r.stderr);
  });

  it("a 500 is retried and the next attempt uploads", async () => {
    const before = await flareStats();
    await faults({ ...POST, status: 500 });
    const r = await flare(["12345", "-e", "ops@example.com", "-s", "-c", config]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(success("12345")), r.stdout);
    const after = await flareStats();
    // One HEAD, then POST (500), POST: the HEAD is not redone, as in the Go agent.
    assert.equal(after.requests - before.requests, 3);
    assert.equal(after.faults_served - before.faults_served, 1);
    assert.equal(after.stored - before.stored, 1);
  });

  it("a 500 on every attempt gives up after 3 with the spec's message", async () => {
    await faults({ ...POST, status: 500, count: 3 });
    const before = await flareStats();
    const r = await failedUpload();
    // The Go agent's words once the retries are spent, with the last answer.
    assert.match(r.stderr, /failed to send flare after 3 attempts: HTTP 500: /);
    assert.equal((await flareStats()).faults_served - before.faults_served, 3);
  });

  it("the HEAD follows a redirect chain, accepts the final 404 and posts there", async () => {
    const before = await flareStats();
    await faults(
      {
        route: `${FLARE_ROUTE}/12345`,
        method: "HEAD",
        redirect: `${FLARE_ROUTE}/777`,
        status: 302,
      },
      {
        route: `${FLARE_ROUTE}/777`,
        method: "HEAD",
        redirect: `${intakeUrl}${FLARE_ROUTE}/888`,
        status: 307,
      },
      { route: `${FLARE_ROUTE}/888`, method: "HEAD", status: 404 },
    );
    const r = await flare(["12345", "-e", "ops@example.com", "-s", "-c", config]);
    assert.equal(r.code, 0, r.stderr);
    // The intake answers with the case id of the path it was posted to: the chain's end.
    assert.ok(r.stdout.includes(success("888")), r.stdout);
    const after = await flareStats();
    assert.equal(after.faults_served - before.faults_served, 3);
    assert.equal(after.stored - before.stored, 1);
    assert.deepEqual((await intakeJson("/outpost/intake/faults")).pending, []);
  });

  it("a HEAD that ends on another status stops with the spec's message", async () => {
    await faults({ route: FLARE_ROUTE, method: "HEAD", status: 400 });
    const r = await failedUpload();
    assert.ok(
      r.stderr.includes(
        `We couldn't reach the flare backend ${intakeUrl}${FLARE_ROUTE}/12345 via redirects: 400 Bad Request`,
      ),
      r.stderr,
    );
  });

  it("an HTML 200 cannot be deserialized", async () => {
    await faults({
      ...POST,
      body: "<html><body>Welcome to the login page</body></html>",
      content_type: "text/html; charset=utf-8",
    });
    const r = await failedUpload();
    assert.ok(r.stderr.includes(DESERIALIZE), r.stderr);
    assert.ok(r.stderr.includes("HTTP 200: <html><body>Welcome to the login page"), r.stderr);
  });

  it("a JSON error is reported with its request uuid", async () => {
    await faults({
      ...POST,
      status: 200,
      body: JSON.stringify({ error: "invalid case id", request_uuid: "req-42" }),
      content_type: "application/json",
    });
    const r = await failedUpload();
    assert.ok(
      r.stderr.includes(
        "An error occurred while uploading the flare: invalid case id. Please contact support by email and facilitate the request uuid: `req-42`.",
      ),
      r.stderr,
    );
  });
});
