/**
 * The agent's own HTTP API on `cmd_host:cmd_port`, guarded by the auth token.
 *
 * @module
 */
import type { Runtime } from "../runtime/types.ts";
import type { Hono } from "hono";
import type { Built, Component } from "../component.ts";
import type { Config } from "../config/mod.ts";
import { type AgentHandle, type ApiArea, createApiApp } from "./_app.ts";

export {
  type ApiArea,
  createApiApp,
  type HealthReport,
  isLoopbackHost,
  isLoopbackHostHeader,
} from "./_app.ts";
export {
  type AgentApiClient,
  agentApiClient,
  AgentApiError,
  networkErrorReason,
} from "./_client.ts";
export {
  authTokenPath,
  clientAuthTokenPath,
  DEV_RUN_PATH,
  ensureAuthToken,
  ensureRunPath,
  readAuthToken,
  tokenMatches,
} from "./_auth_token.ts";

/** Settings of the API server (see {@linkcode apiSettings}). */
export interface ApiSettings {
  /** `cmd_host`: where it listens. */
  host: string;
  /** `cmd_port`; 0 picks a free port. */
  port: number;
}

/** Reads `cmd_host` and `cmd_port`. */
export function apiSettings(config: Pick<Config, "cmd_host" | "cmd_port">): ApiSettings {
  return { host: config.cmd_host, port: config.cmd_port };
}

/** What the API server needs besides its settings. */
export interface ApiDeps {
  runtime: Runtime;
  /** Every request but none must carry it as `Authorization: Bearer <token>`. */
  token: string;
  /** Health and stop of the agent that serves the API. */
  agent: AgentHandle;
  /** Routes other folders add (status, metadata, flare). @default [] */
  areas?: ApiArea[];
}

/** The API server as a component; `port` is the bound port once started. */
export interface ApiComponent extends Component {
  readonly port: number;
  readonly app: Hono;
}

/**
 * Builds the API server: a Hono app behind the token, served once started.
 *
 * @example
 * ```ts
 * import { runtime } from "../runtime/mod.ts";
 * import { apiSettings, buildApi } from "./mod.ts";
 * const token = "ab".repeat(32);
 * const { component } = buildApi(apiSettings({ cmd_host: "127.0.0.1", cmd_port: 0 }), {
 *   runtime, token,
 *   agent: { health: () => ({ Healthy: ["api"], Unhealthy: [] }), requestStop: () => {} },
 * });
 * await component.start();
 * const res = await fetch(`http://127.0.0.1:${component.port}/agent/status/health`, {
 *   headers: { Authorization: `Bearer ${token}` },
 * });
 * console.log(res.status); // 200
 * await component.stop();
 * ```
 */
export function buildApi(settings: ApiSettings, deps: ApiDeps): Built<ApiComponent> {
  const { runtime, token, agent, areas = [] } = deps;
  let server: Awaited<ReturnType<Runtime["serve"]>> | undefined;
  const app = createApiApp({ token, agent, areas });
  const component: ApiComponent = {
    name: "api",
    async start() {
      server = await runtime.serve({ hostname: settings.host, port: settings.port }, app.fetch);
    },
    async stop() {
      await server?.close();
    },
    app,
    get port() {
      return server?.port ?? 0;
    },
  };
  return { component, healthcheck: () => server !== undefined };
}
