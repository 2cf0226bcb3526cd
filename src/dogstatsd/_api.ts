import { Hono } from "hono";
import type { ApiArea } from "../api/mod.ts";
import type { MetricStats } from "./_metric_stats.ts";

/**
 * `GET /agent/dogstatsd-stats`: the per-context sample counts, or 400 naming the key to set when
 * `dogstatsd_stats_enable` is off (`stats` null), as the Datadog Agent answers.
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
 *   areas: [dogstatsdApiArea(null)],
 * });
 * const res = await app.request("/agent/dogstatsd-stats", { headers: { Authorization: `Bearer ${token}` } });
 * assert.equal(res.status, 400);
 * ```
 */
export function dogstatsdApiArea(stats: MetricStats | null): ApiArea {
  const app = new Hono();
  app.get("/dogstatsd-stats", (c) => {
    if (!stats) {
      return c.json({
        error: "DogStatsD metric stats are not enabled: set dogstatsd_stats_enable: true " +
          "(and use_dogstatsd) and restart the agent",
      }, 400);
    }
    return c.json(stats.snapshot());
  });
  return { path: "/agent", app };
}
