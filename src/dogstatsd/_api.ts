import { join } from "node:path";
import { Hono } from "hono";
import type { ApiArea } from "../api/mod.ts";
import { OutpostError } from "../errors.ts";
import type { DogStatsDServer } from "./_server.ts";

/** Longest capture asked for in one call: an hour of a busy socket is gigabytes. */
export const MAX_CAPTURE_SECONDS = 3600;

/**
 * DogStatsD's routes on the agent API (`server` is null when `use_dogstatsd` is off):
 * - `GET /agent/dogstatsd-stats`: the per-context sample counts, or 400 naming the key to set
 *   when `dogstatsd_stats_enable` is off;
 * - `POST /agent/dogstatsd-capture` `{"duration": seconds}`: captures the datagrams received for
 *   that long into a new file under `captureDir`, and answers its path when it is complete.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createApiApp } from "../api/mod.ts";
 * import { dogstatsdApiArea } from "./_api.ts";
 * const token = "t".repeat(64);
 * const app = createApiApp({
 *   token,
 *   agent: { health: () => ({ Healthy: [], Unhealthy: [] }), requestStop() {} },
 *   areas: [dogstatsdApiArea(null, "/nonexistent")],
 * });
 * const res = await app.request("/agent/dogstatsd-stats", { headers: { Authorization: `Bearer ${token}` } });
 * assert.equal(res.status, 400);
 * ```
 */
export function dogstatsdApiArea(server: DogStatsDServer | null, captureDir: string): ApiArea {
  const app = new Hono();
  const off = "DogStatsD is not running: set use_dogstatsd: true and restart the agent";
  app.get("/dogstatsd-stats", (c) => {
    if (!server?.metricStats) {
      return c.json({
        error: "DogStatsD metric stats are not enabled: set dogstatsd_stats_enable: true " +
          "(and use_dogstatsd) and restart the agent",
      }, 400);
    }
    return c.json(server.metricStats.snapshot());
  });
  app.post("/dogstatsd-capture", async (c) => {
    if (!server) return c.json({ error: off }, 400);
    const body = await c.req.json().catch(() => null) as { duration?: unknown } | null;
    const duration = body?.duration;
    if (
      typeof duration !== "number" || !Number.isFinite(duration) || duration <= 0 ||
      duration > MAX_CAPTURE_SECONDS
    ) {
      return c.json({
        error:
          `expected a JSON body {"duration": seconds}, more than 0 and at most ${MAX_CAPTURE_SECONDS}`,
      }, 400);
    }
    const path = join(
      captureDir,
      `dogstatsd-capture-${new Date().toISOString().replace(/[:.]/g, "-")}.bin`,
    );
    try {
      const written = await server.capture(path, duration * 1000);
      return c.json({ path, ...written });
    } catch (e) {
      if (!(e instanceof OutpostError)) throw e;
      return c.json({ error: e.message }, e.code === "capture_busy" ? 409 : 500);
    }
  });
  return { path: "/agent", app };
}
