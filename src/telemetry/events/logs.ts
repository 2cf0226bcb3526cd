/**
 * What log collection MUST emit. Names follow the Datadog Agent's `logs-agent` expvar map where
 * it has one (`LogsDecoded`, `LogsTruncated`, `BytesMissed`); the others are
 * outpost's, in the same map.
 *
 * | name | kind | counts |
 * |------|------|--------|
 * | `logs-agent.LogsDecoded` | counter | events that entered the processing rules (the sender counts `LogsProcessed`, those that passed) |
 * | `logs-agent.LogsTruncated` | counter | lines cut at `max_message_size_bytes` |
 * | `logs-agent.BytesRead` | counter | bytes read from files and sockets |
 * | `logs-agent.DecodingErrors` | counter | lines whose invalid UTF-8 was replaced |
 * | `logs-agent.Rotations` | counter | file rotations and truncations seen |
 * | `logs-agent.BytesMissed` | counter | bytes of rotated files left unread at `close_timeout` |
 * | `logs-agent.ListenerLogsDropped` | counter | TCP/UDP events dropped because the sender was full |
 * | `logs-agent.TailersOpen` | gauge | files open for tailing |
 * | `logs-agent.Sources` | gauge | configured sources |
 *
 * @module
 */
import type { Registry } from "../registry.ts";

/** The registry names of log collection's sources half (see the module doc). */
export const LOGS = Object.freeze(
  {
    logsDecoded: "logs-agent.LogsDecoded",
    logsTruncated: "logs-agent.LogsTruncated",
    bytesRead: "logs-agent.BytesRead",
    decodingErrors: "logs-agent.DecodingErrors",
    rotations: "logs-agent.Rotations",
    bytesMissed: "logs-agent.BytesMissed",
    listenerLogsDropped: "logs-agent.ListenerLogsDropped",
    tailersOpen: "logs-agent.TailersOpen",
    sources: "logs-agent.Sources",
  } as const,
);

/**
 * Registers what the log sources emit and returns the counters.
 *
 * @example Count a decoded event
 * ```ts
 * import { Registry } from "../registry.ts";
 * import { LOGS, logsEvents } from "./logs.ts";
 * const registry = new Registry();
 * logsEvents(registry).logsDecoded.inc();
 * console.assert(registry.read(LOGS.logsDecoded) === 1);
 * ```
 */
export function logsEvents(registry: Registry) {
  return {
    logsDecoded: registry.counter(LOGS.logsDecoded),
    logsTruncated: registry.counter(LOGS.logsTruncated),
    bytesRead: registry.counter(LOGS.bytesRead),
    decodingErrors: registry.counter(LOGS.decodingErrors),
    rotations: registry.counter(LOGS.rotations),
    bytesMissed: registry.counter(LOGS.bytesMissed),
    listenerLogsDropped: registry.counter(LOGS.listenerLogsDropped),
    tailersOpen: registry.gauge(LOGS.tailersOpen),
    sources: registry.gauge(LOGS.sources),
  };
}

/** The counters {@linkcode logsEvents} returns. */
export type LogsEvents = ReturnType<typeof logsEvents>;
