/**
 * What the local intake (`outpost intake`, the test double of Datadog's intake) MUST emit.
 * Route labels are the agent routes' names.
 *
 * | name | kind | counts |
 * |------|------|--------|
 * | `intake.requests` | by route | requests to agent routes |
 * | `intake.stored` | by route | payloads decoded and stored |
 * | `intake.rejected` | by `<route> <reason>` | requests refused (`forbidden`, `undecodable`, `too_large`) |
 * | `intake.faults_served` | by route | injected faults answered |
 * | `intake.store` | published | the store's files, bytes, records and evictions |
 *
 * @module
 */
import type { Registry } from "../registry.ts";

/** The registry names of the local intake (see the module doc). */
export const INTAKE = Object.freeze(
  {
    /** Requests to agent routes, by route. */
    requests: "intake.requests",
    /** Payloads stored, by route. */
    stored: "intake.stored",
    /** Requests refused, by route and reason. */
    rejected: "intake.rejected",
    /** Injected faults answered, by route. */
    faultsServed: "intake.faults_served",
    /** Published: the store's counters. */
    store: "intake.store",
  } as const,
);

/** What the intake publishes, read each time the registry is read. */
export interface IntakeReaders {
  /** The store's counters. */
  store: () => unknown;
}

/**
 * Registers what the local intake emits and returns its counters.
 *
 * @example Count a request
 * ```ts
 * import { Registry } from "../registry.ts";
 * import { INTAKE, intakeEvents } from "./intake.ts";
 * const registry = new Registry();
 * intakeEvents(registry, { store: () => ({ files: 0 }) }).requests.with("series").inc();
 * console.assert((registry.read(INTAKE.requests) as Record<string, number>).series === 1);
 * ```
 */
export function intakeEvents(registry: Registry, readers: IntakeReaders) {
  const events = {
    requests: registry.counterVec(INTAKE.requests),
    stored: registry.counterVec(INTAKE.stored),
    rejected: registry.counterVec(INTAKE.rejected),
    faultsServed: registry.counterVec(INTAKE.faultsServed),
  };
  registry.publish(INTAKE.store, readers.store);
  return events;
}
