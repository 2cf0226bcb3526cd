/**
 * What the checks collector MUST emit.
 *
 * | name | kind | counts |
 * |------|------|--------|
 * | `checks.runs` | counter by `ok` / `fail` | check runs, by outcome |
 * | `checks.warnings` | counter | warnings the runs returned |
 * | `checks.metrics_samples` | counter | metric samples the checks submitted |
 * | `checks.events` | counter | events the checks submitted |
 * | `checks.services_checks` | counter | service checks the checks submitted |
 * | `checks.histogram_buckets` | counter | histogram buckets the checks submitted |
 * | `checks.event_platform_events` | counter | event-platform events (counted, not forwarded yet) |
 * | `checks.dropped_samples` | counter | samples refused (NaN, ±Inf, out of range) |
 * | `runner` | published | the Datadog Agent's expvar `runner` object (per-check stats) |
 * | `scheduler` | published | the Datadog Agent's expvar `scheduler` object (queues) |
 * | `pyrunner` | published | the Python runner: pid, version, RSS and peak, restarts, pipe counters per check |
 *
 * `runner`, `scheduler` and `pyrunner` ({@linkcode CHECKS_EXPVAR}) have no area segment: they keep the names
 * Datadog's expvar readers look for at the top level of `/debug/vars`.
 *
 * @module
 */
import type { Registry } from "../registry.ts";

/** The registry names of the checks collector (see the module doc). */
export const CHECKS = Object.freeze(
  {
    /** Check runs, labelled `ok` or `fail`. */
    runs: "checks.runs",
    /** Warnings returned by runs. */
    warnings: "checks.warnings",
    /** Metric samples submitted. */
    metricsSamples: "checks.metrics_samples",
    /** Events submitted. */
    events: "checks.events",
    /** Service checks submitted. */
    servicesChecks: "checks.services_checks",
    /** Histogram buckets submitted. */
    histogramBuckets: "checks.histogram_buckets",
    /** Event-platform events submitted (not forwarded yet). */
    eventPlatformEvents: "checks.event_platform_events",
    /** Samples refused by the sender or the sampler. */
    droppedSamples: "checks.dropped_samples",
  } as const,
);

/**
 * The expvar names the collector publishes at the top level of `/debug/vars`, as the Datadog
 * Agent does: no area prefix, so they stay out of {@linkcode CHECKS}.
 */
export const CHECKS_EXPVAR = Object.freeze(
  {
    /** Published: the expvar `runner` object. */
    runner: "runner",
    /** Published: the expvar `scheduler` object. */
    scheduler: "scheduler",
    pyrunner: "pyrunner",
  } as const,
);

/** What the collector publishes, read each time the registry is read. */
export interface ChecksReaders {
  runner: () => unknown;
  scheduler: () => unknown;
  /** The Python runner's pid, memory, restarts and pipe counters; absent without Python. */
  pyrunner?: () => unknown;
}

/**
 * Registers what the collector emits and returns its counters.
 *
 * @example Count a run
 * ```ts
 * import { Registry } from "../registry.ts";
 * import { CHECKS, checksEvents } from "./checks.ts";
 * const registry = new Registry();
 * checksEvents(registry, { runner: () => ({}), scheduler: () => ({}) }).runs.with("ok").inc();
 * console.assert((registry.read(CHECKS.runs) as Record<string, number>).ok === 1);
 * ```
 */
export function checksEvents(registry: Registry, readers: ChecksReaders) {
  const events = {
    runs: registry.counterVec(CHECKS.runs),
    warnings: registry.counter(CHECKS.warnings),
    metricsSamples: registry.counter(CHECKS.metricsSamples),
    events: registry.counter(CHECKS.events),
    servicesChecks: registry.counter(CHECKS.servicesChecks),
    histogramBuckets: registry.counter(CHECKS.histogramBuckets),
    eventPlatformEvents: registry.counter(CHECKS.eventPlatformEvents),
    droppedSamples: registry.counter(CHECKS.droppedSamples),
  };
  registry.publish(CHECKS_EXPVAR.runner, readers.runner);
  registry.publish(CHECKS_EXPVAR.scheduler, readers.scheduler);
  if (readers.pyrunner) registry.publish(CHECKS_EXPVAR.pyrunner, readers.pyrunner);
  return events;
}
