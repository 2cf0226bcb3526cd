/**
 * Shared by the Lambda-mode integration tests: an agent config on free ports, a local intake,
 * and the extension run in process.
 */
import { createSocket } from "node:dgram";
import * as outpost from "../../mod.ts";
import { freePort, freeUdpPort } from "../../scripts/bench/_agent.ts";
import { tempDir } from "../_temp.ts";
import {
  type ExtensionContext,
  lambdaAgentConfig,
  type LambdaEnv,
  lambdaSettings,
  type LoopStats,
  newLoopStats,
  runExtension,
} from "../../src/serverless/mod.ts";
import type { TestRuntimeApi } from "../_lambda_runtime_api.ts";

const { buildAgent, buildIntake, configDefaults, createLogger, intakeSettings, runtime } = outpost;

/** An agent config for the Lambda mode on free ports (point it at an intake with `pointAtIntake`). */
export async function lambdaConfig(apiKey: string) {
  return {
    ...configDefaults(),
    api_key: apiKey,
    run_path: tempDir("outpost-lambda-"),
    hostname: "lambda-test",
    cmd_port: 0,
    expvar_port: 0,
    gui_port: -1,
    dogstatsd_port: await freeUdpPort(),
    serverless_daemon_port: await freePort(),
    serverless_telemetry_port: 0,
    apm_config: { ...configDefaults().apm_config, receiver_port: 0 },
  };
}

/** Runs `fn` with the URL of a local intake started for it. */
export async function withIntake<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const config = { ...configDefaults(), run_path: tempDir("outpost-lambda-intake-") };
  const intake = buildIntake(intakeSettings(config), { runtime });
  await intake.component.start();
  try {
    return await fn(intake.component.url);
  } finally {
    await intake.component.stop();
  }
}

/** What {@linkcode runLambda} takes beyond the config and the Runtime API. */
export type RunLambdaOptions = Partial<Omit<ExtensionContext, "settings">> & {
  /** Added to `AWS_LAMBDA_RUNTIME_API`. */
  env?: LambdaEnv;
  /** @default "/opt/extensions/outpost" */
  execPath?: string;
};

/**
 * Runs the extension in process on `config` against `api`, with the real Lambda agent: the settings
 * from the config and the environment, a silent logger and fresh stats unless given.
 */
export function runLambda(
  config: Parameters<typeof lambdaSettings>[0],
  api: TestRuntimeApi,
  options: RunLambdaOptions = {},
) {
  const { env, execPath, ...ctx } = options;
  const settings = lambdaSettings(
    config,
    { AWS_LAMBDA_RUNTIME_API: api.address, ...env },
    execPath ?? "/opt/extensions/outpost",
  );
  const logger = ctx.logger ?? createLogger({ level: "off" });
  const stats = ctx.stats ?? newLoopStats();
  const run = runExtension({
    runtime,
    // As `outpost lambda` builds it: the pipeline only, on the Lambda mode's config.
    buildAgent: () =>
      buildAgent({
        runtime,
        config: lambdaAgentConfig(config, settings),
        configFile: null,
        logger,
        lambda: true,
      }),
    ...ctx,
    settings,
    logger,
    stats,
  });
  return { run, settings, stats };
}

/** Sends DogStatsD `lines` in one datagram to 127.0.0.1:`port`. */
export function sendStatsd(port: number, lines: string[]): Promise<void> {
  const sock = createSocket("udp4");
  return new Promise((resolve, reject) =>
    sock.send(lines.join("\n"), port, "127.0.0.1", (e) => {
      sock.close();
      if (e) reject(e);
      else resolve();
    })
  );
}

/** The total of a DogStatsD count at the intake (counts arrive as rates over their interval). */
export async function countAtIntake(intakeUrl: string, metric: string): Promise<number> {
  const q: { points: Array<{ value: number; interval: number }> } = await (await fetch(
    `${intakeUrl}/outpost/intake/series?metric=${metric}`,
  )).json();
  return Math.round(q.points.reduce((s, p) => s + p.value * (p.interval || 1), 0));
}

/** How many values of a distribution reached the intake. */
export async function distributionCount(intakeUrl: string, metric: string): Promise<number> {
  const q: { count: number } = await (await fetch(
    `${intakeUrl}/outpost/intake/sketches?metric=${metric}`,
  )).json();
  return q.count;
}

/**
 * Hands out INVOKE `requestId` and resolves once the extension has read it and told its
 * hooks (the loop's count went up).
 */
export async function invoke(
  api: TestRuntimeApi,
  stats: LoopStats,
  requestId: string,
  timeoutMs?: number,
): Promise<void> {
  const n = stats.invocations + 1;
  api.invoke(requestId, timeoutMs);
  const end = Date.now() + 10_000;
  while (stats.invocations < n) {
    if (Date.now() > end) throw new Error(`INVOKE ${requestId} not read in 10 s`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
