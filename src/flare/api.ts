/**
 * `POST /agent/flare`: builds the flare inside the running agent (so status, expvars and
 * profiles are the agent's own) and answers with the zip's path as plain text.
 *
 * @module
 */
import { Hono } from "hono";
import * as v from "valibot";
import type { ApiArea } from "../api/mod.ts";
import type { CreateFlareOptions } from "./create.ts";

/** The request body: `{"profile": seconds}`; an empty body takes no profiles. */
const FlareRequest = v.object({
  profile: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(3600)),
    0,
  ),
});

/** What the area needs: everything {@linkcode createFlare} takes but the per-request parts. */
export type FlareApiOptions = Omit<
  CreateFlareOptions,
  "profileSeconds" | "localReason" | "onProgress"
>;

/**
 * The flare route as an API area, mounted under `/agent`.
 *
 * @example
 * ```ts ignore
 * createApiApp({ token, agent, areas: [flareApiArea({ runtime, config, configFile, env: process.env, sources: {} })] });
 * ```
 */
export function flareApiArea(options: FlareApiOptions): ApiArea {
  const app = new Hono();
  app.post("/flare", async (c) => {
    const text = await c.req.text();
    let raw: unknown = {};
    try {
      raw = text.trim() === "" ? {} : JSON.parse(text);
    } catch {
      return c.json({ error: "Cannot parse the flare request: expected a JSON object" }, 400);
    }
    const req = v.safeParse(FlareRequest, raw);
    if (!req.success) {
      return c.json(
        { error: `Cannot parse the flare request: "profile" ${req.issues[0].message}` },
        400,
      );
    }
    const timeout = c.req.query("provider_timeout");
    // The builder (zip, YAML, profiles) is loaded when a flare is asked for, not at agent start.
    const { createFlare } = await import("./create.ts");
    const path = await createFlare({
      ...options,
      profileSeconds: req.output.profile,
      providerTimeoutMs: timeout && /^\d+$/.test(timeout)
        ? Number(timeout) * 1000
        : options.providerTimeoutMs,
    });
    return c.text(path);
  });
  return { path: "/agent", app };
}
