/**
 * The console as a hono app. Every page and JSON route needs a session, opened by logging in
 * with the auth token (or a one-time code from `outpost launch-gui`) and kept in an HttpOnly,
 * SameSite=Strict cookie. Every change (a POST) also needs the session's CSRF token and a
 * same-origin request, and the app answers only to a loopback `Host` (a rebound DNS name is
 * refused). The JSON routes are the agent's own (under `/api/agent`), the local intake's
 * query routes (`/api/intake`), the fleet daemon's local API (`/api/fleet`) and the flares
 * made from the console (`/api/flares`).
 *
 * @module
 */
import { basename } from "node:path";
import { readFileSync, statSync } from "node:fs";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { getCookie, setCookie } from "hono/cookie";
import { isLoopbackHostHeader, tokenMatches } from "../api/mod.ts";
import { loginPage, PAGES, shellPage } from "./_pages.ts";
import { type Session, SESSION_IDLE_MS, Sessions } from "./_sessions.ts";
import { ASSETS } from "./_assets.ts";
import { consoleEvents, type Registry } from "../telemetry/mod.ts";

/**
 * Scripts, styles, images and requests from the console itself only; no frames, no inline code,
 * forms that post only back to it.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

/** Largest request body relayed: a fleet catalog is the largest thing a page sends. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Largest login form: a token is 64 characters. */
const MAX_LOGIN_BYTES = 4096;

/** What a flare sent from the console answers. */
export interface FlareSendResult {
  ok: boolean;
  message: string;
}

/** What the console reads and acts on. */
export interface ConsoleDeps {
  sessions: Sessions;
  /** Where refusals are counted (`console.refused`, by reason). */
  registry: Registry;
  /** The agent's auth token: what the login form takes. */
  token: string;
  /** Shown in the header. */
  hostname: string;
  /** The agent API's handler, called in-process with the token. */
  agentApi: (req: Request) => Response | Promise<Response>;
  /** Base URL of the local intake (the embedded one of `--dev`), or null when there is none. */
  intakeUrl: string | null;
  /** Sends a request to the fleet daemon's local API (its unix socket). */
  fleet: (req: Request) => Promise<Response>;
  /** Uploads a flare archive to Datadog support. */
  sendFlare: (path: string, o: { caseId?: string; email?: string }) => Promise<FlareSendResult>;
}

type Env = { Variables: { session: Session } };

const cookieName = (port: number) => `outpost_console_${port}`;

/** A relayed answer with only the headers a page needs (a fetched one's are immutable). */
function relay(res: Response): Response {
  const headers = new Headers();
  for (const name of ["content-type", "content-disposition"]) {
    const value = res.headers.get(name);
    if (value) headers.set(name, value);
  }
  return new Response(res.body, { status: res.status, headers });
}

/** The request's own origin, from its Host header (the console is plain HTTP on loopback). */
const originOf = (c: Context) => `http://${c.req.header("host") ?? ""}`;

/**
 * Builds the console app. `port()` is the bound port, which names the session cookie (cookies
 * are not kept apart by port: two agents on one machine would share it).
 */
export function createConsoleApp(deps: ConsoleDeps, port: () => number): Hono<Env> {
  const app = new Hono<Env>();
  const flares = new Map<string, { path: string; name: string; size: number; created: string }>();
  const { refused } = consoleEvents(deps.registry);
  const tooLarge = (max: number) => (c: Context) => {
    refused.with("too_large").inc();
    return c.json({ error: `The request body is over ${max} bytes` }, 413);
  };

  app.use("*", async (c, next) => {
    if (!isLoopbackHostHeader(c.req.header("host") ?? "")) {
      refused.with("host").inc();
      return c.json({ error: "The console answers only to a loopback Host header" }, 403);
    }
    // A change must come from the console's own pages: browsers say where a request came from.
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      const site = c.req.header("sec-fetch-site");
      const origin = c.req.header("origin");
      if ((site && site !== "same-origin") || (origin && origin !== originOf(c))) {
        refused.with("cross_site").inc();
        return c.json({ error: "Cross-site requests are refused" }, 403);
      }
    }
    await next();
    c.header("Content-Security-Policy", CONTENT_SECURITY_POLICY);
    c.header("X-Content-Type-Options", "nosniff");
    // "no-referrer" would make browsers send `Origin: null` on the console's own form posts.
    c.header("Referrer-Policy", "same-origin");
    c.header("X-Frame-Options", "DENY");
    if (!c.req.path.startsWith("/assets/")) c.header("Cache-Control", "no-store");
  });

  app.get("/assets/:name", (c) => {
    const asset = ASSETS[c.req.param("name")];
    if (!asset) return c.json({ error: `no asset ${c.req.param("name")}` }, 404);
    return c.body(asset.body, 200, { "content-type": asset.type });
  });

  const login = (c: Context) => {
    const session = deps.sessions.open();
    setCookie(c, cookieName(port()), session.id, {
      httpOnly: true,
      sameSite: "Strict",
      path: "/",
      maxAge: SESSION_IDLE_MS / 1000,
    });
    return c.redirect("/", 303);
  };
  app.get("/login", (c) => c.html(loginPage()));
  app.post(
    "/login",
    bodyLimit({ maxSize: MAX_LOGIN_BYTES, onError: tooLarge(MAX_LOGIN_BYTES) }),
    async (c) => {
      const form = await c.req.parseBody();
      const token = typeof form.token === "string" ? form.token.trim() : "";
      if (!tokenMatches(token, deps.token)) {
        refused.with("bad_login").inc();
        return c.html(loginPage("Wrong auth token"), 401);
      }
      return login(c);
    },
  );
  // The one-time link that `outpost launch-gui` prints (`?intent=`, as the Datadog Agent names it).
  app.get("/auth", (c) => {
    if (!deps.sessions.redeem(c.req.query("intent") ?? "")) {
      refused.with("bad_link").inc();
      return c.html(loginPage("This login link was used already or has expired"), 401);
    }
    return login(c);
  });

  app.use("*", async (c, next) => {
    const session = deps.sessions.get(getCookie(c, cookieName(port())));
    if (!session) {
      refused.with("no_session").inc();
      if (c.req.path.startsWith("/api/")) {
        return c.json({ error: "Not logged in: log in to the console first" }, 401);
      }
      return c.redirect("/login", 303);
    }
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      let given = c.req.header("x-csrf-token") ?? "";
      if (
        !given && /^application\/x-www-form-urlencoded/.test(c.req.header("content-type") ?? "")
      ) {
        const form = await c.req.parseBody();
        given = typeof form.csrf === "string" ? form.csrf : "";
      }
      if (!tokenMatches(given, session.csrf)) {
        refused.with("csrf").inc();
        return c.json({ error: "Missing or wrong CSRF token" }, 403);
      }
    }
    c.set("session", session);
    await next();
  });

  app.post("/logout", (c) => {
    deps.sessions.close(c.get("session").id);
    setCookie(c, cookieName(port()), "", {
      httpOnly: true,
      sameSite: "Strict",
      path: "/",
      maxAge: 0,
    });
    return c.redirect("/login", 303);
  });

  for (const path of Object.keys(PAGES) as Array<keyof typeof PAGES>) {
    app.get(path, (c) => c.html(shellPage(path, c.get("session").csrf, deps.hostname)));
  }

  app.use(
    "/api/*",
    bodyLimit({ maxSize: MAX_BODY_BYTES, onError: tooLarge(MAX_BODY_BYTES) }),
  );

  const forward = async (c: Context, url: string, headers: Record<string, string>) => {
    const body = c.req.method === "GET" || c.req.method === "HEAD"
      ? undefined
      : await c.req.arrayBuffer();
    const type = c.req.header("content-type");
    return new Request(url, {
      method: c.req.method,
      headers: { ...(type ? { "content-type": type } : {}), ...headers },
      body,
    });
  };
  const rest = (c: Context, prefix: string) => {
    const url = new URL(c.req.url);
    return url.pathname.slice(prefix.length) + url.search;
  };

  app.all("/api/agent/*", async (c) => {
    const req = await forward(c, `http://agent/agent/${rest(c, "/api/agent/")}`, {
      authorization: `Bearer ${deps.token}`,
    });
    return relay(await deps.agentApi(req));
  });

  app.get("/api/intake/*", async (c) => {
    if (!deps.intakeUrl) {
      return c.json({
        error: "No local intake: run the agent with --dev (and no api_key or dd_url) to have one",
      }, 404);
    }
    try {
      return relay(await fetch(`${deps.intakeUrl}/outpost/intake/${rest(c, "/api/intake/")}`));
    } catch (e) {
      return c.json({ error: `Cannot reach the local intake: ${(e as Error).message}` }, 502);
    }
  });

  app.all("/api/fleet/*", async (c) => {
    const req = await forward(c, `http://fleet/${rest(c, "/api/fleet/")}`, {
      "content-type": "application/json",
    });
    try {
      return relay(await deps.fleet(req));
    } catch (e) {
      return c.json({
        error: `Cannot reach the fleet daemon (outpost installer daemon): ${(e as Error).message}`,
      }, 502);
    }
  });

  // Flares made from the console, by id: only those can be downloaded or sent from it.
  app.get("/api/flares", (c) => c.json({ flares: [...flares].map(([id, f]) => ({ id, ...f })) }));
  app.post("/api/flares", async (c) => {
    const res = await deps.agentApi(
      new Request("http://agent/agent/flare", {
        method: "POST",
        headers: { authorization: `Bearer ${deps.token}`, "content-type": "application/json" },
        body: "{}",
      }),
    );
    if (!res.ok) return relay(res);
    const path = (await res.text()).trim();
    const id = String(flares.size + 1);
    const flare = {
      path,
      name: basename(path),
      size: statSync(path).size,
      created: new Date().toISOString(),
    };
    flares.set(id, flare);
    return c.json({ id, ...flare });
  });
  app.get("/api/flares/:id/file", (c) => {
    const flare = flares.get(c.req.param("id"));
    if (!flare) {
      return c.json({ error: `No flare ${c.req.param("id")} made from the console` }, 404);
    }
    return c.body(new Uint8Array(readFileSync(flare.path)), 200, {
      "content-type": "application/zip",
      "content-disposition": `attachment; filename="${flare.name.replace(/"/g, "")}"`,
    });
  });
  app.post("/api/flares/:id/send", async (c) => {
    const flare = flares.get(c.req.param("id"));
    if (!flare) {
      return c.json({ error: `No flare ${c.req.param("id")} made from the console` }, 404);
    }
    let body: { case_id?: unknown; email?: unknown } = {};
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: "Expected a JSON object {case_id, email}" }, 400);
    }
    const caseId = typeof body.case_id === "string" ? body.case_id.trim() : "";
    if (caseId && !/^\d{1,20}$/.test(caseId)) {
      return c.json({ error: "case_id must be a number (the support ticket's)" }, 400);
    }
    const email = typeof body.email === "string" ? body.email.trim().slice(0, 320) : "";
    const result = await deps.sendFlare(flare.path, {
      caseId: caseId || undefined,
      email: email || undefined,
    });
    return c.json(result, result.ok ? 200 : 502);
  });

  app.notFound((c) =>
    c.req.path.startsWith("/api/")
      ? c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404)
      : c.text(`No page ${c.req.path}`, 404)
  );
  app.onError((err, c) =>
    err instanceof HTTPException
      ? c.json({ error: err.message }, err.status)
      : c.json({ error: err.message }, 500)
  );
  return app;
}
