/**
 * The telemetry registry shared by every component, and the loss reporter that tells every
 * loss.
 *
 * @module
 */
export { Counter, CounterVec, Gauge, Registry } from "./registry.ts";
export {
  LOSS_LOG_INTERVAL_MS,
  type LossEvent,
  LossReporter,
  type LossReporterOptions,
  type LossSummary,
} from "./losses.ts";
