/**
 * The agent's own HTTP API on `cmd_host:cmd_port`, guarded by the auth token.
 *
 * @module
 */
import type { Runtime } from "../runtime/types.ts";
import type { Hono } from "hono";
import type { Component } from "../component.ts";
import { type AgentHandle, type ApiArea, createApiApp } from "./app.ts";

export { type AgentHandle, type ApiArea, createApiApp, type HealthReport } from "./app.ts";
export {
  type AgentApiClient,
  agentApiClient,
  type AgentApiClientOptions,
  AgentApiError,
  type AgentApiErrorCode,
  type FlareRequestOptions,
  networkErrorReason,
  type StatusTextOptions,
} from "./_client.ts";
export {
  authTokenPath,
  clientAuthTokenPath,
  DEV_RUN_PATH,
  ensureAuthToken,
  ensureRunPath,
  readAuthToken,
} from "./auth_token.ts";

/** Settings of the API server. */
export interface ApiSettings {
  host: string;
  port: number;
  token: string;
}

/** The API server as an agent component. */
export function apiComponent(
  runtime: Runtime,
  settings: ApiSettings,
  agent: AgentHandle,
  areas: ApiArea[] = [],
): Component & { readonly port: number; readonly app: Hono } {
  let server: Awaited<ReturnType<Runtime["serve"]>> | undefined;
  const app = createApiApp({ token: settings.token, agent, areas });
  return {
    name: "api",
    async start() {
      server = await runtime.serve({ hostname: settings.host, port: settings.port }, app.fetch);
    },
    async stop() {
      await server?.close();
    },
    healthy: () => server !== undefined,
    app,
    get port() {
      return server?.port ?? 0;
    },
  };
}
