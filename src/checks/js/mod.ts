/**
 * JS/TS custom checks: the loader the collector tries first (key `js`, priority 10), and the
 * API check authors write against ({@linkcode AgentCheck}, importable in a check as
 * `outpost:checks`).
 *
 * @example A check file, `checks.d/hello.ts`
 * ```ts ignore
 * import { AgentCheck } from "outpost:checks";
 * export default class extends AgentCheck {
 *   check() {
 *     this.gauge("hello.world", 1);
 *   }
 * }
 * ```
 *
 * @module
 */
export { createJsLoader, type JsLoader } from "./_loader.ts";
export {
  type AgentApi,
  AgentCheck,
  type CheckContext,
  type EventInput,
  type LogLevel,
  type MetricOptions,
  type MetricType,
  type ServiceCheckOptions,
  ServiceCheckStatus,
} from "./agent_check.ts";
