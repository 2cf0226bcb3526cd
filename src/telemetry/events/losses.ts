/**
 * What the loss reporter (the one place every component tells a loss) MUST emit.
 *
 * | name | kind | counts |
 * |------|------|--------|
 * | `losses.Lost` | by `<component>.<reason>` | items lost, over the whole agent |
 * | `losses.Reasons` | published | per `<component>.<reason>`: the total, its unit, first and last time |
 *
 * @module
 */
import type { Registry } from "../registry.ts";

/** The registry names of the loss reporter (see the module doc). */
export const LOSSES = Object.freeze(
  {
    /** Items lost, by `<component>.<reason>`. */
    lost: "losses.Lost",
    /** Published: per `<component>.<reason>` the total, unit, first and last time. */
    reasons: "losses.Reasons",
  } as const,
);

/** What the loss reporter publishes, read each time the registry is read. */
export interface LossesReaders {
  /** Per `<component>.<reason>`: the total, unit, first and last time. */
  reasons: () => unknown;
}

/**
 * Registers what the loss reporter emits and returns its counters.
 *
 * @example Count a loss
 * ```ts
 * import { Registry } from "../registry.ts";
 * import { LOSSES, lossesEvents } from "./losses.ts";
 * const registry = new Registry();
 * lossesEvents(registry, { reasons: () => ({}) }).lost.with("forwarder.disk_full").inc(2);
 * const lost = registry.read(LOSSES.lost) as Record<string, number>;
 * console.assert(lost["forwarder.disk_full"] === 2);
 * ```
 */
export function lossesEvents(registry: Registry, readers: LossesReaders) {
  const events = { lost: registry.counterVec(LOSSES.lost) };
  registry.publish(LOSSES.reasons, readers.reasons);
  return events;
}
