/**
 * The "APM Agent" section of `outpost status`: where the receiver listens, what it received
 * by language and service, what it refused and why, the rates it gives tracers, and what the
 * writer handed to the forwarder.
 */
import type { StatusData, StatusProvider, Style } from "../status/mod.ts";
import type { ApmCounters } from "../telemetry/mod.ts";

/** What the section shows besides the counters. */
export interface ApmStatusSources {
  counters: ApmCounters;
  /** `host:port` and the unix socket the receiver listens on, once started. */
  addresses: () => string[];
  rateByService: () => Record<string, number>;
  /** Spans buffered in the writer, not yet handed to the forwarder. */
  bufferedSpans: () => number;
}

const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);

function byLabel(o: Record<string, number>): string {
  const parts = Object.entries(o).sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) =>
    `${k}=${n}`
  );
  return parts.length ? `${sum(o)} (${parts.join(", ")})` : "0";
}

/** Payload outcomes: how many were handed over, and where they are now. */
function outcomes(o: Record<string, number>): string {
  const n = (k: string) => o[k] ?? 0;
  const pending = n("submitted") - n("delivered") - n("stored") - n("dropped");
  return `${n("submitted")} submitted: ${n("delivered")} delivered, ${pending} sending or ` +
    `retrying, ${n("stored")} stored on disk, ${n("dropped")} dropped`;
}

/**
 * The status provider of the trace component (section `apmStats` in the JSON status).
 *
 * @example
 * ```ts
 * import { apmEvents, Registry } from "../telemetry/mod.ts";
 * import { PLAIN } from "../status/mod.ts";
 * import { apmStatusProvider } from "./_status.ts";
 * const counters = apmEvents(new Registry(), { receiver: () => ({}) });
 * const p = apmStatusProvider({
 *   counters, addresses: () => ["localhost:8126"], rateByService: () => ({}), bufferedSpans: () => 0,
 * });
 * console.log(p.text(await p.data(), PLAIN).includes("localhost:8126")); // true
 * ```
 */
export function apmStatusProvider(sources: ApmStatusSources): StatusProvider {
  const { counters: c } = sources;
  return {
    name: "APM Agent",
    section: "apm",
    data(): StatusData {
      return {
        apmStats: {
          receiver: sources.addresses(),
          traces_received: c.tracesReceived.toJSON(),
          spans_received: c.spansReceived.toJSON(),
          bytes_received: c.bytesReceived.toJSON(),
          spans_by_service: c.spansByService.toJSON(),
          requests: c.requests.toJSON(),
          request_errors: c.requestErrors.toJSON(),
          traces_dropped: c.tracesDropped.toJSON(),
          client_stats_payloads: c.clientStatsPayloads.value,
          dogstatsd_lines: c.dogstatsdLines.value,
          rate_by_service: sources.rateByService(),
          writer: {
            payloads: c.writerPayloads.toJSON(),
            spans: c.writerSpans.value,
            bytes: c.writerBytes.value,
            buffered_spans: sources.bufferedSpans(),
          },
          stats_writer: { payloads: c.statsPayloads.toJSON(), buckets: c.statsBuckets.value },
          proxy: { requests: c.proxyRequests.toJSON(), errors: c.proxyErrors.toJSON() },
        },
      };
    },
    text(data: StatusData, style: Style): string {
      const s = data.apmStats as Record<string, any>;
      const receiver = (s.receiver as string[]).length ? s.receiver.join(", ") : "not listening";
      const errors = sum(s.request_errors) > 0
        ? style.error(byLabel(s.request_errors))
        : byLabel(s.request_errors);
      const w = s.writer;
      const rates = Object.entries(s.rate_by_service as Record<string, number>).map(([k, r]) =>
        `    ${k}: ${Math.round(r * 1e4) / 1e4}`
      );
      return [
        `  Receiver: ${receiver}`,
        `  Traces received: ${byLabel(s.traces_received)}`,
        `  Spans received: ${byLabel(s.spans_received)}`,
        `  Bytes received: ${byLabel(s.bytes_received)}`,
        `  Spans by service: ${byLabel(s.spans_by_service)}`,
        `  Requests refused: ${errors}`,
        `  Traces dropped: ${byLabel(s.traces_dropped)}`,
        `  Client stats payloads: ${s.client_stats_payloads}`,
        `  DogStatsD lines relayed: ${s.dogstatsd_lines}`,
        `  Rates by service:`,
        ...(rates.length ? rates : ["    (none yet)"]),
        `  Trace payloads: ${outcomes(w.payloads)}`,
        `  Spans written: ${w.spans} (${w.bytes} bytes), ${w.buffered_spans} buffered`,
        `  Stats payloads: ${outcomes(s.stats_writer.payloads)}`,
        `  Stats buckets written: ${s.stats_writer.buckets}`,
        `  Proxied: ${byLabel(s.proxy.requests)}; errors ${byLabel(s.proxy.errors)}`,
      ].join("\n");
    },
  };
}
