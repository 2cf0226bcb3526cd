/**
 * Log collection, the sources half: `logs:` sources from conf.d (files, TCP, UDP), the file
 * launcher and tailers (rotation, truncation, start positions), decoding, multi-line and the
 * processing rules, and the auditor that keeps acknowledged offsets in `registry.json`.
 *
 * The sender calls {@linkcode Auditor.ack} with the origins of the messages the intake
 * accepted; nothing else moves an offset.
 *
 * @example Build the sources of a config
 * ```ts ignore
 * import { Auditor, buildLogSources, logsSettings } from "./mod.ts";
 * const settings = logsSettings(config, configFile);
 * const auditor = new Auditor({ path: settings.registryPath });
 * const sources = buildLogSources(settings, { runtime, registry, logger, hostname, auditor, output });
 * await auditor.start();
 * await sources.start();
 * ```
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
export { Auditor, type AuditorOptions } from "./_auditor.ts";
export {
  type LogsSettings,
  logsSettings,
  type ParseContext,
  parseLogsConfig,
} from "./_settings.ts";
export { buildLogSources, type LogSources, type LogsPipelineDeps } from "./_pipeline.ts";
export { TRUNCATED } from "./_decoder.ts";

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
