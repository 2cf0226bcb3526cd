/**
 * The composition root: builds the components from the config, starts them in order and
 * stops them in reverse. A component that fails to start stops the ones already started.
 *
 * @module
 */
import { dirname, join } from "node:path";
import type { Runtime } from "./runtime/types.ts";
import type { Config } from "./config/mod.ts";
import type { Logger } from "./log/mod.ts";
import { Registry } from "./telemetry/mod.ts";
import type { Component } from "./component.ts";
import { apiComponent, ensureAuthToken, type HealthReport } from "./api/mod.ts";
import { OutpostError } from "./errors.ts";
import { dogstatsdComponent, type DogStatsDSink } from "./dogstatsd/mod.ts";
import {
  Aggregator,
  aggregatorComponent,
  aggregatorOptionsFromConfig,
  loggingSink,
} from "./aggregator/mod.ts";

/** How long components get to stop after SIGTERM before the process exits anyway. */
export const STOP_DEADLINE_MS = 15_000;

/** Components in start order, with health and a stop that respects a deadline. */
export class Agent {
  readonly #components: Component[];
  readonly #started: Component[] = [];
  readonly #log;
  #stopRequested: () => void = () => {};
  /** Resolves when something (a signal, `POST /agent/stop`) asks the agent to stop. */
  readonly stopRequested: Promise<void>;

  constructor(components: Component[], logger: Logger) {
    this.#components = components;
    this.#log = logger.for("agent");
    this.stopRequested = new Promise((resolve) => (this.#stopRequested = resolve));
  }

  /** Starts every component in order; on a failure stops those started and throws. */
  async start(): Promise<void> {
    for (const c of this.#components) {
      try {
        await c.start();
      } catch (e) {
        const reason = `Cannot start ${c.name}: ${(e as Error).message}`;
        this.#log.error(reason);
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

  /** Which components are healthy; a component not started yet is unhealthy. */
  health(): HealthReport {
    const report: HealthReport = { Healthy: [], Unhealthy: [] };
    for (const c of this.#components) {
      const ok = this.#started.includes(c) && (c.healthy?.() ?? true);
      (ok ? report.Healthy : report.Unhealthy).push(c.name);
    }
    return report;
  }
}

/** Where the API token lives: the configured path, beside the config file, or in `run_path`. */
export function authTokenPath(config: Config, configFile: string | null): string {
  if (config.auth_token_file_path) return config.auth_token_file_path;
  return configFile ? join(dirname(configFile), "auth_token") : join(config.run_path, "auth_token");
}

/** Everything {@linkcode buildAgent} needs. */
export interface AgentContext {
  runtime: Runtime;
  config: Config;
  configFile: string | null;
  logger: Logger;
  /** @default a new registry */
  registry?: Registry;
  /** Where DogStatsD delivers parsed items. @default the aggregator */
  dogstatsdSink?: DogStatsDSink;
}

/** Builds the agent and its components from the config. */
export function buildAgent(ctx: AgentContext): Agent {
  const { runtime, config } = ctx;
  const token = ensureAuthToken(authTokenPath(config, ctx.configFile));
  const components: Component[] = [];
  const registry = ctx.registry ?? new Registry();
  const aggLog = ctx.logger.for("aggregator");
  // Until the serializer lands, each flush is summarised in the log.
  const aggregator = new Aggregator({
    ...aggregatorOptionsFromConfig(config),
    sink: loggingSink(aggLog),
    hostname: config.hostname || runtime.hostname(),
    registry,
    log: aggLog,
  });
  const agent = new Agent(components, ctx.logger);
  components.push(
    apiComponent(runtime, { host: config.cmd_host, port: config.cmd_port, token }, {
      health: () => agent.health(),
      requestStop: () => agent.requestStop(),
    }),
  );
  // The aggregator starts before DogStatsD and stops after it, so nothing parsed is lost.
  components.push(aggregatorComponent(aggregator));
  const dogstatsd = dogstatsdComponent(config, {
    runtime,
    sink: ctx.dogstatsdSink ?? aggregator,
    registry,
    logger: ctx.logger,
  });
  if (dogstatsd) components.push(dogstatsd);
  return agent;
}
