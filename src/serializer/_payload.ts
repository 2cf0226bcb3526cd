/**
 * The serializer's output: what the forwarder moves without looking inside.
 */

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
 * One request body ready for the intake. The forwarder adds the domain, the API key and its
 * own headers (`DD-Api-Key`, `DD-Agent-Version`, `User-Agent`), and never reads `body`.
 */
export interface Payload {
  /** Intake route, e.g. `/api/v2/series`. */
  route: string;
  /** The body as sent: already compressed when `headers` has `Content-Encoding`. */
  body: Uint8Array;
  /** `Content-Type`, and `Content-Encoding` and `DD-Agent-Payload` where they apply. */
  headers: Record<string, string>;
  kind: PayloadKind;
  /** Series, sketch series, service checks or events in the body (1 for pass-through). */
  items: number;
  /** Points for series and sketches (one per sketch bucket); `items` otherwise. */
  points: number;
  /** False when the body carries the API key (host metadata): never write it to disk. */
  storable: boolean;
  /** High priority payloads (host metadata) are evicted from retry queues last. */
  priority: "normal" | "high";
}

/** Hands payloads on: the forwarder's enqueue. */
export type SendPayloads = (payloads: Payload[]) => void | Promise<void>;
