/**
 * What the host metadata sender MUST emit.
 *
 * | name | kind | counts |
 * |------|------|--------|
 * | `metadata.host_payloads_sent` | counter | host metadata payloads the intake accepted |
 * | `metadata.host_payload_errors` | counter | payloads that could not be sent |
 * | `metadata.host_last_sent` | published | when the last one was accepted, ms since epoch (0: never) |
 *
 * @module
 */
import type { Registry } from "../registry.ts";

/** The registry names of the host metadata sender (see the module doc). */
export const METADATA = Object.freeze(
  {
    /** Host metadata payloads the intake accepted. */
    hostPayloadsSent: "metadata.host_payloads_sent",
    /** Host metadata payloads that could not be sent. */
    hostPayloadErrors: "metadata.host_payload_errors",
    /** Published: when the last payload was accepted, ms since epoch; 0 before the first. */
    hostLastSent: "metadata.host_last_sent",
  } as const,
);

/** What the sender publishes, read each time the registry is read. */
export interface MetadataReaders {
  /** When the last payload was accepted, ms since epoch; 0 before the first. */
  hostLastSent: () => number;
}

/**
 * Registers what the host metadata sender emits and returns its counters.
 *
 * @example Count a payload sent
 * ```ts
 * import { Registry } from "../registry.ts";
 * import { METADATA, metadataEvents } from "./metadata.ts";
 * const registry = new Registry();
 * metadataEvents(registry, { hostLastSent: () => 0 }).hostPayloadsSent.inc();
 * console.assert(registry.read(METADATA.hostPayloadsSent) === 1);
 * ```
 */
export function metadataEvents(registry: Registry, readers: MetadataReaders) {
  const events = {
    hostPayloadsSent: registry.counter(METADATA.hostPayloadsSent),
    hostPayloadErrors: registry.counter(METADATA.hostPayloadErrors),
  };
  registry.publish(METADATA.hostLastSent, readers.hostLastSent);
  return events;
}
