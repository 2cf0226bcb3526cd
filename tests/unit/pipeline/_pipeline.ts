/**
 * The metrics path as the agent wires it, without sockets: DogStatsD parser → aggregator →
 * serializer, payloads collected in memory and decoded with protobufjs or JSON.parse.
 */
import { DogStatsDParser, type ParsedItems } from "../../../src/dogstatsd/mod.ts";
import { Aggregator } from "../../../src/aggregator/mod.ts";
import { createLogger } from "../../../src/log/mod.ts";
import { runtime } from "../../../src/runtime/mod.ts";
import {
  type EncodedPayload,
  Serializer,
  serializerSettings,
} from "../../../src/serializer/mod.ts";
import { Registry } from "../../../src/telemetry/mod.ts";
import { config, decodeJson, decodeSeries, decodeSketches } from "../serializer/_decode.ts";

/** Arrival time of every packet, Unix seconds. */
export const NOW = 1_700_000_003;

const enc = new TextEncoder();

/** A parser, an aggregator and a serializer sharing one registry, as in the agent. */
/** The ack of a payload the test intake took at once. */
const DELIVERED = { done: Promise.resolve({ status: "delivered", reason: "delivered" } as const) };

export function pipeline({ noAggregation = true }: { noAggregation?: boolean } = {}) {
  const registry = new Registry();
  const sent: EncodedPayload[] = [];
  const parser = new DogStatsDParser(registry, { defaultHostname: "" });
  const serializer = new Serializer(serializerSettings(config()), {
    runtime,
    registry,
    hostname: "agent-host",
    now: () => NOW,
    send: (p) => p.map((payload) => (sent.push(payload), DELIVERED)),
  });
  const aggregator = new Aggregator({
    sink: serializer,
    hostname: "agent-host",
    registry,
    log: createLogger({ level: "off" }).for("aggregator"),
    now: () => NOW,
    noAggregation,
  });
  return {
    registry,
    sent,
    /** Parses one packet and hands what it holds to the aggregator. */
    feed(packet: string | Uint8Array): void {
      const out: ParsedItems = { samples: [], events: [], serviceChecks: [] };
      parser.parsePacket(typeof packet === "string" ? enc.encode(packet) : packet, out);
      aggregator.addSamples(out.samples, NOW);
      for (const e of out.events) aggregator.addEvent(e);
      for (const c of out.serviceChecks) aggregator.addServiceCheck(c);
    },
    /** Flushes every bucket, open ones included. */
    flush: () => aggregator.flush({ now: NOW + 60, all: true }),
  };
}

/** Every payload sent, decoded: series and sketches with protobufjs, the rest as JSON. */
export function decoded(sent: readonly EncodedPayload[]): Array<{ kind: string; body: unknown }> {
  return sent.map((p) => ({
    kind: p.kind,
    body: p.kind === "series"
      ? decodeSeries(p)
      : p.kind === "sketches"
      ? decodeSketches(p)
      : decodeJson(p),
  }));
}

/**
 * Every number in `value` (recursively), with its path. A `null` shows as NaN: JSON.stringify
 * writes NaN and ±Inf as null. (Empty service check tags are the one legitimate null.)
 */
export function numbers(value: unknown, path = ""): Array<[string, number]> {
  if (typeof value === "number") return [[path, value]];
  if (value === null) return path.endsWith(".tags") ? [] : [[path, NaN]];
  if (typeof value !== "object") return [];
  if (ArrayBuffer.isView(value)) return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) =>
    numbers(v, `${path}.${k}`)
  );
}

/** The series named `name` in decoded v2 payloads. */
export function seriesNamed(all: ReturnType<typeof decoded>, name: string): any[] {
  return all.filter((d) => d.kind === "series").flatMap((d) =>
    (d.body as { series: any[] }).series.filter((s) => s.metric === name)
  );
}
