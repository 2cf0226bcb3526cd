import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ConsoleDeps, createConsoleApp } from "../../../src/console/_app.ts";
import { CODE_TTL_MS, SESSION_IDLE_MS, Sessions } from "../../../src/console/_sessions.ts";
import { PAGES } from "../../../src/console/_pages.ts";
import { CONSOLE, Registry } from "../../../src/telemetry/mod.ts";

const TOKEN = "ab".repeat(32);
const PORT = 5002;
const ORIGIN = `http://127.0.0.1:${PORT}`;

function setup(over: Partial<ConsoleDeps> = {}) {
  const seen: Request[] = [];
  const sessions = new Sessions();
  const registry = new Registry();
  const refused = () => registry.read(CONSOLE.refused) as Record<string, number>;
  const app = createConsoleApp({
    sessions,
    registry,
    token: TOKEN,
    hostname: "gw-1",
    agentApi: (req) => {
      seen.push(req);
      if (req.url.endsWith("/agent/flare")) return new Response("/nonexistent/flare.zip");
      return Response.json({
        path: new URL(req.url).pathname,
        auth: req.headers.get("authorization"),
      });
    },
    intakeUrl: null,
    fleet: (req) => {
      seen.push(req);
      return Promise.resolve(Response.json({ version: "1", packages: {} }));
    },
    sendFlare: () => Promise.resolve({ ok: true, message: "sent" }),
    ...over,
  }, () => PORT);
  const request = (path: string, init: RequestInit = {}) =>
    app.request(`${ORIGIN}${path}`, {
      ...init,
      headers: { host: `127.0.0.1:${PORT}`, ...init.headers as Record<string, string> },
    });
  const login = async () => {
    const res = await request("/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN },
      body: `token=${TOKEN}`,
    });
    assert.equal(res.status, 303);
    const cookie = res.headers.get("set-cookie")!.split(";")[0];
    const page = await (await request("/", { headers: { cookie } })).text();
    const csrf = /name="csrf-token" content="([^"]+)"/.exec(page)![1];
    return { cookie, csrf };
  };
  return { app, request, login, seen, sessions, refused };
}

describe("console app", () => {
  it("refuses every page and JSON route without a session, and counts each", async () => {
    const { request, refused } = setup();
    for (const path of Object.keys(PAGES)) {
      const res = await request(path);
      assert.equal(res.status, 303, path);
      assert.equal(res.headers.get("location"), "/login");
    }
    for (
      const path of ["/api/agent/status", "/api/intake/metrics", "/api/fleet/status", "/api/flares"]
    ) {
      const res = await request(path);
      assert.equal(res.status, 401, path);
      assert.match((await res.json()).error, /Not logged in/);
    }
    // The agent's bearer token is not a console session.
    const bearer = await request("/api/agent/status", {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(bearer.status, 401);
    assert.equal(refused().no_session, Object.keys(PAGES).length + 5);
  });

  it("logs in with the token into an HttpOnly, SameSite=Strict cookie and sends a strict CSP", async () => {
    const { request, login } = setup();
    const wrong = await request("/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN },
      body: "token=nope",
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get("set-cookie"), null);
    const res = await request("/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN },
      body: `token=${TOKEN}`,
    });
    const cookie = res.headers.get("set-cookie")!;
    assert.match(cookie, /^outpost_console_5002=[\w-]{43};/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const { cookie: c } = await login();
    const page = await request("/metrics", { headers: { cookie: c } });
    assert.equal(page.status, 200);
    const csp = page.headers.get("content-security-policy")!;
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe/);
    assert.equal(page.headers.get("x-frame-options"), "DENY");
  });

  it("relays /api/agent with the token, and refuses changes without the CSRF token or from another origin", async () => {
    const { request, login, seen, refused } = setup();
    const { cookie, csrf } = await login();
    const status = await (await request("/api/agent/status?format=json", { headers: { cookie } }))
      .json();
    assert.deepEqual(status, { path: "/agent/status", auth: `Bearer ${TOKEN}` });
    assert.equal(new URL(seen.at(-1)!.url).search, "?format=json");

    const noToken = await request("/api/flares", { method: "POST", headers: { cookie } });
    assert.equal(noToken.status, 403);
    assert.match((await noToken.json()).error, /CSRF/);
    const crossSite = await request("/api/flares", {
      method: "POST",
      headers: { cookie, "x-csrf-token": csrf, "sec-fetch-site": "same-site" },
    });
    assert.equal(crossSite.status, 403);
    const otherOrigin = await request("/api/flares", {
      method: "POST",
      headers: { cookie, "x-csrf-token": csrf, origin: "http://127.0.0.1:8080" },
    });
    assert.equal(otherOrigin.status, 403);
    assert.equal(seen.filter((r) => r.url.endsWith("/agent/flare")).length, 0);
    assert.deepEqual({ ...refused() }, { csrf: 1, cross_site: 2 });

    const logout = await request("/logout", {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded", origin: ORIGIN },
      body: `csrf=${csrf}`,
    });
    assert.equal(logout.status, 303);
    assert.equal((await request("/api/flares", { headers: { cookie } })).status, 401);
  });

  it("answers only to a loopback Host header", async () => {
    const { app, refused } = setup();
    const res = await app.request(`${ORIGIN}/login`, { headers: { host: "rebound.example:5002" } });
    assert.equal(res.status, 403);
    assert.equal(refused().host, 1);
  });

  it("takes a one-time login code once", async () => {
    const { request, sessions, refused } = setup();
    const code = sessions.code();
    const first = await request(`/auth?intent=${code}`);
    assert.equal(first.status, 303);
    assert.ok(first.headers.get("set-cookie"));
    const again = await request(`/auth?intent=${code}`);
    assert.equal(again.status, 401);
    assert.match(await again.text(), /used already or has expired/);
    assert.equal(refused().bad_link, 1);
  });

  it("refuses an oversized login form or request body with 413, counted", async () => {
    const { request, login, refused } = setup();
    const form = await request("/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN },
      body: `token=${"a".repeat(1 << 20)}`,
    });
    assert.equal(form.status, 413);
    const { cookie, csrf } = await login();
    const big = await request("/api/agent/flare", {
      method: "POST",
      headers: { cookie, "x-csrf-token": csrf, "content-type": "application/json" },
      body: "0".repeat(5 << 20),
    });
    assert.equal(big.status, 413);
    assert.match((await big.json()).error, /over 4194304 bytes/);
    assert.equal(refused().too_large, 2);
  });

  it("relays the fleet daemon's API as JSON and says when there is no local intake", async () => {
    const { request, login, seen } = setup();
    const { cookie } = await login();
    const fleet = await request("/api/fleet/status", { headers: { cookie } });
    assert.equal(fleet.status, 200);
    assert.equal(seen.at(-1)!.headers.get("content-type"), "application/json");
    assert.equal(new URL(seen.at(-1)!.url).pathname, "/status");
    const intake = await request("/api/intake/metrics", { headers: { cookie } });
    assert.equal(intake.status, 404);
    assert.match((await intake.json()).error, /No local intake/);
  });
});

describe("console sessions", () => {
  it("expire when idle, and codes expire after their TTL", () => {
    let now = 0;
    const sessions = new Sessions(() => now);
    const s = sessions.open();
    now = SESSION_IDLE_MS - 1;
    assert.equal(sessions.get(s.id)?.id, s.id);
    now += SESSION_IDLE_MS + 1;
    assert.equal(sessions.get(s.id), null);
    const code = sessions.code();
    now += CODE_TTL_MS + 1;
    assert.equal(sessions.redeem(code), false);
  });
});
