/**
 * Log collection: sources (files, TCP, UDP), tailing, processing and the registry of offsets.
 *
 * @module
 */
export type {
  Encoding,
  LogMessage,
  LogsConfig,
  LogSource,
  Origin,
  ProcessingRule,
  SourceInfo,
  SourceStatus,
  StartPosition,
} from "./_message.ts";

// The sending half: batches, sender, the component, status and stream-logs.
export {
  buildLogs,
  type LogsComponent,
  type LogsComponentSettings,
  logsComponentSettings,
  type LogsDeps,
  type LogSourcesHandle,
  type LogsOutput,
} from "./_component.ts";
export {
  LOGS_PIPELINE,
  LOGS_UNRELIABLE_PIPELINE,
  type LogsSenderSettings,
  logsSenderSettings,
} from "./_sender_settings.ts";
export { logsStatusProvider } from "./_status.ts";
