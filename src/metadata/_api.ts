import { Hono } from "hono";
import type { ApiArea } from "../api/mod.ts";
import { scrubObject } from "../config/mod.ts";
import type { HostMetadata } from "./_payload.ts";

/**
 * `GET /agent/hostname` (a JSON string) and `GET /agent/metadata/v5` (scrubbed, from the cache),
 * mounted on the agent API by `buildAgent`.
 *
 * @example Mount beside the status routes
 * ```ts
 * import { createApiApp } from "../api/mod.ts";
 * import { metadataApiArea, type HostMetadata } from "./mod.ts";
 * declare const metadata: HostMetadata;
 * const app = createApiApp({ token: "t".repeat(64), agent: { health: () => ({ Healthy: [], Unhealthy: [] }), requestStop() {} }, areas: [metadataApiArea(metadata)] });
 * ```
 */
export function metadataApiArea(metadata: HostMetadata): ApiArea {
  const app = new Hono();
  app.get("/hostname", (c) => c.json(metadata.hostname.hostname));
  app.get("/metadata/v5", (c) => c.json(scrubObject(metadata.getFromCache())));
  return { path: "/agent", app };
}
