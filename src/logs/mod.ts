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
