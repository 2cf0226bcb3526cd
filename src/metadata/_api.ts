import { Hono } from "hono";
import type { ApiArea } from "../api/mod.ts";
import { scrubObject } from "../config/mod.ts";
import type { HostMetadata } from "./_payload.ts";

/** `GET /agent/hostname` (a JSON string) and `GET /agent/metadata/v5` (scrubbed, from the cache). */
export function metadataApiArea(metadata: HostMetadata): ApiArea {
  const app = new Hono();
  app.get("/hostname", (c) => c.json(metadata.hostname.hostname));
  app.get("/metadata/v5", (c) => c.json(scrubObject(metadata.getFromCache())));
  return { path: "/agent", app };
}
