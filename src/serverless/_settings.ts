/**
 * When outpost runs as an AWS Lambda extension, and what that mode reads from the config and
 * the Lambda environment.
 */
import { basename, join } from "node:path";
import type { LambdaEnv } from "./detect/mod.ts";
import type { Config } from "../config/mod.ts";
import { OutpostError } from "../errors.ts";
import { type FlushStrategy, parseFlushStrategy, strategyName } from "./_strategy.ts";
import { STATE_FILE_NAME } from "./_state.ts";
import { type LambdaLogsSettings, lambdaLogsSettings } from "./_logs.ts";

/** `AWS_LAMBDA_INITIALIZATION_TYPE` on Lambda Managed Instances. */
export const MANAGED_INSTANCES = "lambda-managed-instances";

/** The Telemetry API schema Managed Instances require (bottlecap's). */
export const MANAGED_TELEMETRY_SCHEMA = "2025-01-29";

/** The background flush interval on Managed Instances (bottlecap's continuous default). */
export const MANAGED_FLUSH_INTERVAL_MS = 30_000;

/** The environment variables this mode reads. */

/** Everything the Lambda mode needs, resolved once at start. */
export interface LambdaSettings {
  /** `host:port` of the Runtime API (`AWS_LAMBDA_RUNTIME_API`). */
  runtimeApi: string;
  /** `Lambda-Extension-Name`: Lambda requires the extension's file name. */
  extensionName: string;
  /** Port of the daemon the Datadog libraries call. */
  daemonPort: number;
  /** `DD_LOCAL_TEST`: `/lambda/flush` then counts as the end of the invocation. */
  localTest: boolean;
  /** False when no API key is configured: the extension registers and idles. */
  hasApiKey: boolean;
  /** Port of the Telemetry API listener. */
  telemetryPort: number;
  /** `AWS_REGION`, `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`: tags of the enhanced metrics. */
  region: string;
  memorySizeMB: number;
  /**
   * When invocations are flushed (`serverless_flush_strategy`); on Managed Instances always
   * `continuously` (the configured interval, or 30 s).
   */
  flushStrategy: FlushStrategy;
  /**
   * `AWS_LAMBDA_INITIALIZATION_TYPE=lambda-managed-instances`: register for SHUTDOWN only,
   * telemetry schema `2025-01-29`, flush in the background.
   */
  managedInstances: boolean;
  /** The state file (`run_path`/dd-lambda-extension-cache.json), restored at start. */
  statePath: string;
  /** The function's logs (src/serverless/_logs.ts). */
  logs: LambdaLogsSettings;
  /** `enhanced_metrics`: the `aws.lambda.enhanced.*` distributions. */
  enhancedMetrics: boolean;
  /** Settings that were not understood and fell back to a default, to be logged. */
  warnings: string[];
}

function truthy(value: string | undefined): boolean {
  return value !== undefined && ["1", "true", "yes", "on"].includes(value.trim().toLowerCase());
}

/**
 * The Lambda mode's settings. Throws a config error naming `AWS_LAMBDA_RUNTIME_API` when it
 * is missing: outside Lambda (or its emulator) there is nothing to register with.
 */
export function lambdaSettings(config: Config, env: LambdaEnv, execPath: string): LambdaSettings {
  const runtimeApi = env.AWS_LAMBDA_RUNTIME_API?.trim() ?? "";
  if (!runtimeApi) {
    throw new OutpostError(
      "config_invalid",
      "AWS_LAMBDA_RUNTIME_API: expected the Runtime API's host:port (Lambda sets it)",
    );
  }
  const parsed = parseFlushStrategy(config.serverless_flush_strategy);
  const warnings = parsed.warning ? [parsed.warning] : [];
  const managedInstances = env.AWS_LAMBDA_INITIALIZATION_TYPE?.trim() === MANAGED_INSTANCES;
  let strategy = parsed.strategy;
  // No INVOKE comes there, so nothing else could decide a flush.
  if (managedInstances && strategy.kind !== "continuously") {
    if (strategy.kind !== "adaptive") {
      warnings.push(
        `serverless_flush_strategy: ${strategyName(strategy)} does not apply on Managed ` +
          `Instances: flushing continuously every ${MANAGED_FLUSH_INTERVAL_MS} ms`,
      );
    }
    strategy = { kind: "continuously", intervalMs: MANAGED_FLUSH_INTERVAL_MS };
  }
  const logs = lambdaLogsSettings(config, env);
  return {
    runtimeApi,
    extensionName: basename(execPath),
    daemonPort: config.serverless_daemon_port,
    localTest: truthy(env.DD_LOCAL_TEST),
    hasApiKey: config.api_key !== "",
    telemetryPort: config.serverless_telemetry_port,
    region: env.AWS_REGION ?? "",
    memorySizeMB: Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? 0) || 0,
    flushStrategy: strategy,
    managedInstances,
    statePath: join(config.run_path, STATE_FILE_NAME),
    logs,
    enhancedMetrics: config.enhanced_metrics,
    warnings: [...warnings, ...logs.warnings],
  };
}

/**
 * The agent config of the Lambda mode: the logs component runs when the function's logs are
 * sent (the Lambda rule), and DogStatsD drops a library's own `aws.lambda.enhanced.invocations`,
 * since the extension counts invocations itself (the Datadog serverless agent blocks it too).
 */
export function lambdaAgentConfig(config: Config, settings: LambdaSettings): Config {
  return {
    ...config,
    logs_enabled: settings.logs.enabled,
    statsd_metric_blocklist: [...config.statsd_metric_blocklist, ENHANCED_INVOCATIONS],
  };
}

/** The enhanced metric a library may send that the extension makes from telemetry. */
const ENHANCED_INVOCATIONS = "aws.lambda.enhanced.invocations";
