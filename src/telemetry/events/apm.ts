/**
 * What the trace component's receiver, writer and proxies MUST emit (the processing core's
 * names are in `trace.ts`). Published in `/debug/vars` under `apm`.
 *
 * | name | kind | counts |
 * |------|------|--------|
 * | `apm.Requests` | by endpoint | requests to the receiver |
 * | `apm.RequestErrors` | by `<endpoint> <reason>` | requests refused: `payload-too-large`, `timeout`, `read-error`, `cross-site`, `unsupported-media-type`, `decoder-busy`, and the decoders' reasons (`unexpected-eof`, `msgpack-type`, `index-out-of-range`, `too-large`, `json`, `payload-shape`) |
 * | `apm.TracesReceived` | by language | traces decoded |
 * | `apm.SpansReceived` | by language | spans decoded |
 * | `apm.BytesReceived` | by language | body bytes of trace and stats requests |
 * | `apm.SpansByService` | by service | spans decoded, by the service of the span (bounded, see below) |
 * | `apm.TracesDropped` | by reason | traces lost in the receiver (`payload-too-large`, `decoder-busy`, decode errors: the `X-Datadog-Trace-Count` of the refused request) |
 * | `apm.ClientStatsPayloads` | counter | `/v0.6/stats` payloads accepted |
 * | `apm.DogstatsdLines` | counter | lines fed to DogStatsD by `/dogstatsd/v1|v2/proxy` |
 * | `apm.WriterPayloads` | by outcome | AgentPayloads: `submitted`, then `delivered`, `stored` (on disk, replayed later) or `dropped` |
 * | `apm.WriterSpans` | counter | spans handed to the forwarder |
 * | `apm.WriterBytes` | counter | compressed bytes handed to the forwarder |
 * | `apm.StatsPayloads` | by outcome | StatsPayloads, like `WriterPayloads` |
 * | `apm.StatsBuckets` | counter | stats buckets written (agent- and client-computed) |
 * | `apm.ProxyRequests` | by product | proxied requests answered by the upstream |
 * | `apm.ProxyErrors` | by `<product> <reason>` | proxied requests refused or failed |
 * | `apm.Receiver` | published | the listening addresses and the rates by service |
 *
 * @module
 */
import type { Registry } from "../registry.ts";

/** The registry names of the receiver, writer and proxies (see the module doc). */
export const APM = Object.freeze(
  {
    requests: "apm.Requests",
    requestErrors: "apm.RequestErrors",
    tracesReceived: "apm.TracesReceived",
    spansReceived: "apm.SpansReceived",
    bytesReceived: "apm.BytesReceived",
    spansByService: "apm.SpansByService",
    tracesDropped: "apm.TracesDropped",
    clientStatsPayloads: "apm.ClientStatsPayloads",
    dogstatsdLines: "apm.DogstatsdLines",
    writerPayloads: "apm.WriterPayloads",
    writerSpans: "apm.WriterSpans",
    writerBytes: "apm.WriterBytes",
    statsPayloads: "apm.StatsPayloads",
    statsBuckets: "apm.StatsBuckets",
    proxyRequests: "apm.ProxyRequests",
    proxyErrors: "apm.ProxyErrors",
    receiver: "apm.Receiver",
  } as const,
);

/** What the trace component publishes, read each time the registry is read. */
export interface ApmReaders {
  /** Listening addresses and `rate_by_service`. */
  receiver: () => unknown;
}

/**
 * Registers what the receiver, writer and proxies emit and returns their counters.
 *
 * @example Count a refused request
 * ```ts
 * import { Registry } from "../registry.ts";
 * import { APM, apmEvents } from "./apm.ts";
 * const registry = new Registry();
 * apmEvents(registry, { receiver: () => ({}) }).requestErrors.with("/v0.4/traces timeout").inc();
 * console.assert((registry.read(APM.requestErrors) as Record<string, number>)["/v0.4/traces timeout"] === 1);
 * ```
 */
export function apmEvents(registry: Registry, readers: ApmReaders) {
  const events = {
    requests: registry.counterVec(APM.requests),
    requestErrors: registry.counterVec(APM.requestErrors),
    tracesReceived: registry.counterVec(APM.tracesReceived),
    spansReceived: registry.counterVec(APM.spansReceived),
    bytesReceived: registry.counterVec(APM.bytesReceived),
    spansByService: registry.counterVec(APM.spansByService),
    tracesDropped: registry.counterVec(APM.tracesDropped),
    clientStatsPayloads: registry.counter(APM.clientStatsPayloads),
    dogstatsdLines: registry.counter(APM.dogstatsdLines),
    writerPayloads: registry.counterVec(APM.writerPayloads),
    writerSpans: registry.counter(APM.writerSpans),
    writerBytes: registry.counter(APM.writerBytes),
    statsPayloads: registry.counterVec(APM.statsPayloads),
    statsBuckets: registry.counter(APM.statsBuckets),
    proxyRequests: registry.counterVec(APM.proxyRequests),
    proxyErrors: registry.counterVec(APM.proxyErrors),
  };
  registry.publish(APM.receiver, readers.receiver);
  return events;
}

/** The counters {@linkcode apmEvents} returns. */
export type ApmCounters = ReturnType<typeof apmEvents>;
