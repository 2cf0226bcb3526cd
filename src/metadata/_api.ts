import { Hono } from "hono";
import type { ApiArea } from "../api/mod.ts";
import { scrubObject } from "../config/mod.ts";
import type { HostMetadata } from "./_payload.ts";

/**
 * `GET /agent/hostname` (a JSON string) and `GET /agent/metadata/v5` (scrubbed, from the cache),
 * mounted on the agent API by `buildAgent`.
 *
 * @example Mount on the API and ask for the host name
 * ```ts
 * import assert from "node:assert/strict";
 * import { createApiApp } from "../api/mod.ts";
 * import { configDefaults } from "../config/mod.ts";
 * import { HostMetadata, metadataApiArea } from "./mod.ts";
 * const hostname = { hostname: "edge-1", provider: "configuration", osHostname: "edge-1", fqdn: "edge-1", errors: {} } as const;
 * const metadata = new HostMetadata({ config: configDefaults(), configFile: null, hostname });
 * const token = "t".repeat(64);
 * const app = createApiApp({
 *   token,
 *   agent: { health: () => ({ Healthy: [], Unhealthy: [] }), requestStop() {} },
 *   areas: [metadataApiArea(metadata)],
 * });
 * const res = await app.request("/agent/hostname", { headers: { Authorization: `Bearer ${token}` } });
 * assert.equal(await res.json(), "edge-1");
 * ```
 */
export function metadataApiArea(metadata: HostMetadata): ApiArea {
  const app = new Hono();
  app.get("/hostname", (c) => c.json(metadata.hostname.hostname));
  app.get("/metadata/v5", (c) => c.json(scrubObject(metadata.getFromCache())));
  return { path: "/agent", app };
}
