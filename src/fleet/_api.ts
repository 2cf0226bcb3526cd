/**
 * The local fleet API: a hono app served on `<run_path>/installer.sock`. Every route requires
 * `Content-Type: application/json`; success is `200 {}`, failures are
 * `{"error":{"message":"…"}}` with a status that fits the cause.
 *
 * @module
 */
import { Hono } from "hono";
import * as v from "valibot";
import { FleetError } from "./_errors.ts";
import { issueText } from "./_catalog.ts";
import { catalogTooLarge, type Installer } from "./_installer.ts";
import { readCapped } from "./_fsutil.ts";
import { isVersionName, VERSION_RULE } from "./_repository.ts";

/** Largest body of a route other than `/catalog`: they hold a version at most. */
const MAX_BODY_BYTES = 64 * 1024;

const version = v.pipe(v.string("expected a string"), v.check(isVersionName, VERSION_RULE));

const versionBody = v.object({ version });
const installBody = v.object({
  version: v.optional(version),
  install_args: v.optional(v.array(v.string())),
  extensions: v.optional(v.array(v.string())),
});
const emptyBody = v.object({});

/** Reads a JSON body of at most `maxBytes`: empty counts as `{}`; bad JSON is a 400. */
async function jsonBody(
  req: Request,
  maxBytes = MAX_BODY_BYTES,
  tooLarge = () =>
    new FleetError("too_large", `The request body is over the cap of ${maxBytes} bytes`),
): Promise<unknown> {
  // A declared length over the cap is refused before a byte is read.
  if (Number(req.headers.get("content-length") ?? 0) > maxBytes) throw tooLarge();
  const text = new TextDecoder().decode(await readCapped(req.body, maxBytes, tooLarge));
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new FleetError("bad_request", `Cannot parse the request body: ${(e as Error).message}`);
  }
}

function check<T extends v.GenericSchema>(schema: T, body: unknown): v.InferOutput<T> {
  const r = v.safeParse(schema, body);
  if (!r.success) {
    throw new FleetError("bad_request", `Invalid request body: ${issueText(r.issues)}`);
  }
  return r.output;
}

/**
 * Builds the local API over an installer.
 *
 * @example Ask for the status
 * ```ts ignore
 * const res = await createFleetApi(installer).request("/status", { headers: { "Content-Type": "application/json" } });
 * ```
 */
export function createFleetApi(installer: Installer): Hono {
  const app = new Hono();

  app.use("*", async (c, next) => {
    const type = c.req.header("content-type") ?? "";
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      return c.json({ error: { message: "Content-Type must be application/json" } }, 415);
    }
    await next();
  });

  app.get("/status", (c) => c.json(installer.status()));
  app.post("/catalog", async (c) => {
    const max = installer.maxCatalogBytes;
    const tooLarge = () =>
      installer.refused("Refused a catalog from the local API", catalogTooLarge(max));
    await installer.setCatalog(await jsonBody(c.req.raw, max, tooLarge));
    return c.json({});
  });
  app.post("/:package/install", async (c) => {
    const body = check(installBody, await jsonBody(c.req.raw));
    // Go hands these to the package's install hooks; outpost's packages have none, so a
    // request that needs them is refused rather than half done.
    for (const key of ["install_args", "extensions"] as const) {
      if (body[key]?.length) {
        throw new FleetError(
          "bad_request",
          `Invalid request body: "${key}" is not supported (outpost packages have no install hooks)`,
        );
      }
    }
    await installer.install(c.req.param("package"), body.version);
    return c.json({});
  });
  app.post("/:package/remove", async (c) => {
    check(v.looseObject({}), await jsonBody(c.req.raw));
    await installer.remove(c.req.param("package"));
    return c.json({});
  });
  app.post("/:package/experiment/start", async (c) => {
    const body = check(versionBody, await jsonBody(c.req.raw));
    await installer.startExperiment(c.req.param("package"), body.version);
    return c.json({});
  });
  app.post("/:package/experiment/stop", async (c) => {
    check(emptyBody, await jsonBody(c.req.raw));
    await installer.stopExperiment(c.req.param("package"));
    return c.json({});
  });
  app.post("/:package/experiment/promote", async (c) => {
    check(emptyBody, await jsonBody(c.req.raw));
    await installer.promote(c.req.param("package"));
    return c.json({});
  });

  // A known path asked with another method is a 405, as the Go daemon's router answers.
  // (The Content-Type check is the one `ALL` route.)
  const routes = app.routes.filter((r) => r.method !== "ALL").map((r) => ({
    method: r.method,
    path: new RegExp(`^${r.path.replace(/:[^/]+/g, "[^/]+")}$`),
  }));
  app.notFound((c) => {
    const allowed = routes.filter((r) => r.path.test(c.req.path)).map((r) => r.method);
    if (allowed.length > 0) {
      c.header("Allow", [...new Set(allowed)].join(", "));
      return c.json({
        error: { message: `Method ${c.req.method} is not allowed on ${c.req.path}` },
      }, 405);
    }
    return c.json({ error: { message: `No route for ${c.req.method} ${c.req.path}` } }, 404);
  });
  app.onError((err, c) => {
    const status = err instanceof FleetError ? err.status : 500;
    return c.json({ error: { message: err.message } }, status as 400);
  });
  return app;
}
