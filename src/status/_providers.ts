/**
 * Built-in status providers that read the telemetry registry by name, so a component only has
 * to count; a missing variable renders as "-" and a component with none as "not running".
 *
 * The names read are those the components emit, defined once in `src/telemetry/events/`
 * (DogStatsD: {@linkcode DOGSTATSD}, the aggregator section: {@linkcode AGGREGATOR} and
 * {@linkcode SERIALIZER}, forwarder: {@linkcode FORWARDER}, host metadata:
 * {@linkcode METADATA}); the readers below take only a defined name.
 */
import {
  AGGREGATOR,
  DOGSTATSD,
  FORWARDER,
  METADATA,
  type Registry,
  SERIALIZER,
  type TelemetryName,
} from "../telemetry/mod.ts";
import type { HostMetadata } from "../metadata/mod.ts";
import type { StatusData, StatusProvider } from "./_collector.ts";
import { lines, type Style } from "./_style.ts";

/** A number, a label→number map, or absent. */
type Figure = number | Record<string, number> | undefined;

/** Reads one variable; taking only a defined name, a misspelt one fails the type-check. */
function read(registry: Registry, name: TelemetryName): unknown {
  return registry.read(name);
}

/** Reads one variable as a figure; anything else counts as absent. */
function figure(registry: Registry, name: TelemetryName): Figure {
  const v = read(registry, name);
  if (typeof v === "number") return v;
  if (v && typeof v === "object" && !Array.isArray(v)) {
    return Object.fromEntries(Object.entries(v).filter(([, n]) => typeof n === "number")) as Record<
      string,
      number
    >;
  }
  return undefined;
}

/** Label → figure for several variables; absent ones are left out, undefined when all are. */
function group(
  registry: Registry,
  names: Record<string, TelemetryName>,
): Record<string, number> | undefined {
  const out: Record<string, number> = {};
  for (const [label, name] of Object.entries(names)) {
    const f = total(figure(registry, name));
    if (f !== undefined) out[label] = f;
  }
  return Object.keys(out).length ? out : undefined;
}

function total(f: Figure): number | undefined {
  if (f === undefined || typeof f === "number") return f;
  return Object.values(f).reduce((a, b) => a + b, 0);
}

function notRunning(component: string, prefix: string, style: Style): string {
  return style.warn(`  ${component} is not running (no ${prefix} telemetry yet)`);
}

/** Renders a figure: a total followed by its labels, `-` when absent. */
function show(f: Figure): string | number {
  if (f === undefined) return "-";
  if (typeof f === "number") return f;
  const parts = Object.entries(f).map(([k, n]) => `${k}=${n}`);
  return parts.length ? `${total(f)} (${parts.join(", ")})` : 0;
}

/** True when every value is undefined (the component never registered anything). */
function allAbsent(o: Record<string, unknown>): boolean {
  return Object.values(o).every((v) => v === undefined);
}

/** DogStatsD: packets, bytes, messages, parse errors by kind and the last errors. */
export function dogstatsdStatusProvider(registry: Registry): StatusProvider {
  return {
    name: "DogStatsD",
    section: "dogstatsd",
    data() {
      const transports = (k: keyof typeof DOGSTATSD.udp) =>
        group(registry, { udp: DOGSTATSD.udp[k], uds: DOGSTATSD.uds[k] });
      const stats = {
        packets: transports("packets"),
        bytes: transports("bytes"),
        packet_reading_errors: transports("packetReadingErrors"),
        receive_buffer_bytes: transports("receiveBufferBytes"),
        kernel_drops: transports("kernelDrops"),
        queue_bytes: transports("queueBytes"),
        queue_dropped_packets: transports("queueDroppedPackets"),
        queue_dropped_bytes: transports("queueDroppedBytes"),
        messages: group(registry, {
          metric: DOGSTATSD.metricPackets,
          event: DOGSTATSD.eventPackets,
          service_check: DOGSTATSD.serviceCheckPackets,
        }),
        parse_errors: group(registry, {
          metric: DOGSTATSD.metricParseErrors,
          event: DOGSTATSD.eventParseErrors,
          service_check: DOGSTATSD.serviceCheckParseErrors,
          unterminated: DOGSTATSD.unterminatedMetricErrors,
        }),
        parse_errors_by_reason: figure(registry, DOGSTATSD.parseErrorsByReason),
        blocklisted: figure(registry, DOGSTATSD.metricsBlocklisted),
        dropped: figure(registry, DOGSTATSD.dropped),
      };
      if (allAbsent(stats)) return { dogstatsdStats: null };
      const recent = read(registry, DOGSTATSD.recentParseErrors);
      return { dogstatsdStats: { ...stats, last_errors: Array.isArray(recent) ? recent : [] } };
    },
    text(data, style) {
      const s = data.dogstatsdStats as Record<string, any> | null;
      if (!s) return notRunning("DogStatsD", "dogstatsd", style);
      const errs = total(s.parse_errors) ?? 0;
      const paintErr = (f: Figure) => (total(f) ?? 0) > 0 ? style.error(String(show(f))) : show(f);
      return [
        lines([
          ["Packets", show(s.packets)],
          ["Bytes", show(s.bytes)],
          ["Packet reading errors", paintErr(s.packet_reading_errors)],
          ["Receive buffer (bytes)", show(s.receive_buffer_bytes)],
          ["Kernel drops", paintErr(s.kernel_drops)],
          ["Reader queue (bytes)", show(s.queue_bytes)],
          ["Reader queue drops", paintErr(s.queue_dropped_packets)],
          ["Reader queue dropped bytes", paintErr(s.queue_dropped_bytes)],
          ["Messages", show(s.messages)],
          [
            "Parse errors",
            errs > 0 ? style.error(String(show(s.parse_errors))) : show(s.parse_errors),
          ],
          ["Parse errors by reason", show(s.parse_errors_by_reason)],
          ["Blocklisted", show(s.blocklisted)],
          ["Dropped", paintErr(s.dropped)],
        ]),
        ...(s.last_errors.length
          ? [
            "  Last errors:",
            ...s.last_errors.map((e: unknown) => style.error(`    ${describeError(e)}`)),
          ]
          : []),
      ].join("\n");
    },
  };
}

/** `{kind, code, message, time}` → `<time> <kind> <code>: "<message>"`; other shapes as JSON. */
function describeError(e: unknown): string {
  if (!e || typeof e !== "object") return String(e);
  const { kind, code, message, time } = e as Record<string, unknown>;
  if (typeof code !== "string") return JSON.stringify(e);
  const when = typeof time === "number" ? `${new Date(time * 1000).toISOString()} ` : "";
  return `${when}${kind ?? ""} ${code}: ${JSON.stringify(message ?? "")}`;
}

/** Aggregator: contexts, samples, flushes and drops. */
export function aggregatorStatusProvider(registry: Registry): StatusProvider {
  return {
    name: "Aggregator",
    section: "aggregator",
    data() {
      const stats = {
        contexts: figure(registry, AGGREGATOR.dogstatsdContexts),
        contexts_by_type: figure(registry, AGGREGATOR.dogstatsdContextsByMtype),
        context_bytes: figure(registry, AGGREGATOR.dogstatsdContextsBytes),
        contexts_evicted: figure(registry, AGGREGATOR.dogstatsdContextsEvicted),
        dogstatsd_samples: figure(registry, AGGREGATOR.dogstatsdMetricSample),
        check_samples: figure(registry, AGGREGATOR.checksMetricSample),
        flushes: figure(registry, AGGREGATOR.numberOfFlush),
        last_flush_ms: figure(registry, AGGREGATOR.flushTimeMs),
        flushed: group(registry, {
          series: AGGREGATOR.seriesFlushed,
          sketches: AGGREGATOR.sketchesFlushed,
          service_checks: AGGREGATOR.serviceCheckFlushed,
          events: AGGREGATOR.eventsFlushed,
        }),
        dropped: figure(registry, AGGREGATOR.dropped),
        errors: figure(registry, AGGREGATOR.errors),
        // What the serializer drops on the way out of a flush, by kind.
        too_big: figure(registry, SERIALIZER.itemsTooBig),
        invalid_numbers: figure(registry, SERIALIZER.pointsInvalid),
      };
      return { aggregatorStats: allAbsent(stats) ? null : stats };
    },
    text(data, style) {
      const s = data.aggregatorStats as Record<string, Figure> | null;
      if (!s) return notRunning("The aggregator", "aggregator", style);
      return lines([
        ["Contexts", show(s.contexts)],
        ["Contexts by type", show(s.contexts_by_type)],
        ["Context bytes (estimated)", show(s.context_bytes)],
        ["Contexts evicted at the limit", show(s.contexts_evicted)],
        ["DogStatsD samples", show(s.dogstatsd_samples)],
        ["Check samples", show(s.check_samples)],
        ["Flushes", show(s.flushes)],
        ["Last flush time (ms)", show(s.last_flush_ms)],
        ["Flushed", show(s.flushed)],
        ["Dropped", show(s.dropped)],
        ["Errors", show(s.errors)],
        ["Serializer drops, too big for any payload", show(s.too_big)],
        ["Serializer drops, non-finite or out-of-range numbers", show(s.invalid_numbers)],
      ]);
    },
  };
}

/** Forwarder: per endpoint successes, errors, retries and drops; queue bytes; API key validity. */
export function forwarderStatusProvider(
  registry: Registry,
  { now = Date.now }: { now?: () => number } = {},
): StatusProvider {
  const perEndpoint: Record<string, TelemetryName> = {
    successes: FORWARDER.transactionsSuccess,
    errors: FORWARDER.transactionsErrors,
    retries: FORWARDER.transactionsRetried,
    dropped: FORWARDER.transactionsDroppedByEndpoint,
  };
  return {
    name: "Forwarder",
    section: "forwarder",
    data() {
      const counts = Object.fromEntries(
        Object.entries(perEndpoint).map(([k, name]) => [k, figure(registry, name)]),
      );
      const domains = read(registry, FORWARDER.domains);
      const keys = read(registry, FORWARDER.apiKeyStatus);
      const previous = read(registry, FORWARDER.previousRun);
      const lost = figure(registry, FORWARDER.transactionsDropped);
      if (
        allAbsent(counts) && domains === undefined && keys === undefined && lost === undefined &&
        previous === undefined
      ) {
        return { forwarderStats: null };
      }
      const endpoints: Record<string, Record<string, unknown>> = {};
      const blank = () => ({
        ...Object.fromEntries(Object.keys(perEndpoint).map((p) => [p, 0])),
        http_codes: {},
        drops_by_reason: {},
        last_error: null,
        failing_since_ms: null,
      });
      for (const [k, f] of Object.entries(counts)) {
        if (f === undefined) continue;
        // A plain counter (no endpoint label) is shown under "all".
        for (const [url, n] of Object.entries(typeof f === "number" ? { all: f } : f)) {
          (endpoints[url] ??= blank())[k] = n;
        }
      }
      const health = read(registry, FORWARDER.endpointHealth);
      if (health && typeof health === "object") {
        for (const [url, h] of Object.entries(health as Record<string, Record<string, unknown>>)) {
          const e = endpoints[url] ??= blank();
          e.http_codes = h?.httpCodes ?? {};
          e.drops_by_reason = h?.dropsByReason ?? {};
          e.last_error = h?.lastError ?? null;
          e.failing_since_ms = h?.failingSinceMs ?? null;
        }
      }
      const sum = (field: string) =>
        domains && typeof domains === "object"
          ? Object.values(domains as Record<string, Record<string, unknown>>)
            .reduce((a, d) => a + (typeof d?.[field] === "number" ? d[field] as number : 0), 0)
          : null;
      const oldest = domains && typeof domains === "object"
        ? Object.values(domains as Record<string, Record<string, unknown>>)
          .map((d) => d?.oldestQueuedMs)
          .filter((v): v is number => typeof v === "number")
          .reduce<number | null>((a, b) => a === null || b < a ? b : a, null)
        : null;
      return {
        forwarderStats: {
          endpoints,
          errors_by_type: figure(registry, FORWARDER.transactionsErrorsByType) ?? {},
          queue_bytes_memory: sum("retryQueueBytes"),
          queue_bytes_disk: sum("diskBytes"),
          queue_transactions_memory: sum("retryQueueTransactions"),
          queue_transactions_disk: sum("diskTransactionsWaiting"),
          oldest_queued_age_s: oldest === null
            ? null
            : Math.max(0, Math.round((now() - oldest) / 1000)),
          lost_by_reason: lost ?? {},
          disk_write_errors: figure(registry, FORWARDER.diskQueueWriteErrors) ?? {},
          previous_run: uncleanStop(previous),
          api_key_status: keys && typeof keys === "object" ? keys : {},
        },
      };
    },
    text(data, style) {
      const s = data.forwarderStats as Record<string, any> | null;
      if (!s) return notRunning("The forwarder", "forwarder", style);
      const paintErr = (f: Figure) => (total(f) ?? 0) > 0 ? style.error(String(show(f))) : show(f);
      const p = s.previous_run as UncleanStop | null;
      const at = (ms: number) => new Date(ms).toISOString();
      const out = [
        lines([
          ["Queue bytes in memory", s.queue_bytes_memory ?? "-"],
          ["Queue bytes on disk", s.queue_bytes_disk ?? "-"],
          ["Queued payloads in memory", s.queue_transactions_memory ?? "-"],
          ["Queued payloads on disk", s.queue_transactions_disk ?? "-"],
          [
            "Oldest queued payload",
            s.oldest_queued_age_s === null ? "-" : `${s.oldest_queued_age_s} s old`,
          ],
          ["Errors by type", show(s.errors_by_type)],
          ["Lost by reason", paintErr(s.lost_by_reason)],
          ["Disk write errors", paintErr(s.disk_write_errors)],
          ...(p
            ? [[
              "Previous run",
              style.error(
                `ended without a clean stop after ${at(p.lastSeenMs)}: data held in memory since ${
                  at(p.lostSinceMs)
                } was lost (${p.transactions} payloads, ${p.bytes} bytes, and the unflushed samples)`,
              ),
            ] as [string, unknown]]
            : []),
        ]),
      ];
      for (const [url, c] of Object.entries(s.endpoints as Record<string, Record<string, any>>)) {
        const rows: [string, unknown][] = Object.keys(perEndpoint).map((k) => [
          k[0].toUpperCase() + k.slice(1),
          k === "dropped" && Object.keys(c.drops_by_reason ?? {}).length > 0
            ? paintErr(c.drops_by_reason)
            : c[k],
        ]);
        if (Object.keys(c.http_codes ?? {}).length > 0) {
          rows.push(["HTTP errors", show(c.http_codes)]);
        }
        const e = c.last_error as { reason: string; status?: number; atMs: number } | null;
        if (e) {
          const what = e.status ? `HTTP ${e.status} (${e.reason})` : e.reason;
          rows.push(["Last error", `${what} at ${at(e.atMs)}`]);
        }
        if (typeof c.failing_since_ms === "number") {
          rows.push(["Failing since", style.error(at(c.failing_since_ms))]);
        }
        out.push(`  ${url}`, lines(rows, "    "));
      }
      const domains = Object.entries(s.api_key_status as Record<string, unknown>);
      if (domains.length > 0) {
        out.push("  API Keys status");
        for (const [domain, keys] of domains) {
          const states = keys && typeof keys === "object" ? Object.entries(keys) : [["", keys]];
          for (const [key, v] of states) {
            const paint = v === "valid" ? style.ok : v === "invalid" ? style.error : style.warn;
            out.push(`    ${domain}${key ? `, ${key}` : ""}: ${paint(`API Key ${v}`)}`);
          }
        }
      }
      return out.join("\n");
    },
  };
}

/** What {@linkcode FORWARDER.previousRun} says a killed run lost; null for a clean stop or another shape. */
interface UncleanStop {
  lastSeenMs: number;
  lostSinceMs: number;
  transactions: number;
  bytes: number;
}

function uncleanStop(v: unknown): UncleanStop | null {
  const u = v as Partial<UncleanStop> | null;
  const num = (n: unknown) => typeof n === "number" && Number.isFinite(n);
  if (!u || typeof u !== "object") return null;
  const ok = num(u.lastSeenMs) && num(u.lostSinceMs) && num(u.transactions) && num(u.bytes);
  return ok ? u as UncleanStop : null;
}

/** Host metadata: hostname and its provider, payloads sent. */
export function hostMetadataStatusProvider(
  registry: Registry,
  metadata: HostMetadata,
): StatusProvider {
  return {
    name: "Host Metadata",
    section: "metadata",
    data() {
      const h = metadata.hostname;
      const last = read(registry, METADATA.hostLastSent);
      return {
        hostnameStats: { hostname: h.hostname, provider: h.provider, errors: h.errors },
        hostMetadataStats: {
          payloads_sent: read(registry, METADATA.hostPayloadsSent) ?? 0,
          payload_errors: read(registry, METADATA.hostPayloadErrors) ?? 0,
          last_sent_ms: typeof last === "number" && last > 0 ? last : null,
        },
      };
    },
    text(data: StatusData, style) {
      const h = data.hostnameStats as { hostname: string; provider: string; errors: object };
      const m = data.hostMetadataStats as Record<string, number | null>;
      return [
        lines([
          ["Hostname", h.hostname],
          [
            "Hostname provider",
            h.provider === "unknown" ? style.error("unknown (every provider failed)") : h.provider,
          ],
          ...Object.entries(h.errors).map(([p, e]): [string, unknown] => [
            `Unused ${p} hostname`,
            style.warn(String(e)),
          ]),
          ["Payloads sent", m.payloads_sent],
          ["Payload errors", m.payload_errors ? style.error(String(m.payload_errors)) : 0],
          [
            "Last sent",
            m.last_sent_ms ? new Date(m.last_sent_ms).toISOString() : "never",
          ],
        ]),
      ].join("\n");
    },
  };
}
