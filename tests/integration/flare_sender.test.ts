import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { zipSync } from "fflate";
import { runtime } from "../../src/runtime/mod.ts";
import type { HttpServer } from "../../src/runtime/mod.ts";
import { sendFlare, type SendFlareOptions } from "../../src/flare/mod.ts";

/** One received upload: the multipart field names in order, their values and the file bytes. */
interface Upload {
  path: string;
  apiKey: string | null;
  names: string[];
  fields: Record<string, string>;
  file: Uint8Array;
  filename: string;
  transferEncoding: string | null;
}

const uploads: Upload[] = [];
const heads: string[] = [];
let flakyPosts = 0;
let server: HttpServer;
let base: string;
let zip: string;

function backend(): Hono {
  const app = new Hono();
  app.use("*", async (c, next) => {
    if (c.req.method === "HEAD") heads.push(new URL(c.req.url).pathname);
    await next();
  });
  const receive = async (c: any) => {
    const raw = await c.req.raw.clone().text();
    const form = await c.req.formData();
    const file = form.get("flare_file") as File;
    const fields: Record<string, string> = {};
    for (const [k, v] of form.entries()) if (typeof v === "string") fields[k] = v;
    uploads.push({
      path: new URL(c.req.url).pathname,
      apiKey: c.req.header("dd-api-key") ?? null,
      names: [...raw.matchAll(/; name="([^"]+)"/g)].map((m) => m[1]),
      fields,
      file: new Uint8Array(await file.arrayBuffer()),
      filename: file.name,
      transferEncoding: c.req.header("transfer-encoding") ?? null,
    });
  };
  app.get("/ok/support/flare/:id", (c) => c.body(null, 200));
  app.post("/ok/support/flare/:id", async (c) => {
    await receive(c);
    return c.json({ case_id: c.req.param("id"), request_uuid: "u-1" });
  });
  app.get("/forbidden/support/flare/:id", (c) => c.body(null, 200));
  app.post("/forbidden/support/flare/:id", (c) => c.text("forbidden", 403));
  app.get("/flaky/support/flare/:id", (c) => c.body(null, 200));
  app.post("/flaky/support/flare/:id", async (c) => {
    if (flakyPosts++ === 0) return c.text("try later", 500);
    await receive(c);
    return c.json({ case_id: c.req.param("id") });
  });
  app.get(
    "/hop1/support/flare/:id",
    (c) => c.redirect(`/hop2/support/flare/${c.req.param("id")}`, 302),
  );
  app.get(
    "/hop2/support/flare/:id",
    (c) => c.redirect(`/final/support/flare/${c.req.param("id")}`, 307),
  );
  app.get("/final/support/flare/:id", (c) => c.body(null, 404));
  app.post("/final/support/flare/:id", async (c) => {
    await receive(c);
    return c.json({ case_id: c.req.param("id") });
  });
  app.post("/hop1/support/flare/:id", (c) => c.json({ error: "posted to the first hop" }));
  app.get("/html/support/flare/:id", (c) => c.body(null, 200));
  app.post(
    "/html/support/flare/:id",
    (c) => c.html("<html><body>Welcome to the login page</body></html>"),
  );
  app.get("/jsonerr/support/flare/:id", (c) => c.body(null, 200));
  app.post(
    "/jsonerr/support/flare/:id",
    (c) => c.json({ error: "invalid case id", request_uuid: "req-42" }),
  );
  app.get("/headfail/support/flare/:id", (c) => c.body(null, 400));
  return app;
}

before(async () => {
  server = await runtime.serve({ hostname: "127.0.0.1", port: 0 }, backend().fetch);
  base = `http://127.0.0.1:${server.port}`;
  const dir = mkdtempSync(join(tmpdir(), "flare-send-"));
  zip = join(dir, "outpost-flare-h-2026-01-01T00-00-00Z.zip");
  writeFileSync(
    zip,
    zipSync({ "h/flare_creation.log": new TextEncoder().encode("x".repeat(200_000)) }, {
      level: 0,
    }),
  );
});
after(() => server.close());

const sleeps: number[] = [];
const options = (extra: Partial<SendFlareOptions> = {}): SendFlareOptions => ({
  apiKey: "0123456789abcdef0123456789abcdef",
  caseId: "12345",
  email: "ops@example.com",
  hostname: "edge-1",
  agentVersion: "0.1.0",
  sleep: async (ms) => void sleeps.push(ms),
  ...extra,
});

test("sendFlare() streams the fields in the spec's order with the API key header", async () => {
  uploads.length = 0;
  const r = await sendFlare(zip, `${base}/ok`, options());
  assert.equal(
    r.message,
    "Your logs were successfully uploaded. For future reference, your internal case id is 12345",
  );
  assert.equal(r.ok, true);
  const u = uploads[0];
  assert.equal(u.path, "/ok/support/flare/12345");
  assert.equal(u.apiKey, "0123456789abcdef0123456789abcdef");
  assert.deepEqual(u.names, [
    "case_id",
    "email",
    "source",
    "flare_file",
    "agent_version",
    "hostname",
  ]);
  assert.deepEqual(u.fields, {
    case_id: "12345",
    email: "ops@example.com",
    source: "local",
    agent_version: "0.1.0",
    hostname: "edge-1",
  });
  assert.equal(u.filename, "outpost-flare-h-2026-01-01T00-00-00Z.zip");
  assert.equal(u.transferEncoding, "chunked");
  assert.deepEqual(u.file, new Uint8Array(readFileSync(zip)));
});

test("sendFlare() explains a 403 with and without an API key", async () => {
  assert.equal(
    (await sendFlare(zip, `${base}/forbidden`, options())).message,
    "HTTP 403 Forbidden: Make sure your API key is valid. API Key ending with: bcdef",
  );
  assert.equal(
    (await sendFlare(zip, `${base}/forbidden`, options({ apiKey: "" }))).message,
    "HTTP 403 Forbidden: API key is missing",
  );
});

test("sendFlare() retries a 500 and succeeds on the next attempt", async () => {
  uploads.length = 0;
  sleeps.length = 0;
  flakyPosts = 0;
  const r = await sendFlare(zip, `${base}/flaky`, options());
  assert.equal(
    r.message,
    "Your logs were successfully uploaded. For future reference, your internal case id is 12345",
  );
  assert.equal(flakyPosts, 2);
  assert.deepEqual(sleeps, [1000]);
  assert.deepEqual(uploads[0].file, new Uint8Array(readFileSync(zip)));
});

test("sendFlare() follows a redirect chain with HEAD, accepts the final 404 and posts there", async () => {
  uploads.length = 0;
  heads.length = 0;
  const r = await sendFlare(zip, `${base}/hop1`, options());
  assert.equal(r.ok, true, r.message);
  assert.deepEqual(heads, [
    "/hop1/support/flare/12345",
    "/hop2/support/flare/12345",
    "/final/support/flare/12345",
  ]);
  assert.equal(uploads[0].path, "/final/support/flare/12345");
});

test("sendFlare() cannot deserialize an HTML 200", async () => {
  const r = await sendFlare(zip, `${base}/html`, options());
  assert.equal(
    r.message,
    "Error: could not deserialize response body -- Please contact support by email.",
  );
  assert.match(r.error!, /^HTTP 200: <html><body>Welcome/);
});

test("sendFlare() reports a JSON error with the request uuid", async () => {
  const r = await sendFlare(zip, `${base}/jsonerr`, options());
  assert.equal(
    r.message,
    "An error occurred while uploading the flare: invalid case id. Please contact support by email and facilitate the request uuid: `req-42`.",
  );
});

test("sendFlare() stops when the HEAD ends on a status other than 200 or 404", async () => {
  const r = await sendFlare(zip, `${base}/headfail`, options());
  assert.equal(
    r.message,
    `We couldn't reach the flare backend ${base}/headfail/support/flare/12345 via redirects: 400 Bad Request`,
  );
});

test("sendFlare() makes 3 attempts on a network error", async () => {
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
  assert.equal(calls, 3);
  assert.deepEqual(sleeps, [1000, 1000]);
  assert.match(
    r.message,
    new RegExp(`^Cannot upload the flare to http://127.0.0.1:${port}/support/flare/12345: `),
  );
});
