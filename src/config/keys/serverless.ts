/** Keys of the Lambda extension mode (`outpost lambda`). */
import { bool, port, str } from "../_kinds.ts";

export const serverlessKeys = {
  /** The daemon the Datadog Lambda libraries call (`/lambda/hello`, `/lambda/flush`). */
  serverless_daemon_port: port(8124),
  /** The Telemetry API listener (bottlecap's port); 0 picks a free one. */
  serverless_telemetry_port: port(8999),
  /**
   * `end`, `end,<ms>`, `periodically[,<ms>]` or `continuously,<ms>`; empty is adaptive
   * (src/serverless/_strategy.ts).
   */
  serverless_flush_strategy: str("", 64),
  /**
   * The function's logs sent (`DD_SERVERLESS_LOGS_ENABLED`); with `DD_LOGS_ENABLED` the rule of
   * src/serverless/_logs.ts `lambdaLogsSettings` decides.
   */
  serverless_logs_enabled: bool(true),
  /** `aws.lambda.enhanced.*` metrics and the REPORT log line (`DD_ENHANCED_METRICS`). */
  enhanced_metrics: bool(true),
};
