/**
 * What the aggregator MUST emit. Names follow the Datadog Agent's `aggregator` expvar map
 * where it has one.
 *
 * | name | kind | counts |
 * |------|------|--------|
 * | `aggregator.DogstatsdContexts` | published | contexts held |
 * | `aggregator.DogstatsdContextsBytes` | published | their estimated bytes |
 * | `aggregator.DogstatsdContextsByMtype` | published | contexts by metric type (`Gauge`, `Counter`, `Set`, `Histogram`, `Distribution`) |
 * | `aggregator.DogstatsdContextsEvicted` | counter | idle contexts evicted near the context limit |
 * | `aggregator.DogstatsdMetricSample`, `.ChecksMetricSample` | counter | samples received from DogStatsD and from checks |
 * | `aggregator.Event`, `.ServiceCheck` | counter | events and service checks received |
 * | `aggregator.OrchestratorPayloads` | counter | orchestrator payloads accepted |
 * | `aggregator.NoAggregationSamples`, `.NoAggregationFlushes` | counter | timestamped samples passed through, and their flushes |
 * | `aggregator.NumberOfFlush` | counter | flushes |
 * | `aggregator.FlushTimeMs` | gauge | the last flush's duration |
 * | `aggregator.SeriesFlushed`, `.SketchesFlushed`, `.ServiceCheckFlushed`, `.EventsFlushed` | counter | what flushes handed to the serializer |
 * | `aggregator.Dropped` | by reason | samples or payloads lost (`context_limit`, `invalid_value`…) |
 * | `aggregator.Errors` | by kind | failed flushes (`flush`) and sink failures (`sink_<kind>`) |
 * | `aggregator.SeriesFlushErrors`, `.SketchesFlushErrors`, `.ServiceCheckFlushErrors`, `.EventsFlushErrors` | counter | flushes whose hand-off to the serializer failed, by kind |
 * | `aggregator.Flush` | published | per step (`ChecksMetricSampleFlushTime`, `MetricSketchFlushTime`, `ServiceCheckFlushTime`, `EventFlushTime`, `MainFlushTime`, `ManifestsTime`): the last 32 durations in ns |
 * | `aggregator.FlushCount` | published | per kind (`Series`, `Sketches`, `ServiceChecks`, `Events`, `Manifests`): the last 32 item counts |
 *
 * @module
 */
import type { Registry } from "../registry.ts";

/** The registry names of the aggregator (see the module doc). */
export const AGGREGATOR = Object.freeze(
  {
    /** Published: contexts held. */
    dogstatsdContexts: "aggregator.DogstatsdContexts",
    /** Published: the contexts' estimated bytes. */
    dogstatsdContextsBytes: "aggregator.DogstatsdContextsBytes",
    /** Published: contexts by metric type. */
    dogstatsdContextsByMtype: "aggregator.DogstatsdContextsByMtype",
    /** Idle contexts evicted to make room near the context limit. */
    dogstatsdContextsEvicted: "aggregator.DogstatsdContextsEvicted",
    /** DogStatsD samples received. */
    dogstatsdMetricSample: "aggregator.DogstatsdMetricSample",
    /** Check samples received. */
    checksMetricSample: "aggregator.ChecksMetricSample",
    /** Events received. */
    event: "aggregator.Event",
    /** Service checks received. */
    serviceCheck: "aggregator.ServiceCheck",
    /** Orchestrator payloads accepted. */
    orchestratorPayloads: "aggregator.OrchestratorPayloads",
    /** Flushes. */
    numberOfFlush: "aggregator.NumberOfFlush",
    /** Gauge: the last flush's duration in ms. */
    flushTimeMs: "aggregator.FlushTimeMs",
    /** Series handed to the serializer. */
    seriesFlushed: "aggregator.SeriesFlushed",
    /** Sketches handed to the serializer. */
    sketchesFlushed: "aggregator.SketchesFlushed",
    /** Service checks handed to the serializer. */
    serviceCheckFlushed: "aggregator.ServiceCheckFlushed",
    /** Events handed to the serializer. */
    eventsFlushed: "aggregator.EventsFlushed",
    /** Timestamped samples passed through without aggregation. */
    noAggregationSamples: "aggregator.NoAggregationSamples",
    /** Flushes of those samples. */
    noAggregationFlushes: "aggregator.NoAggregationFlushes",
    /** Failures by kind: `flush`, `sink_<kind>`. */
    errors: "aggregator.Errors",
    /** Samples or payloads lost, by reason. */
    dropped: "aggregator.Dropped",
    /** Failed hand-offs of series to the serializer. */
    seriesFlushErrors: "aggregator.SeriesFlushErrors",
    /** Failed hand-offs of sketches. */
    sketchesFlushErrors: "aggregator.SketchesFlushErrors",
    /** Failed hand-offs of service checks. */
    serviceCheckFlushErrors: "aggregator.ServiceCheckFlushErrors",
    /** Failed hand-offs of events. */
    eventsFlushErrors: "aggregator.EventsFlushErrors",
    /** Published: the last 32 durations of each flush step, ns. */
    flush: "aggregator.Flush",
    /** Published: the last 32 item counts of each flush, by kind. */
    flushCount: "aggregator.FlushCount",
  } as const,
);

/** What the aggregator publishes, read from its sampler each time the registry is read. */
export interface AggregatorReaders {
  /** Contexts held. */
  dogstatsdContexts: () => number;
  /** Their estimated bytes. */
  dogstatsdContextsBytes: () => number;
  /** Contexts by metric type. */
  dogstatsdContextsByMtype: () => Record<string, number>;
  /** `aggregator.Flush`: durations by step. */
  flush: () => unknown;
  /** `aggregator.FlushCount`: item counts by kind. */
  flushCount: () => unknown;
}

/**
 * Registers what the aggregator emits and returns its counters.
 *
 * @example Count a flush
 * ```ts
 * import { Registry } from "../registry.ts";
 * import { AGGREGATOR, aggregatorEvents } from "./aggregator.ts";
 * const registry = new Registry();
 * const events = aggregatorEvents(registry, {
 *   dogstatsdContexts: () => 2,
 *   dogstatsdContextsBytes: () => 300,
 *   dogstatsdContextsByMtype: () => ({ Gauge: 2 }),
 *   flush: () => ({}),
 *   flushCount: () => ({}),
 * });
 * events.numberOfFlush.inc();
 * console.assert(registry.read(AGGREGATOR.numberOfFlush) === 1);
 * console.assert(registry.read(AGGREGATOR.dogstatsdContexts) === 2);
 * ```
 */
export function aggregatorEvents(registry: Registry, readers: AggregatorReaders) {
  registry.publish(AGGREGATOR.dogstatsdContexts, readers.dogstatsdContexts);
  registry.publish(AGGREGATOR.dogstatsdContextsBytes, readers.dogstatsdContextsBytes);
  registry.publish(AGGREGATOR.dogstatsdContextsByMtype, readers.dogstatsdContextsByMtype);
  registry.publish(AGGREGATOR.flush, readers.flush);
  registry.publish(AGGREGATOR.flushCount, readers.flushCount);
  return {
    dogstatsdContextsEvicted: registry.counter(AGGREGATOR.dogstatsdContextsEvicted),
    dogstatsdMetricSample: registry.counter(AGGREGATOR.dogstatsdMetricSample),
    checksMetricSample: registry.counter(AGGREGATOR.checksMetricSample),
    event: registry.counter(AGGREGATOR.event),
    serviceCheck: registry.counter(AGGREGATOR.serviceCheck),
    orchestratorPayloads: registry.counter(AGGREGATOR.orchestratorPayloads),
    numberOfFlush: registry.counter(AGGREGATOR.numberOfFlush),
    flushTimeMs: registry.gauge(AGGREGATOR.flushTimeMs),
    seriesFlushed: registry.counter(AGGREGATOR.seriesFlushed),
    sketchesFlushed: registry.counter(AGGREGATOR.sketchesFlushed),
    serviceCheckFlushed: registry.counter(AGGREGATOR.serviceCheckFlushed),
    eventsFlushed: registry.counter(AGGREGATOR.eventsFlushed),
    noAggregationSamples: registry.counter(AGGREGATOR.noAggregationSamples),
    noAggregationFlushes: registry.counter(AGGREGATOR.noAggregationFlushes),
    errors: registry.counterVec(AGGREGATOR.errors),
    dropped: registry.counterVec(AGGREGATOR.dropped),
    flushErrors: {
      series: registry.counter(AGGREGATOR.seriesFlushErrors),
      sketches: registry.counter(AGGREGATOR.sketchesFlushErrors),
      service_checks: registry.counter(AGGREGATOR.serviceCheckFlushErrors),
      events: registry.counter(AGGREGATOR.eventsFlushErrors),
    } as Record<string, { inc(n?: number): void } | undefined>,
  };
}
