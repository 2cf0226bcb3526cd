/**
 * `outpost installer daemon`: the installer, its local API on `<run_path>/installer.sock`,
 * the supervisor of the agent package, and pull mode when `fleet.catalog_url` is set.
 *
 * @module
 */
import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { HttpServer, Runtime } from "../runtime/types.ts";
import type { Config } from "../config/mod.ts";
import { createHttpClient, httpSettings } from "../http/mod.ts";
import type { Logger } from "../log/mod.ts";
import { agentApiClient, authTokenPath, ensureAuthToken } from "../api/mod.ts";
import { Installer } from "./_installer.ts";
import { createFleetApi } from "./_api.ts";
import { Supervisor } from "./_supervisor.ts";
import { SystemdSupervisor } from "./_systemd.ts";
import type { WatchState } from "./_state.ts";
import { startPuller } from "./_pull.ts";
import { FleetError } from "./_errors.ts";

/** The local API socket under a run path. */
export function socketPath(runPath: string): string {
  return join(runPath, "installer.sock");
}

/** Everything {@linkcode startDaemon} needs. */
export interface DaemonContext {
  runtime: Runtime;
  config: Config;
  configFile: string | null;
  logger: Logger;
  /** Shown on a terminal while a package downloads. */
  progress?: (done: number, total: number) => void;
  /** Where `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY` are read. @default process.env */
  env?: Record<string, string | undefined>;
}

/** A running daemon. */
export interface Daemon {
  installer: Installer;
  supervisor: Supervisor | SystemdSupervisor;
  socket: string;
  stop(): Promise<void>;
}

/** Starts the daemon: recovers from any crash, starts the agent, then serves the API. */
export async function startDaemon(ctx: DaemonContext): Promise<Daemon> {
  const { runtime, config, logger } = ctx;
  const f = config.fleet;
  const log = logger.for("fleet");
  // Packages and catalogs leave the host the way the agent's payloads do.
  const http = createHttpClient(runtime, httpSettings(config, ctx.env ?? process.env));
  mkdirSync(config.run_path, { recursive: true, mode: 0o700 });
  chmodSync(config.run_path, 0o700);
  const socket = socketPath(config.run_path);
  // Two daemons would both supervise an agent; a socket that answers means one is running.
  const answered = await runtime.fetchUnix(socket, new Request("http://fleet/status")).then(
    () => true,
    () => false,
  );
  if (answered) throw new FleetError("conflict", `Another fleet daemon is serving ${socket}`);

  const installer = new Installer({
    runtime,
    root: f.root,
    logger,
    publicKey: f.catalog_public_key,
    maxBytes: f.max_package_size,
    maxEntries: f.max_package_entries,
    maxCatalogBytes: f.max_catalog_size,
    fileRoots: f.file_roots,
    auth: f.registry_username
      ? { username: f.registry_username, password: f.registry_password }
      : undefined,
    download: { progress: ctx.progress, fetch: http.fetch },
  });
  await installer.recover(f.agent_package);

  // The agent creates the token too; making it first lets the watch read it before the child runs.
  const agentApi = agentApiClient({
    host: config.cmd_host,
    port: config.cmd_port,
    token: ensureAuthToken(authTokenPath(config, ctx.configFile)),
    // Polled every few seconds: a hung agent must not hold the watch.
    timeoutMs: 2000,
  });
  const pkg = f.agent_package;
  const watch = {
    runtime,
    repository: installer.repository(pkg),
    logger,
    // Throws when the agent cannot tell (not up yet, an error answer): the watch counts that as
    // not healthy.
    health: async () => (await agentApi.health()).Unhealthy.length === 0,
    healthTimeoutMs: f.experiment_health_timeout * 1000,
    watchMs: f.experiment_watch * 1000,
    onExperimentFailed: (reason: string) => installer.stopExperiment(pkg, reason),
    onWatch: (state: WatchState) => installer.setWatch(pkg, state),
  };
  const supervisor = f.supervisor === "systemd" ? new SystemdSupervisor(watch) : new Supervisor({
    ...watch,
    args: ["run", ...(ctx.configFile ? ["-c", ctx.configFile] : [])],
    pidFile: join(config.run_path, "fleet-agent.pid"),
  });
  installer.onChange = async (changed) => {
    if (changed === pkg) await supervisor.sync();
  };
  await supervisor.start();

  let server: HttpServer;
  try {
    server = await runtime.serve({ path: socket, mode: 0o600 }, createFleetApi(installer).fetch);
  } catch (e) {
    await supervisor.stop();
    throw e;
  }
  log.info(`Fleet API listening on ${socket}`);

  const puller = f.catalog_url
    ? startPuller({
      installer,
      url: f.catalog_url,
      intervalMs: f.poll_interval * 1000,
      logger,
      fetch: http.fetch,
    })
    : null;
  if (puller) log.info(`Polling ${f.catalog_url} every ${f.poll_interval} s`);

  return {
    installer,
    supervisor,
    socket,
    async stop() {
      puller?.stop();
      await server.close();
      await supervisor.stop();
    },
  };
}
