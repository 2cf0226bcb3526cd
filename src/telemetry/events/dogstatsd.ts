/**
 * What DogStatsD MUST emit. The names follow the Datadog Agent's `dogstatsd`,
 * `dogstatsd-udp` and `dogstatsd-uds` expvar maps, so tools that read the Agent's
 * `/debug/vars` read ours.
 *
 * | name | kind | counts |
 * |------|------|--------|
 * | `dogstatsd.MetricPackets`, `.EventPackets`, `.ServiceCheckPackets` | counter | messages parsed, by kind |
 * | `dogstatsd.MetricParseErrors`, `.EventParseErrors`, `.ServiceCheckParseErrors` | counter | messages refused, by kind |
 * | `dogstatsd.UnterminatedMetricErrors` | counter | last messages without a newline where one is required |
 * | `dogstatsd.ParseErrorsByReason` | by parse error code | every refused message |
 * | `dogstatsd.MetricsBlocklisted` | counter | samples dropped by `statsd_metric_blocklist` |
 * | `dogstatsd.RecentParseErrors` | published | the last refused messages: `{kind, code, message, time}` |
 * | `dogstatsd.Dropped` | by reason | packets or items lost: `truncated_packet`, `forward_error`, `sink_error` |
 * | `dogstatsd-<udp\|uds>.Packets`, `.Bytes` | counter | datagrams read and their bytes |
 * | `dogstatsd-<udp\|uds>.PacketReadingErrors` | counter | failed reads |
 * | `dogstatsd-<udp\|uds>.QueueBytes` | published | bytes the reader holds for the main thread |
 * | `dogstatsd-<udp\|uds>.QueueDroppedPackets`, `.QueueDroppedBytes` | published | what the reader dropped, its queue full |
 * | `dogstatsd-<udp\|uds>.KernelDrops` | published | datagrams the kernel dropped, its buffer full |
 * | `dogstatsd-<udp\|uds>.ReceiveBufferBytes` | published | the receive buffer the kernel granted |
 *
 * @module
 */
import type { Registry } from "../registry.ts";

/** The transports DogStatsD listens on; each has its own counters. */
export type DogStatsDTransport = "udp" | "uds";

function transportNames<T extends DogStatsDTransport>(transport: T) {
  const p = `dogstatsd-${transport}` as const;
  return Object.freeze(
    {
      /** Datagrams read. */
      packets: `${p}.Packets`,
      /** Bytes of the datagrams read. */
      bytes: `${p}.Bytes`,
      /** Reads that failed (the socket stays open). */
      packetReadingErrors: `${p}.PacketReadingErrors`,
      /** Published: bytes the reader thread holds for the main thread. */
      queueBytes: `${p}.QueueBytes`,
      /** Published: datagrams the reader dropped because its queue was full. */
      queueDroppedPackets: `${p}.QueueDroppedPackets`,
      /** Published: the bytes of those datagrams. */
      queueDroppedBytes: `${p}.QueueDroppedBytes`,
      /** Published: datagrams the kernel dropped for the socket; absent where unknown. */
      kernelDrops: `${p}.KernelDrops`,
      /** Published: the receive buffer the kernel granted. */
      receiveBufferBytes: `${p}.ReceiveBufferBytes`,
    } as const,
  );
}

/** The registry names of the DogStatsD server and parser (see the module doc). */
export const DOGSTATSD = Object.freeze(
  {
    /** Metric messages parsed. */
    metricPackets: "dogstatsd.MetricPackets",
    /** Metric messages refused. */
    metricParseErrors: "dogstatsd.MetricParseErrors",
    /** Event messages parsed. */
    eventPackets: "dogstatsd.EventPackets",
    /** Event messages refused. */
    eventParseErrors: "dogstatsd.EventParseErrors",
    /** Service check messages parsed. */
    serviceCheckPackets: "dogstatsd.ServiceCheckPackets",
    /** Service check messages refused. */
    serviceCheckParseErrors: "dogstatsd.ServiceCheckParseErrors",
    /** Last messages of a packet without the newline that `dogstatsd_eol_required` asks for. */
    unterminatedMetricErrors: "dogstatsd.UnterminatedMetricErrors",
    /** Samples dropped by the metric blocklist. */
    metricsBlocklisted: "dogstatsd.MetricsBlocklisted",
    /** Refused messages by parse error code (`no_pipe`, `too_many_tags`…). */
    parseErrorsByReason: "dogstatsd.ParseErrorsByReason",
    /** Published: the last refused messages, `{kind, code, message, time}`. */
    recentParseErrors: "dogstatsd.RecentParseErrors",
    /** Packets or parsed items lost, by reason. */
    dropped: "dogstatsd.Dropped",
    /** The UDP listener's figures. */
    udp: transportNames("udp"),
    /** The unix datagram socket's figures. */
    uds: transportNames("uds"),
  } as const,
);

/** What the parser publishes, read each time the registry is read. */
export interface DogStatsDParserReaders {
  /** The last refused messages. */
  recentParseErrors: () => unknown;
}

/**
 * Registers what the DogStatsD parser emits and returns its counters.
 *
 * @example Count a parsed metric
 * ```ts
 * import { Registry } from "../registry.ts";
 * import { DOGSTATSD, dogstatsdParserEvents } from "./dogstatsd.ts";
 * const registry = new Registry();
 * const events = dogstatsdParserEvents(registry, { recentParseErrors: () => [] });
 * events.metricPackets.inc();
 * console.assert(registry.read(DOGSTATSD.metricPackets) === 1);
 * ```
 */
export function dogstatsdParserEvents(registry: Registry, readers: DogStatsDParserReaders) {
  const events = {
    metricPackets: registry.counter(DOGSTATSD.metricPackets),
    metricParseErrors: registry.counter(DOGSTATSD.metricParseErrors),
    eventPackets: registry.counter(DOGSTATSD.eventPackets),
    eventParseErrors: registry.counter(DOGSTATSD.eventParseErrors),
    serviceCheckPackets: registry.counter(DOGSTATSD.serviceCheckPackets),
    serviceCheckParseErrors: registry.counter(DOGSTATSD.serviceCheckParseErrors),
    unterminatedMetricErrors: registry.counter(DOGSTATSD.unterminatedMetricErrors),
    metricsBlocklisted: registry.counter(DOGSTATSD.metricsBlocklisted),
    parseErrorsByReason: registry.counterVec(DOGSTATSD.parseErrorsByReason),
  };
  registry.publish(DOGSTATSD.recentParseErrors, readers.recentParseErrors);
  return events;
}

/** What the server publishes per transport, read from its listener when the registry is read. */
export interface DogStatsDTransportReaders {
  /** Bytes the reader holds; undefined while not listening. */
  queueBytes: () => number | undefined;
  /** Datagrams the reader dropped. */
  queueDroppedPackets: () => number | undefined;
  /** Bytes the reader dropped. */
  queueDroppedBytes: () => number | undefined;
  /** Datagrams the kernel dropped; undefined where unknown. */
  kernelDrops: () => number | undefined;
  /** The receive buffer granted. */
  receiveBufferBytes: () => number | undefined;
}

/**
 * Registers what the DogStatsD server emits (per transport, and its drops) and returns its
 * counters. The parse error counters are the parser's, read for the server's log.
 *
 * @example Count a datagram
 * ```ts
 * import { Registry } from "../registry.ts";
 * import { DOGSTATSD, dogstatsdServerEvents } from "./dogstatsd.ts";
 * const registry = new Registry();
 * const none = () => undefined;
 * const events = dogstatsdServerEvents(registry, () => ({
 *   queueBytes: none, queueDroppedPackets: none, queueDroppedBytes: none,
 *   kernelDrops: none, receiveBufferBytes: none,
 * }));
 * events.udp.packets.inc();
 * console.assert(registry.read(DOGSTATSD.udp.packets) === 1);
 * ```
 */
export function dogstatsdServerEvents(
  registry: Registry,
  readers: (transport: DogStatsDTransport) => DogStatsDTransportReaders,
) {
  const transport = (t: DogStatsDTransport) => ({
    packets: registry.counter(DOGSTATSD[t].packets),
    bytes: registry.counter(DOGSTATSD[t].bytes),
    packetReadingErrors: registry.counter(DOGSTATSD[t].packetReadingErrors),
  });
  const events = {
    udp: transport("udp"),
    uds: transport("uds"),
    dropped: registry.counterVec(DOGSTATSD.dropped),
    metricParseErrors: registry.counter(DOGSTATSD.metricParseErrors),
    eventParseErrors: registry.counter(DOGSTATSD.eventParseErrors),
    serviceCheckParseErrors: registry.counter(DOGSTATSD.serviceCheckParseErrors),
  };
  for (const t of ["udp", "uds"] as const) {
    const names = DOGSTATSD[t];
    const read = readers(t);
    registry.publish(names.queueBytes, read.queueBytes);
    registry.publish(names.queueDroppedPackets, read.queueDroppedPackets);
    registry.publish(names.queueDroppedBytes, read.queueDroppedBytes);
    registry.publish(names.kernelDrops, read.kernelDrops);
    registry.publish(names.receiveBufferBytes, read.receiveBufferBytes);
  }
  return events;
}
