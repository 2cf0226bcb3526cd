/**
 * `POST /agent/flare`: builds the flare inside the running agent (so status, expvars and
 * profiles are the agent's own) and answers with the zip's path as plain text.
 *
 * @module
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import * as v from "valibot";
import type { ApiArea } from "../api/mod.ts";
import type { CreateFlareOptions } from "./_create.ts";

/** The request body: `{"profile": seconds}`; an empty body takes no profiles. */
const FlareRequest = v.strictObject({
  profile: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(3600)),
    0,
  ),
});

/** The largest request body read; a flare request is a few bytes. */
export const MAX_FLARE_REQUEST_BYTES = 1024 * 1024;

/** Why `raw` is no flare request, in a few words, from valibot's first issue. */
function requestError(raw: unknown, issue: v.BaseIssue<unknown>): string {
  const path = v.getDotPath(issue);
  // An array passes for an object with keys "0", "1"…: name it for what it is.
  if (path === null || Array.isArray(raw)) {
    const got = Array.isArray(raw) ? "an array" : raw === null ? "null" : typeof raw;
    return `expected a JSON object such as {"profile": 30}, got ${got}`;
  }
  if (issue.type === "strict_object") return `unknown field "${path}" (expected "profile")`;
  return `"${path}" ${issue.message}`;
}

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
  app.post(
    "/flare",
    // Stops reading once the cap is passed; a Content-Length over it is refused unread.
    bodyLimit({
      maxSize: MAX_FLARE_REQUEST_BYTES,
      onError: (c) =>
        c.json({
          error:
            `Cannot read the flare request: the body is larger than ${MAX_FLARE_REQUEST_BYTES} bytes`,
        }, 413),
    }),
    async (c) => {
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
          { error: `Cannot parse the flare request: ${requestError(raw, req.issues[0])}` },
          400,
        );
      }
      const timeout = c.req.query("provider_timeout");
      // The builder (zip, YAML, profiles) is loaded when a flare is asked for, not at agent start.
      const { createFlare } = await import("./_create.ts");
      const path = await createFlare({
        ...options,
        profileSeconds: req.output.profile,
        providerTimeoutMs: timeout && /^\d+$/.test(timeout)
          ? Number(timeout) * 1000
          : options.providerTimeoutMs,
      });
      return c.text(path);
    },
  );
  return { path: "/agent", app };
}
