/**
 * The checks subsystem: the collector that loads conf.d, hands each instance to the loaders,
 * schedules and runs the checks and reports them in status, expvar, the API and the CLI.
 *
 * @module
 */
export {
  CHECKS_AGENT_VERSION,
  type ChecksSettings,
  checksSettings,
  Collector,
  type CollectorDeps,
  type ConfigCheckAnswer,
  type ReloadResult,
} from "./collector/_collector.ts";
export { buildChecks, type ChecksComponent } from "./collector/_component.ts";
export { type CheckStatsJson } from "./collector/_stats.ts";
export { type CollectorStatus, renderInstance } from "./collector/_status.ts";
export { renderConfigCheck } from "./collector/_configcheck.ts";
export { type CheckCommandOptions, runCheckCommand } from "./collector/_check_command.ts";
