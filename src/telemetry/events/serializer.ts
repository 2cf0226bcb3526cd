/**
 * What the serializer MUST emit, each by payload kind (`series`, `sketches`,
 * `service_checks`, `events`…):
 *
 * | name | kind | counts |
 * |------|------|--------|
 * | `serializer.payloads` | by kind | payloads built |
 * | `serializer.payload_bytes` | by kind | their bytes as sent |
 * | `serializer.items_too_big` | by kind | items dropped because no payload within the intake limits could hold them |
 * | `serializer.points_invalid` | by kind | points dropped for a non-finite or out-of-range number |
 *
 * @module
 */
import type { Registry } from "../registry.ts";

/** The registry names of the serializer (see the module doc). */
export const SERIALIZER = Object.freeze(
  {
    /** Payloads built, by kind. */
    payloads: "serializer.payloads",
    /** Bytes of those payloads, by kind. */
    payloadBytes: "serializer.payload_bytes",
    /** Items too big for any payload, by kind. */
    itemsTooBig: "serializer.items_too_big",
    /** Points with a non-finite or out-of-range number, by kind. */
    pointsInvalid: "serializer.points_invalid",
  } as const,
);

/**
 * Registers what the serializer emits and returns its counters.
 *
 * @example Count a payload
 * ```ts
 * import { Registry } from "../registry.ts";
 * import { SERIALIZER, serializerEvents } from "./serializer.ts";
 * const registry = new Registry();
 * serializerEvents(registry).payloads.with("series").inc();
 * console.assert((registry.read(SERIALIZER.payloads) as Record<string, number>).series === 1);
 * ```
 */
export function serializerEvents(registry: Registry) {
  return {
    payloads: registry.counterVec(SERIALIZER.payloads),
    payloadBytes: registry.counterVec(SERIALIZER.payloadBytes),
    itemsTooBig: registry.counterVec(SERIALIZER.itemsTooBig),
    pointsInvalid: registry.counterVec(SERIALIZER.pointsInvalid),
  };
}
