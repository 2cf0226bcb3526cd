/**
 * What the sending half of log collection MUST emit. Names are the Datadog Agent's
 * `logs-agent` expvar keys (logs-apmstats A.6); the sources half (`logs.ts`) adds its own.
 *
 * | name | kind | counts |
 * |------|------|--------|
 * | `logs-agent.LogsSent` | counter | messages in batches the intake accepted |
 * | `logs-agent.BytesSent` | counter | uncompressed bytes of those batches |
 * | `logs-agent.EncodedBytesSent` | counter | compressed bytes of those batches |
 * | `logs-agent.RetryCount` | published | retries of logs batches: the forwarder's for `/api/v2/logs` plus the sender's resubmissions |
 * | `logs-agent.DestinationErrors` | published | failed attempts to deliver logs batches, counted the same way |
 * | `logs-agent.DestinationLogsDropped` | by reason | messages dropped for good (`too_large`, `http_400`, `queue_full`…) |
 * | `logs-agent.SenderLatency` | gauge | ms between sealing and acceptance of the last batch |
 * | `logs-agent.IsRunning` | published | whether the logs agent runs |
 *
 * @module
 */
import type { Registry } from "../registry.ts";

/** The registry names of the logs sender (see the module doc). */
export const LOGS_SEND = Object.freeze(
  {
    /** Messages in batches the intake accepted. */
    logsSent: "logs-agent.LogsSent",
    /** Uncompressed bytes accepted. */
    bytesSent: "logs-agent.BytesSent",
    /** Compressed bytes accepted. */
    encodedBytesSent: "logs-agent.EncodedBytesSent",
    /** Published: retries of logs batches (the forwarder's and the sender's). */
    retryCount: "logs-agent.RetryCount",
    /** Published: failed attempts to deliver logs batches. */
    destinationErrors: "logs-agent.DestinationErrors",
    /** Messages dropped for good, by reason. */
    destinationLogsDropped: "logs-agent.DestinationLogsDropped",
    /** Ms from sealing to acceptance of the last batch. */
    senderLatency: "logs-agent.SenderLatency",
    /** Published: whether the logs agent runs. */
    isRunning: "logs-agent.IsRunning",
  } as const,
);

/** What the sender publishes. */
export interface LogsSendReaders {
  isRunning: () => boolean;
  retryCount: () => number;
  destinationErrors: () => number;
}

/**
 * Registers what the logs sender emits and returns its counters.
 *
 * @example
 * ```ts
 * import { Registry } from "../registry.ts";
 * import { LOGS_SEND, logsSendEvents } from "./logs_send.ts";
 * const registry = new Registry();
 * const none = () => 0;
 * logsSendEvents(registry, { isRunning: () => true, retryCount: none, destinationErrors: none })
 *   .logsSent.inc(3);
 * console.assert(registry.read(LOGS_SEND.logsSent) === 3);
 * ```
 */
export function logsSendEvents(registry: Registry, readers: LogsSendReaders) {
  const events = {
    logsSent: registry.counter(LOGS_SEND.logsSent),
    bytesSent: registry.counter(LOGS_SEND.bytesSent),
    encodedBytesSent: registry.counter(LOGS_SEND.encodedBytesSent),
    destinationLogsDropped: registry.counterVec(LOGS_SEND.destinationLogsDropped),
    senderLatency: registry.gauge(LOGS_SEND.senderLatency),
  };
  registry.publish(LOGS_SEND.isRunning, readers.isRunning);
  registry.publish(LOGS_SEND.retryCount, readers.retryCount);
  registry.publish(LOGS_SEND.destinationErrors, readers.destinationErrors);
  return events;
}
