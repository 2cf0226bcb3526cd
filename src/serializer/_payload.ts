/**
 * The serializer's output: forwarder payloads, with what the serializer counts in each.
 */
import type { Delivery, Payload } from "../forwarder/mod.ts";

/** What a payload carries; also the telemetry label of serializer counters. */
export type PayloadKind =
  | "series"
  | "sketches"
  | "service_checks"
  | "events"
  | "host_metadata"
  | "metadata"
  | "orchestrator_metadata"
  | "orchestrator_manifest";

/**
 * One request body ready for the intake, as the forwarder moves it, with the serializer's own
 * counts. The serializer sets every content header (`Content-Type`, `Content-Encoding`,
 * `DD-Agent-Payload`); the forwarder adds the domain, the API key and the agent's headers.
 */
export interface EncodedPayload extends Payload {
  kind: PayloadKind;
  /** Series, sketch series, service checks or events in the body (1 for pass-through). */
  items: number;
  /** Points for series and sketches (one per sketch bucket); `items` otherwise. */
  points: number;
  /** High priority payloads (host metadata) are evicted from retry queues last. */
  priority: "normal" | "high";
}

/** Hands payloads on (the forwarder's submit), with one ack handle per payload. */
export type SendPayloads = (payloads: EncodedPayload[]) => readonly Delivery[];
