/**
 * The agent API as a hono app: bearer auth on every route, JSON errors, and the agent's own
 * routes. Other components mount their areas as sub-apps.
 *
 * @module
 */
import { isIP } from "node:net";
import { Hono } from "hono";
import { tokenMatches } from "./_auth_token.ts";
import { versionObject } from "../version.ts";

/**
 * True when `host` (a name or address, IPv6 with or without brackets) always means this
 * machine: `localhost`, 127.0.0.0/8 or ::1.
 *
 * @example
 * ```ts
 * import { isLoopbackHost } from "./_app.ts";
 * isLoopbackHost("127.0.0.1"); // true
 * isLoopbackHost("0.0.0.0"); // false: every interface
 * ```
 */
export function isLoopbackHost(host: string): boolean {
  const h = (host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host)
    .toLowerCase().replace(/\.$/, "");
  if (h === "localhost") return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (isIP(h) === 6) return h === "::1" || /^(0+:){7}0*1$/.test(h) || /^::ffff:127\./.test(h);
  return false;
}

/**
 * True when an HTTP `Host` header names this machine (with or without a port): what a
 * browser sends for a page of another site whose name was rebound to 127.0.0.1 is refused.
 */
export function isLoopbackHostHeader(header: string): boolean {
  const m = /^(\[[^\]]*\]|[^:]*)(?::\d{1,5})?$/.exec(header.trim());
  return m !== null && isLoopbackHost(m[1]);
}

/** Health as the Datadog Agent reports it. */
export interface HealthReport {
  Healthy: string[];
  Unhealthy: string[];
}

/** What the API needs from the running agent. */
export interface AgentHandle {
  health(): HealthReport | Promise<HealthReport>;
  /** Asks the agent to stop; the answer is sent before it does. */
  requestStop(): void;
}

/** A sub-app mounted under a path prefix by another component. */
export interface ApiArea {
  path: string;
  app: Hono;
}

/** Options of {@linkcode createApiApp}. */
export interface ApiOptions {
  token: string;
  agent: AgentHandle;
  /** Routes of other components. @default [] */
  areas?: ApiArea[];
}

/**
 * Builds the API app.
 *
 * @example Ask for the version
 * ```ts
 * import { createApiApp } from "./_app.ts";
 * const token = "0".repeat(64);
 * const app = createApiApp({ token, agent: { health: () => ({ Healthy: [], Unhealthy: [] }), requestStop() {} } });
 * const res = await app.request("/agent/version", { headers: { Authorization: `Bearer ${token}` } });
 * console.log(res.status); // 200
 * ```
 */
export function createApiApp({ token, agent, areas = [] }: ApiOptions): Hono {
  const app = new Hono();

  app.use("*", async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) return c.json({ error: "missing bearer token in the Authorization header" }, 401);
    if (!tokenMatches(m[1], token)) return c.json({ error: "invalid bearer token" }, 401);
    await next();
  });

  app.get("/agent/version", (c) => c.json(versionObject()));
  app.get("/agent/status/health", async (c) => c.json(await agent.health()));
  app.post("/agent/stop", (c) => {
    // Let the response go out before shutdown begins.
    setTimeout(() => agent.requestStop(), 10);
    return c.json({});
  });

  for (const area of areas) app.route(area.path, area.app);

  app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => c.json({ error: err.message }, 500));
  return app;
}
