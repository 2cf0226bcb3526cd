/**
 * The telemetry registry shared by every component, the loss reporter that tells every
 * loss, and every telemetry name with the function that registers each area's counters
 * (`events/`: what each component MUST emit).
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
export {
  AGGREGATOR,
  aggregatorEvents,
  DOGSTATSD,
  dogstatsdParserEvents,
  dogstatsdServerEvents,
  type DogStatsDTransport,
  type DogStatsDTransportReaders,
  EXPVAR,
  expvarEvents,
  FORWARDER,
  forwarderEvents,
  type ForwarderReaders,
  INTAKE,
  intakeEvents,
  LOSSES,
  METADATA,
  metadataEvents,
  SERIALIZER,
  serializerEvents,
  TELEMETRY,
  type TelemetryName,
} from "./events/mod.ts";
