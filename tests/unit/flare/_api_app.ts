/**
 * The flare API app of the API tests, and its secrets. Shared by the test file and the fresh
 * process that answers a flare request with profiles (its heap holds these constants).
 */
import { loadConfig } from "../../../src/config/mod.ts";
import { createApiApp } from "../../../src/api/mod.ts";
import { flareApiArea } from "../../../src/flare/mod.ts";
import { runtime } from "../../../src/runtime/mod.ts";

export const TOKEN = "ab".repeat(32);
export const API_KEY = "5ec2e7a95ec2e7a95ec2e7a95ec2e7a9";
export const PROXY_PASSWORD = "hunter2-proxy";

/** The agent API with the flare area only, writing its zips to `outDir`. */
export async function app(outDir: string) {
  const { config } = await loadConfig(runtime, {
    searchPaths: [],
    env: {
      DD_HOSTNAME: "api-host",
      DD_API_KEY: API_KEY,
      DD_PROXY_HTTPS: `http://bob:${PROXY_PASSWORD}@127.0.0.1:3128`,
    },
  });
  const health = { Healthy: ["api"], Unhealthy: [] };
  const area = flareApiArea({
    runtime,
    config,
    configFile: null,
    env: {},
    sources: { healthYaml: () => health, expvars: () => ({ dogstatsd: { packets: 3 } }) },
    outDir,
  });
  return createApiApp({
    token: TOKEN,
    agent: { health: () => health, requestStop() {} },
    areas: [area],
  });
}

/** `POST /agent/flare` with `body` and a bearer `token`. */
export async function postFlare(outDir: string, body: string, token = TOKEN) {
  return (await app(outDir)).request("/agent/flare", {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body,
  });
}
