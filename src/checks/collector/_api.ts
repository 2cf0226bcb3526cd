import { Hono } from "hono";
import type { ApiArea } from "../../api/mod.ts";
import type { Collector } from "./_collector.ts";

/**
 * `GET /agent/config-check` (every config with the IDs the agent computed, and the config
 * errors) and `POST /agent/checks/reload[?all=true]` (answers what was scheduled and
 * unscheduled; `all` loads every check again).
 * Mounted under the API's auth like every area.
 */
export function checksApiArea(collector: Collector): ApiArea {
  const app = new Hono();
  app.get("/config-check", (c) => c.json(collector.configCheck()));
  app.post(
    "/checks/reload",
    async (c) => c.json(await collector.reload({ all: c.req.query("all") === "true" })),
  );
  return { path: "/agent", app };
}
