import { Hono } from "hono";
import type { ApiArea } from "../../api/mod.ts";
import type { Collector } from "./_collector.ts";

/** What `POST /agent/checks/:name/run` answers: `outpost check NAME --json` as JSON. */
export interface CheckRunAnswer {
  /** 0 when every instance ran without error; 1 otherwise (what `outpost check` exits with). */
  exit_code: number;
  /** Per instance: what it submitted (`aggregator`), its run stats (`runner`), `inventories`. */
  results: unknown[];
  /** Config and loading errors, one line each. */
  errors: string[];
}

/** What `outpost check` says when no config names the check. */
export const NO_CHECK = "no valid check found";

/** Largest check name the run route takes: names are conf.d folder names. */
const MAX_NAME = 256;

/**
 * `GET /agent/config-check` (every config with the IDs the agent computed, and the config
 * errors), `POST /agent/checks/reload[?all=true]` (answers what was scheduled and
 * unscheduled; `all` loads every check again) and `POST /agent/checks/:name/run` (runs each
 * instance of one check once, apart from the scheduled ones: nothing it submits is sent).
 * Mounted under the API's auth like every area.
 */
export function checksApiArea(
  collector: Collector,
  run: (name: string) => Promise<CheckRunAnswer>,
): ApiArea {
  const app = new Hono();
  app.get("/config-check", (c) => c.json(collector.configCheck()));
  app.post(
    "/checks/reload",
    async (c) => c.json(await collector.reload({ all: c.req.query("all") === "true" })),
  );
  app.post("/checks/:name/run", async (c) => {
    const name = c.req.param("name");
    if (name.length > MAX_NAME || !/^[\w.-]+$/.test(name)) {
      return c.json(
        { error: `Cannot run check "${name.slice(0, MAX_NAME)}": not a check name` },
        400,
      );
    }
    const answer = await run(name);
    const unknown = answer.results.length === 0 && answer.errors.includes(NO_CHECK);
    return c.json(answer, unknown ? 404 : 200);
  });
  return { path: "/agent", app };
}
