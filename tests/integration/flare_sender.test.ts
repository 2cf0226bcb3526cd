/**
 * `sendFlare()` against the local intake on a real socket: what the intake stores is what the
 * sender sent, and the intake's fault switch makes it answer like the support backend can.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { zipSync } from "fflate";
import { runtime } from "../../src/runtime/mod.ts";
import { buildIntake, type IntakeComponent } from "../../src/intake/mod.ts";
import { sendFlare } from "../../src/flare/mod.ts";
import { type SendFlareOptions } from "../../src/flare/_sender.ts";
import { tempDir } from "../_temp.ts";

const API_KEY = "0123456789abcdef0123456789abcdef";
const FLARE_ROUTE = "/support/flare";
const success = (id: string) =>
  `Your logs were successfully uploaded. For future reference, your internal case id is ${id}`;
const DESERIALIZE =
  "Error: could not deserialize response body -- Please contact support by email.";

let intake: IntakeComponent;
let zip: string;
// Made at the top level, so the directory lives until the file's last test.
const dir = tempDir("flare-send-");

before(async () => {
  intake = buildIntake({ dataDir: join(dir, "intake") }, { runtime }).component;
  await intake.start();
  zip = join(dir, "outpost-flare-h-2026-01-01T00-00-00Z.zip");
  // Larger than one read of the streamed body.
  writeFileSync(
    zip,
    zipSync({ "h/flare_creation.log": new TextEncoder().encode("x".repeat(200_000)) }, {
      level: 0,
    }),
  );
});
after(() => intake.stop());

async function intakeJson(path: string, init?: RequestInit) {
  const res = await fetch(`${intake.url}${path}`, init);
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

const sleeps: number[] = [];
const options = (extra: Partial<SendFlareOptions> = {}): SendFlareOptions => ({
  apiKey: API_KEY,
  caseId: "12345",
  email: "ops@example.com",
  hostname: "edge-1",
  agentVersion: "0.1.0",
  sleep: async (ms) => void sleeps.push(ms),
  ...extra,
});
const POST = { route: FLARE_ROUTE, method: "POST" };

test("sendFlare() streams the fields in the spec's order with the API key header", async () => {
  const r = await sendFlare(zip, intake.url, options());
  assert.equal(r.message, success("12345"));
  assert.equal(r.ok, true);
  const f = (await intakeJson("/outpost/intake/flares")).flares.at(-1);
  assert.deepEqual(f.field_order, [
    "case_id",
    "email",
    "source",
    "flare_file",
    "agent_version",
    "hostname",
  ]);
  assert.equal(f.case_id, "12345");
  assert.equal(f.email, "ops@example.com");
  assert.equal(f.source, "local");
  assert.equal(f.agent_version, "0.1.0");
  assert.equal(f.hostname, "edge-1");
  assert.equal(f.api_key_masked, "*".repeat(28) + "cdef");
  assert.equal(f.file.name, "outpost-flare-h-2026-01-01T00-00-00Z.zip");
  const sent = readFileSync(zip);
  assert.equal(f.file.sha256, createHash("sha256").update(sent).digest("hex"));
  const stored = await fetch(`${intake.url}/outpost/intake/flares/${f.seq}/file`);
  assert.deepEqual(new Uint8Array(await stored.arrayBuffer()), new Uint8Array(sent));
  // Streamed: chunked, so the request has no content-length.
  const rec = (await intakeJson(`/outpost/intake/payloads?route=${FLARE_ROUTE}&limit=1`))
    .payloads[0];
  assert.equal(rec.seq, f.seq);
  assert.match(rec.headers["content-type"], /^multipart\/form-data; boundary=/);
  assert.equal(rec.headers["content-length"], undefined);
});

test("sendFlare() explains a 403 with and without an API key", async () => {
  await faults({ ...POST, status: 403, count: 2 });
  assert.equal(
    (await sendFlare(zip, intake.url, options())).message,
    "HTTP 403 Forbidden: Make sure your API key is valid. API Key ending with: bcdef",
  );
  assert.equal(
    (await sendFlare(zip, intake.url, options({ apiKey: "" }))).message,
    "HTTP 403 Forbidden: API key is missing",
  );
});

test("sendFlare() retries a 500 and succeeds on the next attempt", async () => {
  sleeps.length = 0;
  const before = await flareStats();
  await faults({ ...POST, status: 500 });
  const r = await sendFlare(zip, intake.url, options());
  assert.equal(r.message, success("12345"));
  assert.deepEqual(sleeps, [1000]);
  const after = await flareStats();
  assert.equal(after.requests - before.requests, 3); // one HEAD, POST (500), POST
  assert.equal(after.stored - before.stored, 1);
});

test("sendFlare() retries a dropped connection", async () => {
  sleeps.length = 0;
  const before = await flareStats();
  await faults({ ...POST, drop_connection: true });
  const r = await sendFlare(zip, intake.url, options());
  assert.equal(r.message, success("12345"));
  assert.deepEqual(sleeps, [1000]);
  assert.equal((await flareStats()).stored - before.stored, 1);
});

test("sendFlare() follows a redirect chain with HEAD, accepts the final 404 and posts there", async () => {
  const before = await flareStats();
  await faults(
    { route: `${FLARE_ROUTE}/12345`, method: "HEAD", redirect: `${FLARE_ROUTE}/777`, status: 302 },
    {
      route: `${FLARE_ROUTE}/777`,
      method: "HEAD",
      redirect: `${intake.url}${FLARE_ROUTE}/888`,
      status: 307,
    },
    { route: `${FLARE_ROUTE}/888`, method: "HEAD", status: 404 },
  );
  const r = await sendFlare(zip, intake.url, options());
  // The intake answers with the case id of the path it was posted to.
  assert.equal(r.message, success("888"));
  const after = await flareStats();
  assert.equal(after.requests - before.requests, 4); // three HEADs, one POST
  assert.equal(after.faults_served - before.faults_served, 3);
});

test("sendFlare() cannot deserialize an HTML 200", async () => {
  await faults({
    ...POST,
    body: "<html><body>Welcome to the login page</body></html>",
    content_type: "text/html",
  });
  const r = await sendFlare(zip, intake.url, options());
  assert.equal(r.message, DESERIALIZE);
  assert.match(r.error!, /^unknown content-type text\/html; HTTP 200: <html><body>Welcome/);
});

test("sendFlare() reports a JSON error with the request uuid", async () => {
  await faults({
    ...POST,
    status: 200,
    body: JSON.stringify({ error: "invalid case id", request_uuid: "req-42" }),
    content_type: "application/json",
  });
  const r = await sendFlare(zip, intake.url, options());
  assert.equal(
    r.message,
    "An error occurred while uploading the flare: invalid case id. Please contact support by email and facilitate the request uuid: `req-42`.",
  );
});

test("sendFlare() stops when the HEAD ends on a status other than 200 or 404", async () => {
  const before = await flareStats();
  await faults({ route: FLARE_ROUTE, method: "HEAD", status: 400 });
  const r = await sendFlare(zip, intake.url, options());
  assert.equal(
    r.message,
    `We couldn't reach the flare backend ${intake.url}/support/flare/12345 via redirects: 400 Bad Request`,
  );
  assert.equal((await flareStats()).requests - before.requests, 1);
});

test("sendFlare() reports a 403 on the HEAD as a refused key, not as an unreachable backend", async () => {
  const before = await flareStats();
  await faults({ route: FLARE_ROUTE, method: "HEAD", status: 403 });
  const r = await sendFlare(zip, intake.url, options({ apiKey: ` ${API_KEY} ` }));
  // The key is trimmed, as the Go agent's SanitizeAPIKey does.
  assert.equal(
    r.message,
    "HTTP 403 Forbidden: Make sure your API key is valid. API Key ending with: bcdef",
  );
  assert.equal((await flareStats()).requests - before.requests, 1);
});

test("sendFlare() says 'failed to send flare after 3 attempts' when every POST answers 503", async () => {
  sleeps.length = 0;
  const before = await flareStats();
  await faults({ ...POST, status: 503, body: "down", count: 3 });
  const r = await sendFlare(zip, intake.url, options());
  assert.equal(r.ok, false);
  assert.match(r.message, /^failed to send flare after 3 attempts: HTTP 503: down/);
  assert.deepEqual(sleeps, [1000, 1000]);
  assert.equal((await flareStats()).requests - before.requests, 4); // one HEAD, three POSTs
});

test("sendFlare() does the HEAD once: a closed port is not retried", async () => {
  const closed = await runtime.serve({ hostname: "127.0.0.1", port: 0 }, () => new Response());
  const port = closed.port;
  await closed.close();
  let calls = 0;
  sleeps.length = 0;
  const r = await sendFlare(
    zip,
    `http://127.0.0.1:${port}`,
    options({
      fetch: (url, init) => (calls++, fetch(url, init)),
    }),
  );
  assert.equal(r.ok, false);
  assert.equal(calls, 1);
  assert.deepEqual(sleeps, []);
  assert.match(
    r.message,
    new RegExp(`^Cannot reach the flare backend http://127.0.0.1:${port}/support/flare/12345: `),
  );
});
