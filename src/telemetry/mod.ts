/**
 * The telemetry registry shared by every component, the loss reporter that tells every
 * loss, and every telemetry name with the function that registers each area's counters
 * (`events/`: what each component MUST emit).
 *
 * @module
 */
export { Counter, CounterVec, Registry } from "./registry.ts";
export { LossReporter } from "./losses.ts";
export {
  AGGREGATOR,
  aggregatorEvents,
  APM,
  type ApmCounters,
  apmEvents,
  CHECKS,
  CHECKS_EXPVAR,
  checksEvents,
  type ChecksReaders,
  CONSOLE,
  consoleEvents,
  DOGSTATSD,
  dogstatsdParserEvents,
  dogstatsdServerEvents,
  expvarEvents,
  FORWARDER,
  forwarderEvents,
  type ForwarderReaders,
  intakeEvents,
  LOGS_SEND,
  logsSendEvents,
  METADATA,
  metadataEvents,
  SERIALIZER,
  serializerEvents,
  type TelemetryName,
} from "./events/mod.ts";
