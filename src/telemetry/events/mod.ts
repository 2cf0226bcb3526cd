/**
 * Every telemetry name, defined once: each area's file lists what the area MUST emit (its
 * module doc is the spec), exports its names as a frozen object and a function that registers
 * them and returns the typed counters. Code that counts calls that function; code that reads
 * (the status page, tests) takes names from the objects, so a misspelt name fails the
 * type-check instead of silently reading nothing.
 *
 * A name's first segment is its area (`dogstatsd.MetricPackets`, `dogstatsd-udp.Packets`):
 * it groups the variables in `/debug/vars`, as the Datadog Agent's expvar maps do. The string
 * values are the Agent's where it has one and must not change.
 *
 * @example Read a name from the table
 * ```ts
 * import { Registry } from "../registry.ts";
 * import { dogstatsdParserEvents, TELEMETRY } from "./mod.ts";
 * const registry = new Registry();
 * dogstatsdParserEvents(registry, { recentParseErrors: () => [] }).metricPackets.inc();
 * console.assert(registry.read(TELEMETRY.dogstatsd.metricPackets) === 1);
 * ```
 *
 * @module
 */
import { AGGREGATOR } from "./aggregator.ts";
import { APM } from "./apm.ts";
import { DOGSTATSD } from "./dogstatsd.ts";
import { EXPVAR } from "./expvar.ts";
import { CONSOLE } from "./console.ts";
import { FORWARDER } from "./forwarder.ts";
import { INTAKE } from "./intake.ts";
import { LOGS } from "./logs.ts";
import { LOSSES } from "./losses.ts";
import { LOGS_SEND } from "./logs_send.ts";
import { METADATA } from "./metadata.ts";
import { SERIALIZER } from "./serializer.ts";
import { TRACE } from "./trace.ts";

export { AGGREGATOR, aggregatorEvents, type AggregatorReaders } from "./aggregator.ts";
export { APM, type ApmCounters, apmEvents, type ApmReaders } from "./apm.ts";
export { CHECKS, CHECKS_EXPVAR, checksEvents, type ChecksReaders } from "./checks.ts";
export {
  DOGSTATSD,
  dogstatsdParserEvents,
  type DogStatsDParserReaders,
  dogstatsdServerEvents,
  type DogStatsDTransport,
  type DogStatsDTransportReaders,
} from "./dogstatsd.ts";
export { EXPVAR, expvarEvents } from "./expvar.ts";
export { CONSOLE, consoleEvents } from "./console.ts";
export { FORWARDER, forwarderEvents, type ForwarderReaders } from "./forwarder.ts";
export { INTAKE, intakeEvents, type IntakeReaders } from "./intake.ts";
export { LOGS, type LogsEvents, logsEvents } from "./logs.ts";
export { LOSSES, lossesEvents, type LossesReaders } from "./losses.ts";
export { LOGS_SEND, logsSendEvents, type LogsSendReaders } from "./logs_send.ts";
export { METADATA, metadataEvents, type MetadataReaders } from "./metadata.ts";
export { SERIALIZER, serializerEvents } from "./serializer.ts";
export { TRACE, type TraceProcessingEvents, traceProcessingEvents } from "./trace.ts";

/** Every area's names, keyed by the area, which is also the first segment of its names. */
export const TELEMETRY = Object.freeze({
  dogstatsd: DOGSTATSD,
  aggregator: AGGREGATOR,
  serializer: SERIALIZER,
  forwarder: FORWARDER,
  intake: INTAKE,
  metadata: METADATA,
  expvar: EXPVAR,
  console: CONSOLE,
  losses: LOSSES,
  trace: TRACE,
  apm: APM,
  // Both halves of log collection share the Datadog Agent's `logs-agent` expvar map.
  logs: Object.freeze({ ...LOGS, ...LOGS_SEND }),
});

/** The string values found anywhere in a (nested) names object. */
type Names<T> = T extends string ? T : { [K in keyof T]: Names<T[K]> }[keyof T];

/** Any defined telemetry name: what the status page's readers accept. */
export type TelemetryName = Names<typeof TELEMETRY>;
