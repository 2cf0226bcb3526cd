import { Hono } from "hono";
import type { ApiArea } from "../api/mod.ts";
import { type Config, scrubObject } from "../config/mod.ts";
import type { StatusCollector } from "./_collector.ts";
import { COLOR, PLAIN } from "./_style.ts";

/**
 * `GET /agent/status?format=json|text[&color=true]`, `GET /agent/status/sections`,
 * `GET /agent/{section}/status` and `GET /agent/config` (scrubbed). An unknown format falls
 * back to text, as in the Datadog Agent.
 *
 * @example List the sections through the API
 * ```ts
 * import assert from "node:assert/strict";
 * import { createApiApp } from "../api/mod.ts";
 * import { configDefaults } from "../config/mod.ts";
 * import { StatusCollector, statusApiArea } from "./mod.ts";
 * const status = new StatusCollector({ header: { version: "0.1.0", flavor: "agent", runtime: "bun",
 *   runtimeVersion: "1", buildArch: "amd64", pid: 1, startMs: 0, confFile: null, logFile: "",
 *   logLevel: "info" } });
 * status.register({ name: "Demo", section: "demo", data: () => ({}), text: () => "  OK" });
 * const token = "t".repeat(64);
 * const app = createApiApp({
 *   token,
 *   agent: { health: () => ({ Healthy: [], Unhealthy: [] }), requestStop() {} },
 *   areas: [statusApiArea(status, configDefaults())],
 * });
 * const res = await app.request("/agent/status/sections", {
 *   headers: { Authorization: `Bearer ${token}` },
 * });
 * assert.deepEqual(await res.json(), ["demo"]);
 * ```
 */
export function statusApiArea(status: StatusCollector, config: Config): ApiArea {
  const app = new Hono();
  const answer = async (c: any, section?: string) => {
    if (c.req.query("format") === "json") return c.json(await status.json(section));
    const style = c.req.query("color") === "true" ? COLOR : PLAIN;
    // Explicit: hono leaves the content type to the runtime, and not every runtime sets one.
    return c.text(await status.text(section, style), 200, {
      "Content-Type": "text/plain; charset=utf-8",
    });
  };
  app.get("/status", (c) => answer(c));
  app.get("/status/sections", (c) => c.json(status.sections()));
  app.get("/:section/status", (c) => {
    const section = c.req.param("section");
    if (!status.has(section)) {
      return c.json({
        error: `Unknown status section "${section}": expected one of ${
          status.sections().join(", ")
        }`,
      }, 404);
    }
    return answer(c, section);
  });
  app.get("/config", (c) => c.json(scrubObject(config)));
  return { path: "/agent", app };
}
