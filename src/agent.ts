/**
 * The composition root: builds the components from the config, starts them in order and
 * stops them in reverse. A component that fails to start stops the ones already started.
 *
 * @module
 */
import { join } from "node:path";
import type { Runtime } from "./runtime/types.ts";
import type { Config } from "./config/mod.ts";
import type { Logger } from "./log/mod.ts";
import { LossReporter, Registry } from "./telemetry/mod.ts";
import type { Built, Component } from "./component.ts";
import { type HealthReport, isLoopbackHost } from "./api/mod.ts";
import { OutpostError } from "./errors.ts";
import { BUILD } from "./version.ts";
import { aggregatorSettings, buildAggregator } from "./aggregator/mod.ts";
import { Serializer, serializerSettings } from "./serializer/mod.ts";
import { buildForwarder, type DomainKeys, forwarderSettings } from "./forwarder/mod.ts";
import { createHttpClient, httpSettings } from "./http/mod.ts";
import type { ChecksSettings } from "./checks/mod.ts";
import type { ConfdResult, Loader } from "./checks/_types.ts";
import type { StatusCollector } from "./status/mod.ts";
import type { HostMetadata, HostnameInfo } from "./metadata/mod.ts";
import type { IntakeComponent } from "./intake/mod.ts";

/** The run record in `run_path`: tells at the next start that a run was killed. */
export const RUN_RECORD_FILE = "outpost_run.json";

/** How long components get to stop after SIGTERM before the process exits anyway. */
export const STOP_DEADLINE_MS = 15_000;

/** Components in start order, with health and a stop that respects a deadline. */
export class Agent {
  readonly #built: readonly Built[];
  readonly #started: Component[] = [];
  readonly #log;
  #stopRequested: () => void = () => {};
  /** Resolves when something (a signal, `POST /agent/stop`) asks the agent to stop. */
  readonly stopRequested: Promise<void>;

  /** `built` in start order; the list may still grow until `start`. */
  constructor(built: readonly Built[], logger: Logger) {
    this.#built = built;
    this.#log = logger.for("agent");
    this.stopRequested = new Promise((resolve) => (this.#stopRequested = resolve));
  }

  /**
   * Starts every component in order; on a failure stops those started and throws, with the
   * reason as the message: the caller tells it, once.
   */
  async start(): Promise<void> {
    for (const { component: c } of this.#built) {
      try {
        await c.start();
      } catch (e) {
        const reason = `Cannot start ${c.name}: ${(e as Error).message}`;
        await this.stop();
        throw new OutpostError("start_failed", reason, { cause: e });
      }
      this.#started.push(c);
      this.#log.debug(`${c.name} started`);
    }
  }

  /** Stops started components in reverse order; returns false if the deadline passed first. */
  async stop(deadlineMs = STOP_DEADLINE_MS): Promise<boolean> {
    const stopAll = (async () => {
      while (this.#started.length > 0) {
        const c = this.#started.pop()!;
        try {
          await c.stop();
          this.#log.debug(`${c.name} stopped`);
        } catch (e) {
          this.#log.error(`Cannot stop ${c.name} cleanly: ${(e as Error).message}`);
        }
      }
      return true;
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<boolean>((
      resolve,
    ) => (timer = setTimeout(() => resolve(false), deadlineMs)));
    const inTime = await Promise.race([stopAll, deadline]);
    clearTimeout(timer);
    if (!inTime) this.#log.warn(`Components still stopping after ${deadlineMs} ms: exiting anyway`);
    return inTime;
  }

  /** Asks the agent to stop (what SIGTERM and `POST /agent/stop` do). */
  requestStop(): void {
    this.#stopRequested();
  }

  /** The component named `name`, e.g. to read a bound port. */
  component<T extends Component = Component>(name: string): T | undefined {
    return this.#built.find((b) => b.component.name === name)?.component as T | undefined;
  }

  /** Which components are healthy; a component not started yet is unhealthy. */
  health(): HealthReport {
    const report: HealthReport = { Healthy: [], Unhealthy: [] };
    for (const { component, healthcheck } of this.#built) {
      const ok = this.#started.includes(component) && healthcheck();
      (ok ? report.Healthy : report.Unhealthy).push(component.name);
    }
    return report;
  }
}

/** The start-time warning for an API that other hosts can reach, or null when it is local. */
export function cmdHostWarning(host: string, port: number): string | null {
  if (isLoopbackHost(host)) return null;
  const where = host === "0.0.0.0" || host === "::" || host === "[::]"
    ? "every interface"
    : "a non-loopback address";
  return `The API listens on ${host}:${port}, ${where}: other hosts can reach it (cmd_host: ` +
    `localhost keeps it on this machine)`;
}

/** Everything {@linkcode buildAgent} needs. */
export interface AgentContext {
  runtime: Runtime;
  config: Config;
  configFile: string | null;
  logger: Logger;
  /** @default a new registry */
  registry?: Registry;
  /** The embedded local intake of `--dev`, if any: started first, stopped last. */
  intake?: Built;
  /** Other check loaders and configs than the shipped ones (tests, embedders). */
  checks?: {
    loaders?: Loader[];
    loadConfigs?: (settings: ChecksSettings) => ConfdResult;
  };
  /**
   * The Lambda extension's agent: the pipeline only (forwarder, aggregator, DogStatsD read on
   * the main thread, trace, logs when enabled). No API, expvar, host metadata, checks, status
   * or flare: nothing in the sandbox asks for them, and their modules are never loaded, which
   * is most of the extension's memory (`scripts/bench/lambda.ts`).
   * @default false
   */
  lambda?: boolean;
}

/** Builds the agent and its components from the config. */
export async function buildAgent(ctx: AgentContext): Promise<Agent> {
  const { runtime, config, logger } = ctx;
  const lambda = ctx.lambda ?? false;
  const registry = ctx.registry ?? new Registry();
  const log = logger.for("agent");
  const { ensureRunPath } = await import("./api/mod.ts");
  ensureRunPath(config.run_path);
  const built: Built[] = [];
  const agent = new Agent(built, logger);

  // Datadog's serverless agents send metrics and traces with no host: a sandbox's name means
  // nothing to anyone (the function's logs carry its ARN instead).
  let hostname: HostnameInfo = {
    hostname: "",
    provider: "unknown",
    osHostname: "",
    fqdn: "",
    errors: {},
  };
  if (!lambda) {
    const { hostnameWarnings, resolveHostname } = await import("./metadata/mod.ts");
    hostname = await resolveHostname(runtime, config);
    for (const line of hostnameWarnings(hostname)) log.warn(line);
    log.info(`Hostname is "${hostname.hostname}" (provider: ${hostname.provider})`);
  }

  // A component the config turns off is not even loaded in Lambda; the host agent still
  // loads it for its status section and API routes.
  const traceMod = config.apm_config.enabled || !lambda ? await import("./trace/mod.ts") : null;
  const logsMod = config.logs_enabled || !lambda ? await import("./logs/mod.ts") : null;
  const dsdMod = config.use_dogstatsd || !lambda ? await import("./dogstatsd/mod.ts") : null;

  // The metrics pipeline, from the forwarder back to the sources, each handing to the next.
  // One loss reporter for every component: each loss is counted and logged, rate limited.
  const losses = new LossReporter({ registry, logger });
  const http = createHttpClient(runtime, httpSettings(config, process.env));
  const traceConfig = traceMod?.traceSettings(config) ?? null;
  const logsConfig = logsMod?.logsComponentSettings(config, BUILD.agentVersion, lambda) ?? null;
  const logsPipelines: Record<string, DomainKeys[]> = logsMod && logsConfig?.enabled
    ? {
      [logsMod.LOGS_PIPELINE]: logsConfig.sender.reliable,
      [logsMod.LOGS_UNRELIABLE_PIPELINE]: logsConfig.sender.unreliable,
    }
    : {};
  const forwarder = buildForwarder({
    ...forwarderSettings(config),
    pipelines: { ...(traceConfig ? { traces: traceConfig.domains } : {}), ...logsPipelines },
  }, {
    runtime,
    http,
    registry,
    logger,
    losses,
    runRecordPath: join(config.run_path, RUN_RECORD_FILE),
  });
  const serializer = new Serializer(serializerSettings(config), {
    runtime,
    registry,
    hostname: hostname.hostname,
    send: (payloads) => payloads.map((p) => forwarder.component.submit(p)),
  });
  const aggregator = buildAggregator(aggregatorSettings(config), {
    sink: serializer,
    hostname: hostname.hostname,
    registry,
    log: logger.for("aggregator"),
    losses,
  });
  // Logs: sources → sender → the forwarder's `logs` pipeline; delivered file lines are acked to
  // the auditor, which alone moves the registry's offsets.
  const logsSources = logsMod && logsConfig?.enabled
    ? logsMod.logsSettings(config, ctx.configFile)
    : null;
  const auditor = logsMod && logsSources && new logsMod.Auditor({
    path: logsSources.registryPath,
    ttlMs: logsSources.auditorTtlMs,
    log: logger.for("logs"),
  });
  const logs = logsMod && logsConfig && logsSources && auditor &&
    logsMod.buildLogs(logsConfig, {
      runtime,
      registry,
      logger,
      submit: (p) => forwarder.component.submit(p),
      auditor,
      sources: (out) =>
        logsMod.buildLogSources(logsSources, {
          runtime,
          registry,
          logger,
          hostname: hostname.hostname,
          auditor,
          ...out,
        }),
      configErrors: logsSources.errors,
      configWarnings: logsSources.warnings,
    });
  const dogstatsd = dsdMod?.buildDogstatsd(
    { ...dsdMod.dogstatsdSettings(config, hostname.hostname), mainThreadReader: lambda },
    { runtime, sink: aggregator.component.aggregator, registry, logger, losses },
  ) ?? null;
  // Traces: the receiver feeds the processing core, whose kept traces and stats go to the
  // forwarder's `traces` pipeline; `/dogstatsd/*/proxy` feeds DogStatsD's batch path.
  const trace = traceMod && traceConfig && traceMod.buildTrace(traceConfig, {
    runtime,
    registry,
    logger,
    http,
    hostname: hostname.hostname,
    submit: (p) => forwarder.component.submit(p),
    processor: new traceMod.TraceProcessor(traceConfig.processing, {
      registry,
      hostname: hostname.hostname,
    }),
    dogstatsd: dogstatsd?.component ?? null,
  });

  // Started in this order, stopped in reverse: the aggregator's last flush reaches a forwarder
  // that is still running, and the forwarder persists what it could not send.
  if (ctx.intake) built.push(ctx.intake);
  built.push(forwarder, aggregator);
  if (lambda) {
    if (logs) built.push(logs);
    if (dogstatsd) built.push(dogstatsd);
    if (trace) built.push(trace);
    return agent;
  }

  const exposed = cmdHostWarning(config.cmd_host, config.cmd_port);
  if (exposed) log.warn(exposed);
  const [apiMod, flareMod, metadataMod, statusMod, checksMod, checksWiring, consoleMod] =
    await Promise.all([
      import("./api/mod.ts"),
      import("./flare/mod.ts"),
      import("./metadata/mod.ts"),
      import("./status/mod.ts"),
      import("./checks/mod.ts"),
      import("./checks/_wiring.ts"),
      // The console's module (and its embedded assets) is not even loaded when it is off.
      config.gui_port === -1 ? null : import("./console/mod.ts"),
    ]);
  const token = apiMod.ensureAuthToken(apiMod.authTokenPath(config, ctx.configFile));
  try {
    flareMod.recordVersion(config.run_path, BUILD.version);
  } catch (e) {
    log.warn(`Cannot record the version history: ${(e as Error).message}`);
  }
  const metadata: HostMetadata = new metadataMod.HostMetadata({
    config,
    configFile: ctx.configFile,
    hostname,
  });
  const status: StatusCollector = new statusMod.StatusCollector({
    header: {
      version: BUILD.version,
      commit: BUILD.commit,
      buildDate: BUILD.buildDate,
      agentVersion: BUILD.agentVersion,
      flavor: metadataMod.AGENT_FLAVOR,
      runtime: runtime.name,
      runtimeVersion: runtime.version,
      buildArch: metadataMod.BUILD_ARCH,
      pid: process.pid,
      startMs: Date.now(),
      confFile: ctx.configFile,
      logFile: config.log_file,
      logLevel: config.log_level,
    },
  });
  status.register(statusMod.dogstatsdStatusProvider(registry));
  status.register(statusMod.aggregatorStatusProvider(registry));
  status.register(statusMod.forwarderStatusProvider(registry));
  status.register(statusMod.hostMetadataStatusProvider(registry, metadata));

  const flare = flareMod.flareApiArea({
    runtime,
    config,
    configFile: ctx.configFile,
    env: process.env,
    authToken: token,
    hostname: hostname.hostname,
    sources: {
      statusText: () => status.text(),
      statusJson: () => status.json(),
      expvars: () => statusMod.expvarSnapshot(runtime, registry, process.argv),
      hostMetadata: () => metadata.getFromCache(),
      healthYaml: () => agent.health(),
      // `checks` is built below; the flare only asks once the agent runs.
      configCheck: () =>
        checksMod.renderConfigCheck(checks.component.collector.configCheck(), { verbose: true }),
      // The forwarder's status section: per endpoint the retry queue in memory and on disk.
      forwarderQueueSummary: () => status.json("forwarder"),
      fleetState: async () => (await import("./fleet/_state.ts")).readStateIfAny(config.fleet.root),
    },
  });
  // Checks submit into the aggregator; status, configcheck and the API read the one collector.
  const checksConfig = checksMod.checksSettings(config, ctx.configFile);
  const checks = checksMod.buildChecks(checksConfig, {
    runtime,
    config,
    registry,
    logger,
    aggregator: aggregator.component.aggregator,
    http,
    hostname: hostname.hostname,
    loaders: ctx.checks?.loaders ??
      checksWiring.defaultLoaders({
        aggregator: aggregator.component.aggregator,
        hostname: hostname.hostname,
      }),
    loadConfigs: () => (ctx.checks?.loadConfigs ?? checksWiring.loadConfigs)(checksConfig),
    runLoaders: () => checksWiring.defaultLoaders(),
  });
  status.register(checks.component.statusProvider);
  status.register(
    logs ? logs.component.statusProvider : logsMod!.logsStatusProvider(registry, null),
  );
  if (trace) status.register(trace.component.statusProvider);
  const consoleSessions = consoleMod && new consoleMod.Sessions();
  const api = apiMod.buildApi(apiMod.apiSettings(config), {
    runtime,
    token,
    agent: { health: () => agent.health(), requestStop: () => agent.requestStop() },
    areas: [
      statusMod.statusApiArea(status, config),
      metadataMod.metadataApiArea(metadata),
      flare,
      checks.component.apiArea,
      dsdMod!.dogstatsdApiArea(dogstatsd?.component ?? null, join(config.run_path, "dsd_capture")),
      ...(logs ? [logs.component.apiArea] : []),
      ...(consoleMod && consoleSessions ? [consoleMod.consoleApiArea(consoleSessions)] : []),
    ],
  });
  const consoleSettings = consoleMod?.consoleSettings(config);
  const gui = consoleMod && consoleSessions && consoleSettings &&
    consoleMod.buildConsole(consoleSettings, {
      runtime,
      logger,
      registry,
      sessions: consoleSessions,
      token,
      hostname: hostname.hostname,
      agentApi: (req) => api.component.app.fetch(req),
      intakeUrl: ctx.intake ? (ctx.intake.component as IntakeComponent).url : null,
      fleet: async (req) =>
        runtime.fetchUnix((await import("./fleet/mod.ts")).socketPath(config.run_path), req),
      sendFlare: (path, { caseId, email }) =>
        flareMod.sendFlare(path, flareMod.flareBaseUrl(config, BUILD.agentVersion), {
          apiKey: config.api_key,
          caseId,
          email,
          hostname: flareMod.cleanHostname(hostname.hostname),
          agentVersion: BUILD.agentVersion,
          fetch: http.fetch,
        }),
    });
  const expvar = statusMod.buildExpvar(statusMod.expvarSettings(config), {
    runtime,
    registry,
    cmdline: process.argv,
  });
  const metadataLog = logger.for("metadata");
  const hostMetadata = metadataMod.buildHostMetadata(
    metadataMod.hostMetadataSettings(config, metadataLog),
    {
      metadata,
      // Host metadata carries the API key: high priority, and never written to the disk queue.
      // Counted as sent only once the intake accepted it.
      send: async ({ route, payload }) => {
        const sent = serializer.sendJson(route, payload, {
          kind: "host_metadata",
          storable: false,
          priority: "high",
        });
        if (!sent.ok) throw new Error(`host metadata not sent: ${sent.reason}`);
        const { status, reason } = await sent.delivery.done;
        if (status !== "delivered") throw new Error(`host metadata not delivered: ${reason}`);
      },
      log: metadataLog,
      registry,
      ready: hostname.fqdnRead,
    },
  );

  built.push(checks);
  if (logs) built.push(logs);
  if (dogstatsd) built.push(dogstatsd);
  if (trace) built.push(trace);
  built.push(api, expvar);
  if (gui) built.push(gui);
  built.push(hostMetadata);
  return agent;
}
