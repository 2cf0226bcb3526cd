/**
 * Built-in status providers that read the telemetry registry by name, so a component only has
 * to count; a missing variable renders as "not running" instead of failing.
 *
 * Registry names read (the contract with the components that count them):
 *
 * | provider   | name                         | kind                                   |
 * |------------|------------------------------|----------------------------------------|
 * | DogStatsD  | `dogstatsd.packets`          | counter: datagrams received            |
 * |            | `dogstatsd.bytes`            | counter: bytes received                |
 * |            | `dogstatsd.messages`         | counterVec by kind (metric, event, service_check) |
 * |            | `dogstatsd.parse_errors`     | counterVec by kind                     |
 * |            | `dogstatsd.blocklisted`      | counter                                |
 * |            | `dogstatsd.dropped`          | counter                                |
 * |            | `dogstatsd.last_errors`      | published: array of strings, newest last |
 * | Aggregator | `aggregator.contexts`        | gauge                                  |
 * |            | `aggregator.flushes`         | counter, or counterVec by payload kind |
 * |            | `aggregator.dropped`         | counter, or counterVec by reason       |
 * |            | `aggregator.flush_errors`    | counter, or counterVec by kind         |
 * | Forwarder  | `forwarder.successes`        | counterVec by endpoint URL             |
 * |            | `forwarder.errors`           | counterVec by endpoint URL             |
 * |            | `forwarder.retries`          | counterVec by endpoint URL             |
 * |            | `forwarder.dropped`          | counterVec by endpoint URL             |
 * |            | `forwarder.queue_bytes_memory` | gauge                                |
 * |            | `forwarder.queue_bytes_disk` | gauge                                  |
 * |            | `forwarder.api_key_status`   | published: { endpoint: "valid" \| "invalid" \| "unknown" } |
 * | Host metadata | `metadata.host_payloads_sent`, `metadata.host_payload_errors`, `metadata.host_last_sent` | counters, published ms |
 */
import type { Registry } from "../telemetry/mod.ts";
import type { HostMetadata } from "../metadata/mod.ts";
import type { StatusData, StatusProvider } from "./_collector.ts";
import { lines, type Style } from "./_style.ts";

/** A number, a label→number map, or absent. */
type Figure = number | Record<string, number> | undefined;

function figure(registry: Registry, name: string): Figure {
  const v = registry.read(name);
  if (typeof v === "number") return v;
  if (v && typeof v === "object" && !Array.isArray(v)) {
    return Object.fromEntries(Object.entries(v).filter(([, n]) => typeof n === "number")) as Record<
      string,
      number
    >;
  }
  return undefined;
}

function total(f: Figure): number | undefined {
  if (f === undefined || typeof f === "number") return f;
  return Object.values(f).reduce((a, b) => a + b, 0);
}

/** Reads `prefix.key` for each key; returns undefined when none exists. */
function readAll(
  registry: Registry,
  prefix: string,
  keys: string[],
): Record<string, Figure> | null {
  const out: Record<string, Figure> = {};
  let any = false;
  for (const k of keys) {
    out[k] = figure(registry, `${prefix}.${k}`);
    if (out[k] !== undefined) any = true;
  }
  return any ? out : null;
}

function notRunning(component: string, prefix: string, style: Style): string {
  return style.warn(`  ${component} is not running (no ${prefix}.* telemetry yet)`);
}

/** Renders a figure: a total followed by its labels, `-` when absent. */
function show(f: Figure): string | number {
  if (f === undefined) return "-";
  if (typeof f === "number") return f;
  const parts = Object.entries(f).map(([k, n]) => `${k}=${n}`);
  return parts.length ? `${total(f)} (${parts.join(", ")})` : 0;
}

/** DogStatsD: packets, bytes, messages, parse errors by kind and the last errors. */
export function dogstatsdStatusProvider(registry: Registry): StatusProvider {
  const keys = ["packets", "bytes", "messages", "parse_errors", "blocklisted", "dropped"];
  return {
    name: "DogStatsD",
    section: "dogstatsd",
    data() {
      const stats = readAll(registry, "dogstatsd", keys);
      const last = registry.read("dogstatsd.last_errors");
      if (!stats) return { dogstatsdStats: null };
      return {
        dogstatsdStats: { ...stats, last_errors: Array.isArray(last) ? last.map(String) : [] },
      };
    },
    text(data, style) {
      const s = data.dogstatsdStats as Record<string, any> | null;
      if (!s) return notRunning("DogStatsD", "dogstatsd", style);
      const errs = total(s.parse_errors) ?? 0;
      return [
        lines([
          ["Packets", show(s.packets)],
          ["Bytes", show(s.bytes)],
          ["Messages", show(s.messages)],
          [
            "Parse errors",
            errs > 0 ? style.error(String(show(s.parse_errors))) : show(s.parse_errors),
          ],
          ["Blocklisted", show(s.blocklisted)],
          ["Dropped", show(s.dropped)],
        ]),
        ...(s.last_errors.length
          ? ["  Last errors:", ...s.last_errors.map((e: string) => style.error(`    ${e}`))]
          : []),
      ].join("\n");
    },
  };
}

/** Aggregator: contexts, flushes and drops. */
export function aggregatorStatusProvider(registry: Registry): StatusProvider {
  return {
    name: "Aggregator",
    section: "aggregator",
    data: () => ({
      aggregatorStats: readAll(registry, "aggregator", [
        "contexts",
        "flushes",
        "dropped",
        "flush_errors",
      ]),
    }),
    text(data, style) {
      const s = data.aggregatorStats as Record<string, Figure> | null;
      if (!s) return notRunning("The aggregator", "aggregator", style);
      return lines([
        ["Contexts", show(s.contexts)],
        ["Flushes", show(s.flushes)],
        ["Dropped", show(s.dropped)],
        ["Flush errors", show(s.flush_errors)],
      ]);
    },
  };
}

/** Forwarder: per endpoint successes, errors, retries and drops; queue bytes; API key validity. */
export function forwarderStatusProvider(registry: Registry): StatusProvider {
  const perEndpoint = ["successes", "errors", "retries", "dropped"];
  return {
    name: "Forwarder",
    section: "forwarder",
    data() {
      const counts = readAll(registry, "forwarder", [
        ...perEndpoint,
        "queue_bytes_memory",
        "queue_bytes_disk",
      ]);
      const keys = registry.read("forwarder.api_key_status");
      if (!counts && keys === undefined) return { forwarderStats: null };
      const endpoints: Record<string, Record<string, number>> = {};
      for (const k of perEndpoint) {
        const f = counts?.[k];
        if (f === undefined) continue;
        // A plain counter (no endpoint label) is shown under "all".
        for (const [url, n] of Object.entries(typeof f === "number" ? { all: f } : f)) {
          (endpoints[url] ??= Object.fromEntries(perEndpoint.map((p) => [p, 0])))[k] = n;
        }
      }
      return {
        forwarderStats: {
          endpoints,
          queue_bytes_memory: total(counts?.queue_bytes_memory) ?? null,
          queue_bytes_disk: total(counts?.queue_bytes_disk) ?? null,
          api_key_status: keys && typeof keys === "object" ? keys : {},
        },
      };
    },
    text(data, style) {
      const s = data.forwarderStats as Record<string, any> | null;
      if (!s) return notRunning("The forwarder", "forwarder", style);
      const out = [
        lines([
          ["Queue bytes in memory", s.queue_bytes_memory ?? "-"],
          ["Queue bytes on disk", s.queue_bytes_disk ?? "-"],
        ]),
      ];
      for (
        const [url, c] of Object.entries(s.endpoints as Record<string, Record<string, number>>)
      ) {
        out.push(
          `  ${url}`,
          lines(perEndpoint.map((k) => [k[0].toUpperCase() + k.slice(1), c[k]]), "    "),
        );
      }
      const keys = Object.entries(s.api_key_status as Record<string, string>);
      if (keys.length > 0) {
        out.push("  API Keys status");
        for (const [where, v] of keys) {
          const paint = v === "valid" ? style.ok : v === "invalid" ? style.error : style.warn;
          out.push(`    ${where}: ${paint(`API Key ${v}`)}`);
        }
      }
      return out.join("\n");
    },
  };
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
      const last = registry.read("metadata.host_last_sent");
      return {
        hostnameStats: { hostname: h.hostname, provider: h.provider, errors: h.errors },
        hostMetadataStats: {
          payloads_sent: registry.read("metadata.host_payloads_sent") ?? 0,
          payload_errors: registry.read("metadata.host_payload_errors") ?? 0,
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
          ["Hostname provider", h.provider || style.error("none (every provider failed)")],
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
