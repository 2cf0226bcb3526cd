/**
 * The local web console on `127.0.0.1:gui_port`: the agent's status, DogStatsD, the local
 * intake's metrics as plots, checks, traces, logs, flares and the fleet, as pages over the
 * agent's own JSON routes. `outpost launch-gui` logs in with a one-time link. The agent loads
 * this module only when `gui_port` is not -1.
 *
 * @module
 */
import { Hono } from "hono";
import type { Built, Component } from "../component.ts";
import type { Config } from "../config/mod.ts";
import type { ApiArea } from "../api/mod.ts";
import type { Runtime } from "../runtime/types.ts";
import type { Logger } from "../log/mod.ts";
import { type ConsoleDeps, createConsoleApp } from "./_app.ts";
import { Sessions } from "./_sessions.ts";

export { CONTENT_SECURITY_POLICY, type FlareSendResult } from "./_app.ts";
export { Sessions } from "./_sessions.ts";

/** The console listens on this address only: it is for the person at the machine. */
export const CONSOLE_HOST = "127.0.0.1";

/** Settings of the console (see {@linkcode consoleSettings}). */
export interface ConsoleSettings {
  /** `gui_port`; 0 picks a free port. */
  port: number;
}

/** Reads `gui_port`; null when it is -1 (the console is off). */
export function consoleSettings(config: Pick<Config, "gui_port">): ConsoleSettings | null {
  return config.gui_port === -1 ? null : { port: config.gui_port };
}

/** The console as a component; `port` and `url` are known once started. */
export interface ConsoleComponent extends Component {
  readonly port: number;
  readonly url: string;
  readonly app: Hono;
}

/**
 * `GET /agent/gui/intent` on the agent API (behind its token): a one-time login code for the
 * console, which `outpost launch-gui` turns into the URL it prints.
 */
export function consoleApiArea(sessions: Sessions): ApiArea {
  const app = new Hono();
  app.get("/gui/intent", (c) => c.text(sessions.code()));
  return { path: "/agent", app };
}

/** Builds the console server; it serves nothing until started. */
export function buildConsole(
  settings: ConsoleSettings,
  deps: ConsoleDeps & { runtime: Runtime; logger: Logger },
): Built<ConsoleComponent> {
  let server: Awaited<ReturnType<Runtime["serve"]>> | undefined;
  const app = createConsoleApp(deps, () => server?.port ?? settings.port);
  const component: ConsoleComponent = {
    name: "console",
    async start() {
      const log = deps.logger.for("console");
      // Like the Datadog Agent's GUI, a console that cannot listen is logged and unhealthy; the
      // agent runs on without it.
      try {
        server = await deps.runtime.serve(
          { hostname: CONSOLE_HOST, port: settings.port },
          app.fetch,
        );
      } catch (e) {
        log.error(
          `Cannot start the web console on ${CONSOLE_HOST}:${settings.port}: ${
            (e as Error).message
          } (gui_port: -1 turns it off)`,
        );
        return;
      }
      log.info(
        `Web console on http://${CONSOLE_HOST}:${server.port} (outpost launch-gui prints a login link)`,
      );
    },
    async stop() {
      await server?.close();
      server = undefined;
    },
    app: app as unknown as Hono,
    get port() {
      return server?.port ?? 0;
    },
    get url() {
      return `http://${CONSOLE_HOST}:${server?.port ?? settings.port}`;
    },
  };
  return { component, healthcheck: () => server !== undefined };
}
