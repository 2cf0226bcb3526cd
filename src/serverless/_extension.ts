/**
 * The Lambda extension's life: register while the agent is built, serve the daemon, run the
 * invocation loop, and on SHUTDOWN flush and stop inside the 2 s the platform allows. With no
 * API key it registers and idles: the function must never fail because of its extension.
 */
import type { Runtime } from "../runtime/types.ts";
import type { Logger } from "../log/mod.ts";
import type { Agent } from "../agent.ts";
import {
  EVENTS,
  type ExtensionEvent,
  ExtensionsClient,
  MANAGED_INSTANCE_EVENTS,
} from "./_extensions_api.ts";
import { type LambdaSettings, MANAGED_TELEMETRY_SCHEMA } from "./_settings.ts";
import {
  boundedFlush,
  DEADLINE_MARGIN_MS,
  InvocationDone,
  type LoopOptions,
  type LoopStats,
  runInvocationLoop,
  runManagedLoop,
  STOP_RESERVE_MS,
} from "./_loop.ts";
import { startDaemon } from "./_daemon.ts";
import { FlushPlanner, strategyName } from "./_strategy.ts";
import { agentFlush } from "./_flush.ts";
import { Lifecycle } from "./_lifecycle.ts";
import type { TraceComponent } from "../trace/mod.ts";
import { StateFile } from "./_state.ts";
import type { ResolvedSecrets } from "./_apikey.ts";
import type { AggregatorComponent } from "../aggregator/mod.ts";
import {
  EnhancedMetrics,
  functionArn,
  startTelemetryListener,
  subscribeTelemetry,
  type TelemetryEvent,
  type TelemetryListener,
} from "./_telemetry.ts";
import type { LogsComponent } from "../logs/mod.ts";
import type { MetricSample } from "../metrics/model.ts";
import { LambdaLogs, subscriptionTypes } from "./_logs.ts";

/** External extensions get 2 s between SHUTDOWN and SIGKILL. */
export const SHUTDOWN_BUDGET_MS = 2_000;

/** Kept free once the components have stopped, for the exit itself on a loaded machine. */
const EXIT_RESERVE_MS = 150;

/**
 * How long SHUTDOWN waits for the last invocation's `platform.report` (bottlecap's wait for
 * the telemetry's end), so its metrics and log lines are in the final flush.
 */
export const LAST_REPORT_WAIT_MS = 300;

/** What {@linkcode runExtension} needs. */
export interface ExtensionContext {
  runtime: Runtime;
  settings: LambdaSettings;
  logger: Logger;
  /**
   * Builds the agent (not started); called only when there is an API key, with the `DD_`
   * variables {@linkcode ExtensionContext.resolveSecrets} resolved (to apply to the config).
   */
  buildAgent: (secrets: Record<string, string>) => Promise<Agent>;
  /**
   * Resolves the `DD_*_SECRET_ARN` / `*_KMS_ENCRYPTED` variables while registration runs; a
   * failure is logged and, for the API key, makes the extension idle.
   */
  resolveSecrets?: () => Promise<ResolvedSecrets>;
  /**
   * Where the `ready in N ms` line counts from, on the `performance.now()` clock, which starts
   * with the process: the default counts the runtime's own start-up too, as the platform does.
   * @default 0
   */
  startedAt?: number;
  /** Filled while the loop runs (tests). */
  stats?: LoopStats;
  /**
   * Resolves with a reason when the process is asked to stop outside Lambda's SHUTDOWN (a
   * signal, when run by hand): the extension then flushes and stops as for SHUTDOWN.
   */
  stopRequested?: Promise<string>;
  /** `DD_SERVICE`, the `aws.lambda` span's service. @default "aws.lambda" (the Go agent's) */
  service?: string;
  /**
   * Why the extension must idle although it may have a key (a config it cannot use): it then
   * registers and acknowledges events without building the agent, so the function still runs.
   */
  idleReason?: string;
  /** Told of the invocation lifecycle once it exists (cold start for enhanced metrics, tests). */
  onLifecycle?: (lifecycle: Lifecycle) => void;
  /** The clock of the deadlines and of the flush strategy (tests). @default Date.now */
  now?: () => number;
}

/**
 * Runs the extension until SHUTDOWN and returns the exit code: 0 after a SHUTDOWN, 1 when the
 * Runtime API could not be used (an error is reported to it first when possible).
 */
export async function runExtension(ctx: ExtensionContext): Promise<number> {
  const { runtime, settings, logger } = ctx;
  const log = logger.for("lambda");
  const startedAt = ctx.startedAt ?? 0;
  const client = new ExtensionsClient(runtime, settings.runtimeApi);
  const stopRequested = ctx.stopRequested ?? new Promise<never>(() => {});
  const now = ctx.now ?? Date.now;
  for (const w of settings.warnings) log.warn(w);
  // Each INVOKE is recorded as `next` returns it, so a restarted extension knows where it was.
  const state = new StateFile(log, settings.statePath);
  const managed = settings.managedInstances;
  const loop = (options: LoopOptions) =>
    managed ? runManagedLoop(options) : runInvocationLoop(options);

  // Register while the key is resolved and the agent built: the function waits for all three.
  const registered = client.register(
    settings.extensionName,
    managed ? MANAGED_INSTANCE_EVENTS : EVENTS,
  );
  registered.catch(() => {}); // awaited below; this only avoids an unhandled rejection meanwhile
  let hasApiKey = settings.hasApiKey;
  let secrets: Record<string, string> = {};
  if (ctx.resolveSecrets) {
    const resolved = await ctx.resolveSecrets();
    for (const w of resolved.warnings) log.warn(w);
    for (const e of resolved.errors) log.error(e);
    secrets = resolved.values;
    // A key asked from KMS or Secrets Manager that did not come is a missing key.
    if (resolved.targets.includes("DD_API_KEY")) hasApiKey = "DD_API_KEY" in secrets;
  }

  if (!hasApiKey || ctx.idleReason) {
    log.error(
      `${
        ctx.idleReason ??
          "No API key configured (DD_API_KEY, its KMS or Secrets Manager variant, or api_key)"
      }: the extension registers and stays idle`,
    );
    try {
      await registered;
      const onEvent = (e: ExtensionEvent) => state.record(e);
      await Promise.race([loop({ client, log, stats: ctx.stats, onEvent, now }), stopRequested]);
      return 0;
    } catch (e) {
      log.error(`Extensions API: ${(e as Error).message}`);
      return 1;
    }
  }

  let agent: Agent;
  try {
    agent = await ctx.buildAgent(secrets);
    await agent.start();
  } catch (e) {
    const message = `Cannot start the agent: ${(e as Error).message}`;
    log.error(message);
    await registered.then(() => client.initError("AgentStart", message)).catch(() => {});
    return 1;
  }
  const flush = agentFlush(agent);
  const done = new InvocationDone();
  let daemon;
  let lifecycle: Lifecycle;
  try {
    const registration = await registered;
    log.info(`Registered as ${settings.extensionName} for ${registration.functionName}`);
    // With apm_config.enabled: false there is nowhere to send the span, but the routes still
    // answer and the cold start is still known (enhanced metrics).
    const trace = agent.component<TraceComponent>("trace");
    if (!trace) log.debug("No trace agent: start/end-invocation make no aws.lambda span");
    lifecycle = new Lifecycle({
      functionName: registration.functionName,
      service: ctx.service,
      sink: (payload) => trace?.addTraces(payload),
      rates: trace ? () => trace.rateByService() : undefined,
      warm: state.state.ColdstartRequestID !== "",
      log,
    });
    ctx.onLifecycle?.(lifecycle);
    daemon = await startDaemon({
      runtime,
      port: settings.daemonPort,
      localTest: settings.localTest,
      flush,
      log,
      lifecycle,
      // On demand one invocation runs at a time: a tracer's end is the current one's, whatever
      // request id it names.
      onInvocationDone: () => done.done(null, "library"),
    });
  } catch (e) {
    log.error(`Cannot start the extension: ${(e as Error).message}`);
    await client.initError("Start", (e as Error).message).catch(() => {});
    await agent.stop(SHUTDOWN_BUDGET_MS);
    return 1;
  }
  // Telemetry feeds the enhanced metrics and the function's logs; without it the extension
  // still runs.
  const registration = await registered;
  const aggregator = agent.component<AggregatorComponent>("aggregator")?.aggregator;
  const info = {
    functionName: registration.functionName,
    region: settings.region,
    accountId: registration.accountId ?? "",
    memorySizeMB: settings.memorySizeMB,
    architecture: process.arch === "arm64" ? "arm64" as const : "x86_64" as const,
  };
  const enhanced = new EnhancedMetrics(info);
  const logs = agent.component<LogsComponent>("logs");
  const lambdaLogs = new LambdaLogs({
    settings: settings.logs,
    arn: functionArn(info),
    service: ctx.service ?? registration.functionName.toLowerCase(),
    tags: [...enhanced.functionTags(), ...settings.logs.tags],
    output: logs ? (m) => logs.push(m) : null,
  });
  const addEnhanced = (samples: MetricSample[]) => {
    if (settings.enhancedMetrics) aggregator?.addSamples(samples);
  };
  const invocations = new LastInvocation();
  let telemetry: TelemetryListener | undefined;
  try {
    telemetry = await startTelemetryListener(
      runtime,
      { hostname: "0.0.0.0", port: settings.telemetryPort, log },
      (events) => {
        addEnhanced(enhanced.samples(events));
        lambdaLogs.handle(events);
        invocations.told(events, done);
      },
    );
    done.telemetry = await subscribeTelemetry(runtime, {
      runtimeApi: settings.runtimeApi,
      extensionId: client.id,
      port: telemetry.port,
      types: subscriptionTypes(settings.logs),
      ...(managed ? { schema: MANAGED_TELEMETRY_SCHEMA } : {}),
      log,
    });
  } catch (e) {
    log.warn(`Telemetry listener not started: ${(e as Error).message}`);
  }
  /** The one hook on each event: state file, lifecycle, and SHUTDOWN's timeout metric. */
  const onEvent = async (event: ExtensionEvent) => {
    state.record(event);
    if (event.eventType === "INVOKE") {
      lifecycle.invoked(event.requestId, event.invokedFunctionArn);
      invocations.invoked(event.requestId);
      // Without telemetry (an emulator without the API) INVOKE events count invocations.
      if (!done.telemetry) addEnhanced(enhanced.invocation());
      return;
    }
    if (done.telemetry) await invocations.reported(LAST_REPORT_WAIT_MS);
    const last = invocations.last;
    // As the Go agent does, unless telemetry already counted it (bottlecap's only source).
    if (event.shutdownReason === "timeout" && last && !invocations.timedOut(last)) {
      const record = { requestId: last, status: "timeout" };
      addEnhanced(enhanced.samples([{ time: "", type: "platform.runtimeDone", record }]));
    }
  };
  log.info(`ready in ${Math.round(performance.now() - startedAt)} ms`);

  let code = 0;
  let stopBy = 0;
  const abandoned = new AbortController();
  try {
    const planner = new FlushPlanner(settings.flushStrategy, now());
    log.debug(`Flush strategy ${strategyName(settings.flushStrategy)}`);
    const running = loop({
      client,
      flush,
      log,
      planner,
      stats: ctx.stats,
      onEvent,
      done,
      signal: abandoned.signal,
      now,
    });
    const outcome = await Promise.race([
      running.then((event) => ({ event, reason: null })),
      stopRequested.then((reason) => ({
        event: null,
        reason,
      })),
    ]);
    if (outcome.event) {
      // The deadline is on the loop's clock; the stop below counts on the wall clock.
      stopBy = Date.now() + (outcome.event.deadlineMs - now());
    } else {
      stopBy = Date.now() + SHUTDOWN_BUDGET_MS;
      // The loop is waiting in `next`; that call is left to the process exit, its timers stop.
      abandoned.abort();
      log.info(`${outcome.reason}: final flush and stop`);
      await boundedFlush(flush, stopBy - Date.now() - DEADLINE_MARGIN_MS - STOP_RESERVE_MS, log);
    }
  } catch (e) {
    log.error(`Extensions API: ${(e as Error).message}`);
    await client.exitError("NextFailed", (e as Error).message).catch(() => {});
    stopBy = Date.now() + SHUTDOWN_BUDGET_MS;
    code = 1;
  }
  await Promise.all([daemon.close(), telemetry?.close()]);
  // Init-phase lines no invocation claimed go without a request id rather than not at all.
  lambdaLogs.release();
  // What is left after the final flush (nothing, usually) is the components' to store.
  await agent.stop(Math.max(stopBy - Date.now() - DEADLINE_MARGIN_MS - EXIT_RESERVE_MS, 0));
  return code;
}

/** Request ids whose `platform.runtimeDone` said `timeout` that are remembered. */
const TIMED_OUT_KEPT = 8;

/**
 * What telemetry and INVOKE told of the last invocation: its request id, whether its
 * `platform.report` came, whether it timed out; and `platform.runtimeDone` to the done hook.
 */
class LastInvocation {
  last = "";
  #lastReported = "";
  readonly #timedOut: string[] = [];
  #wake: (() => void) | null = null;

  invoked(requestId: string): void {
    this.last = requestId;
  }

  told(events: TelemetryEvent[], done: InvocationDone): void {
    for (const e of events) {
      const r = (e?.record ?? {}) as Record<string, unknown>;
      const id = typeof r.requestId === "string" ? r.requestId : "";
      if (!id) continue;
      if (e.type === "platform.start") this.last = id;
      else if (e.type === "platform.runtimeDone") {
        done.done(id, "telemetry");
        if (r.status === "timeout") {
          this.#timedOut.push(id);
          if (this.#timedOut.length > TIMED_OUT_KEPT) this.#timedOut.shift();
        }
      } else if (e.type === "platform.report") {
        this.#lastReported = id;
        this.#wake?.();
      }
    }
  }

  timedOut(requestId: string): boolean {
    return this.#timedOut.includes(requestId);
  }

  /** Waits at most `ms` for the last invocation's `platform.report`. */
  async reported(ms: number): Promise<void> {
    if (!this.last || this.#lastReported === this.last) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      this.#wake = () => {
        if (this.#lastReported === this.last) resolve();
      };
    });
    clearTimeout(timer);
    this.#wake = null;
  }
}
