/**
 * The serializer: turns each flush (series, sketches, service checks, events, orchestrator
 * payloads) into intake payloads within the size limits and hands them to `send`.
 */
import type { Config } from "../config/mod.ts";
import type {
  Event,
  MetricsSink,
  OrchestratorPayload,
  Serie,
  ServiceCheck,
  SketchSeries,
} from "../metrics/model.ts";
import type { Runtime } from "../runtime/types.ts";
import { type CounterVec, type Registry, serializerEvents } from "../telemetry/mod.ts";
import { type BuiltBody, type Framing, PayloadBuilder, type PayloadLimits } from "./_builder.ts";
import { type Compressor, type CompressorKind, createCompressor } from "./_compress.ts";
import { eventJson, groupEvents, serviceCheckJson, validItem } from "./_json.ts";
import type { EncodedPayload, PayloadKind, SendPayloads } from "./_payload.ts";
import type { Delivery } from "../forwarder/mod.ts";
import { ProtoWriter } from "./_proto.ts";
import { encodeSerieV2, invalidPoints, serieV1, validPoint } from "./_series.ts";
import { encodeSketch, invalidSketchPoints, SKETCH_FOOTER, validSketchPoint } from "./_sketches.ts";

/** agent-payload release whose `MetricPayload`/`SketchPayload` we write (`DD-Agent-Payload`). */
export const AGENT_PAYLOAD_VERSION = "v5.0.141";

/** Intake routes of the payloads the serializer builds. */
export const ROUTES = {
  seriesV2: "/api/v2/series",
  seriesV1: "/api/v1/series",
  sketches: "/api/beta/sketches",
  serviceChecks: "/api/v1/check_run",
  intake: "/intake/",
  orchestratorMetadata: "/api/v2/orch",
  orchestratorManifest: "/api/v2/orchmanif",
} as const;

/** Largest metadata body; metadata cannot be split (spec §3.3). */
export const MAX_METADATA_SIZE = 1024 * 1024;

/** The serializer's resolved settings. */
export interface SerializerSettings {
  /** Series go to `/api/v2/series` (protobuf) rather than `/api/v1/series` (JSON). @default true */
  useV2Series: boolean;
  /** `enable_payloads.*`. @default all true */
  enable: {
    series: boolean;
    events: boolean;
    serviceChecks: boolean;
    sketches: boolean;
    jsonToV1Intake: boolean;
  };
  /** @default "zstd" */
  compressor: CompressorKind;
  /** @default 1 */
  zstdLevel: number;
  /** Limits of v2 series payloads. @default 512,000 B compressed, 5,242,880 B, 10,000 points */
  seriesLimits: Required<PayloadLimits>;
  /** Limits of every other split payload. @default 2,621,440 B compressed, 4,194,304 B */
  limits: PayloadLimits;
}

/** Reads the serializer's keys out of the config. */
export function serializerSettings(config: Config): SerializerSettings {
  const e = config.enable_payloads;
  return {
    useV2Series: config.use_v2_api.series,
    enable: {
      series: e.series,
      events: e.events,
      serviceChecks: e.service_checks,
      sketches: e.sketches,
      jsonToV1Intake: e.json_to_v1_intake,
    },
    compressor: config.serializer_compressor_kind,
    zstdLevel: config.serializer_zstd_compressor_level,
    seriesLimits: {
      maxCompressed: config.serializer_max_series_payload_size,
      maxUncompressed: config.serializer_max_series_uncompressed_payload_size,
      maxPoints: config.serializer_max_series_points_per_payload,
    },
    limits: {
      maxCompressed: config.serializer_max_payload_size,
      maxUncompressed: config.serializer_max_uncompressed_payload_size,
    },
  };
}

/** What {@linkcode Serializer} needs besides its settings. */
export interface SerializerOptions {
  runtime: Runtime;
  registry: Registry;
  /** Where payloads go: the forwarder's enqueue. */
  send: SendPayloads;
  /** The agent's host name (`internalHostname` of events). */
  hostname: string;
  /** Unix seconds, for events and checks without a timestamp. @default the system clock */
  now?: () => number;
}

/** Options of {@linkcode Serializer.jsonPayload}. */
export interface JsonPayloadOptions {
  /** @default "metadata" */
  kind?: PayloadKind;
  /** False when the body carries the API key. @default true */
  storable?: boolean;
  /** @default "normal" */
  priority?: "normal" | "high";
}

/** A JSON payload, or why there is none. */
export type JsonPayloadResult =
  | { ok: true; payload: EncodedPayload }
  | { ok: false; reason: "disabled" | "too_big" };

/** A JSON payload handed to the forwarder with its ack handle, or why there is none. */
export type JsonSendResult =
  | { ok: true; payload: EncodedPayload; delivery: Delivery }
  | { ok: false; reason: "disabled" | "too_big" };

const te = new TextEncoder();
const bytes = (s: string) => te.encode(s);
const JSON_TYPE = "application/json";
const PROTOBUF_TYPE = "application/x-protobuf";

/**
 * Builds intake payloads and hands them to `send`. As a {@linkcode MetricsSink} it is where
 * the aggregator flushes; the `*Payloads` methods build without sending.
 *
 * Counters (telemetry registry): `serializer.payloads` and `serializer.payload_bytes` by
 * kind, `serializer.items_too_big` by kind for every item dropped because no payload
 * could hold it, and `serializer.points_invalid` by kind for every point (series, sketches)
 * or item (service checks, events) dropped because a number in it is NaN, infinite or out of
 * its wire range: nothing non-finite is ever encoded.
 *
 * @example Series to v2 payloads
 * ```ts
 * import { Serializer, serializerSettings } from "./mod.ts";
 * import { configSchema } from "../config/mod.ts";
 * import { Registry } from "../telemetry/mod.ts";
 * import { runtime } from "../runtime/mod.ts";
 * import * as v from "valibot";
 * const sent: unknown[] = [];
 * const delivered = { done: Promise.resolve({ status: "delivered", reason: "delivered" } as const) };
 * const s = new Serializer(serializerSettings(v.parse(configSchema, {})), {
 *   runtime, registry: new Registry(), hostname: "h",
 *   send: (p) => p.map((payload) => (sent.push(payload), delivered)),
 * });
 * await s.series([{ name: "m", points: [[1700000000, 1]], tags: [], host: "h", type: "gauge",
 *   interval: 10, sourceTypeName: "" }]);
 * console.log(sent.length); // 1
 * ```
 */
export class Serializer implements MetricsSink {
  readonly #settings: SerializerSettings;
  readonly #compressor: Compressor;
  readonly #send: SendPayloads;
  readonly #hostname: string;
  readonly #now: () => number;
  readonly #writer = new ProtoWriter();
  readonly #tooBig: CounterVec;
  readonly #invalid: CounterVec;
  readonly #payloads: CounterVec;
  readonly #bytes: CounterVec;
  readonly #protoHeaders: Record<string, string>;
  readonly #jsonHeaders: Record<string, string>;

  constructor(settings: SerializerSettings, options: SerializerOptions) {
    this.#settings = settings;
    this.#compressor = createCompressor(settings.compressor, {
      runtime: options.runtime,
      zstdLevel: settings.zstdLevel,
    });
    this.#send = options.send;
    this.#hostname = options.hostname;
    this.#now = options.now ?? (() => Math.floor(Date.now() / 1000));
    const events = serializerEvents(options.registry);
    this.#tooBig = events.itemsTooBig;
    this.#invalid = events.pointsInvalid;
    this.#payloads = events.payloads;
    this.#bytes = events.payloadBytes;
    const encoding: Record<string, string> = this.#compressor.encoding
      ? { "Content-Encoding": this.#compressor.encoding }
      : {};
    this.#protoHeaders = {
      "Content-Type": PROTOBUF_TYPE,
      "DD-Agent-Payload": AGENT_PAYLOAD_VERSION,
      ...encoding,
    };
    this.#jsonHeaders = { "Content-Type": JSON_TYPE, ...encoding };
  }

  /** Sends the series payloads of one flush. */
  async series(series: Serie[]): Promise<void> {
    this.#deliver(this.seriesPayloads(series));
  }

  /** Sends the sketch payloads of one flush. */
  async sketches(sketches: SketchSeries[]): Promise<void> {
    this.#deliver(this.sketchPayloads(sketches));
  }

  /** Sends the service check payloads of one flush. */
  async serviceChecks(checks: ServiceCheck[]): Promise<void> {
    this.#deliver(this.serviceCheckPayloads(checks));
  }

  /** Sends the event payloads of one flush. */
  async events(events: Event[]): Promise<void> {
    this.#deliver(this.eventPayloads(events));
  }

  /** Sends orchestrator payloads. */
  async orchestrator(payloads: OrchestratorPayload[]): Promise<void> {
    this.#deliver(this.orchestratorPayloads(payloads));
  }

  /**
   * Builds and sends one JSON payload that cannot be split (host metadata, metadata); its
   * delivery settles when the intake accepted it, or it was stored or given up.
   */
  sendJson(route: string, value: unknown, options: JsonPayloadOptions = {}): JsonSendResult {
    const result = this.jsonPayload(route, value, options);
    if (!result.ok) return result;
    const [delivery] = this.#send([result.payload]);
    return { ...result, delivery };
  }

  /** Series as v2 protobuf or, with `use_v2_api.series: false`, v1 JSON payloads. */
  seriesPayloads(all: readonly Serie[]): EncodedPayload[] {
    if (!this.#settings.enable.series || all.length === 0) return [];
    const series = this.#sendable("series", all, invalidPoints, validPoint);
    if (!this.#settings.useV2Series) {
      return this.#json(
        "series",
        ROUTES.seriesV1,
        series.map((s) => ({ json: JSON.stringify(serieV1(s)), points: s.points.length })),
        { header: bytes(`{"series":[`), footer: bytes("]}"), separator: bytes(",") },
      );
    }
    const builder = new PayloadBuilder(this.#compressor, this.#settings.seriesLimits);
    for (const s of series) {
      if (builder.add(encodeSerieV2(this.#writer, s), s.points.length) === "too_big") {
        this.#tooBig.with("series").inc();
      }
    }
    return this.#payloadsOf(builder, "series", ROUTES.seriesV2, this.#protoHeaders);
  }

  /** Sketch series as `SketchPayload` payloads. */
  sketchPayloads(all: readonly SketchSeries[]): EncodedPayload[] {
    if (!this.#settings.enable.sketches || all.length === 0) return [];
    const sketches = this.#sendable("sketches", all, invalidSketchPoints, validSketchPoint);
    const framing: Framing = {
      header: new Uint8Array(0),
      footer: SKETCH_FOOTER,
      separator: new Uint8Array(0),
    };
    const builder = new PayloadBuilder(this.#compressor, this.#settings.limits, framing);
    for (const s of sketches) {
      if (builder.add(encodeSketch(this.#writer, s), s.points.length) === "too_big") {
        this.#tooBig.with("sketches").inc();
      }
    }
    return this.#payloadsOf(builder, "sketches", ROUTES.sketches, this.#protoHeaders);
  }

  /** Service checks as `/api/v1/check_run` JSON arrays. */
  serviceCheckPayloads(all: readonly ServiceCheck[]): EncodedPayload[] {
    if (!this.#settings.enable.serviceChecks || all.length === 0) return [];
    const checks = this.#validItems("service_checks", all);
    const now = this.#now();
    return this.#json(
      "service_checks",
      ROUTES.serviceChecks,
      checks.map((c) => ({ json: JSON.stringify(serviceCheckJson(c, now)), points: 1 })),
      { header: bytes("["), footer: bytes("]"), separator: bytes(",") },
    );
  }

  /**
   * Events as `/intake/` payloads grouped by source type. A source type whose events do not
   * fit one payload is sent in payloads of its own, split per event.
   */
  eventPayloads(all: readonly Event[]): EncodedPayload[] {
    if (!this.#settings.enable.events || all.length === 0) return [];
    const events = this.#validItems("events", all);
    const now = this.#now();
    const tail = bytes(`},"internalHostname":${JSON.stringify(this.#hostname)}}`);
    const builder = new PayloadBuilder(this.#compressor, this.#settings.limits, {
      header: bytes(`{"apiKey":"","events":{`),
      footer: tail,
      separator: bytes(","),
    });
    const out: EncodedPayload[] = [];
    for (const [source, group] of groupEvents(events)) {
      const items = group.map((e) => JSON.stringify(eventJson(e, now)));
      const grouped = bytes(`${JSON.stringify(source)}:[${items.join(",")}]`);
      if (builder.add(grouped, group.length) === "added") continue;
      out.push(...this.#json("events", ROUTES.intake, items.map((json) => ({ json, points: 1 })), {
        header: bytes(`{"apiKey":"","events":{${JSON.stringify(source)}:[`),
        footer: bytes(`]},"internalHostname":${JSON.stringify(this.#hostname)}}`),
        separator: bytes(","),
      }));
    }
    // Each builder item is a group of events: count events, not groups.
    const grouped = this.#payloadsOf(builder, "events", ROUTES.intake, this.#jsonHeaders)
      .map((p) => ({ ...p, items: p.points }));
    return [...grouped, ...out];
  }

  /** Orchestrator metadata and manifests, bodies passed through as given. */
  orchestratorPayloads(payloads: readonly OrchestratorPayload[]): EncodedPayload[] {
    const timestamp = String(this.#now());
    return payloads.map((p) => {
      const kind: PayloadKind = p.kind === "manifest"
        ? "orchestrator_manifest"
        : "orchestrator_metadata";
      this.#count(kind, p.body.length);
      return {
        route: p.kind === "manifest" ? ROUTES.orchestratorManifest : ROUTES.orchestratorMetadata,
        body: p.body,
        headers: {
          "Content-Type": PROTOBUF_TYPE,
          "X-Dd-Hostname": this.#hostname,
          "X-DD-Agent-Timestamp": timestamp,
        },
        kind,
        items: 1,
        points: 1,
        storable: true,
        priority: "normal",
      };
    });
  }

  /**
   * One JSON payload that cannot be split, gated by `enable_payloads.json_to_v1_intake`;
   * bigger than {@linkcode MAX_METADATA_SIZE} or the compressed limit is `too_big`.
   */
  jsonPayload(route: string, value: unknown, options: JsonPayloadOptions = {}): JsonPayloadResult {
    const { kind = "metadata", storable = true, priority = "normal" } = options;
    if (!this.#settings.enable.jsonToV1Intake) return { ok: false, reason: "disabled" };
    const raw = bytes(JSON.stringify(value));
    const body = raw.length <= MAX_METADATA_SIZE ? this.#compressor.compress(raw) : undefined;
    if (body === undefined || body.length > this.#settings.limits.maxCompressed) {
      this.#tooBig.with(kind).inc();
      return { ok: false, reason: "too_big" };
    }
    this.#count(kind, body.length);
    return {
      ok: true,
      payload: {
        route,
        body,
        headers: { ...this.#jsonHeaders },
        kind,
        items: 1,
        points: 1,
        storable,
        priority,
      },
    };
  }

  /**
   * `items` without the points that cannot be encoded (an item left with none is dropped),
   * each counted. Returns `items` itself, uncopied, when every point is good.
   */
  #sendable<P, T extends { points: P[] }>(
    kind: PayloadKind,
    items: readonly T[],
    invalid: (item: T) => number,
    valid: (point: P) => boolean,
  ): readonly T[] {
    let out: T[] | undefined;
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      const bad = invalid(item);
      if (bad === 0) {
        out?.push(item);
        continue;
      }
      out ??= items.slice(0, i);
      this.#invalid.with(kind).inc(bad);
      if (bad < item.points.length) out.push({ ...item, points: item.points.filter(valid) });
    }
    return out ?? items;
  }

  /** `items` without those {@linkcode validItem} refuses, each counted. */
  #validItems<T extends Event | ServiceCheck>(
    kind: PayloadKind,
    items: readonly T[],
  ): readonly T[] {
    if (items.every(validItem)) return items;
    const ok = items.filter(validItem);
    this.#invalid.with(kind).inc(items.length - ok.length);
    return ok;
  }

  #json(
    kind: PayloadKind,
    route: string,
    items: Array<{ json: string; points: number }>,
    framing: Framing,
  ): EncodedPayload[] {
    const builder = new PayloadBuilder(this.#compressor, this.#settings.limits, framing);
    for (const { json, points } of items) {
      if (builder.add(bytes(json), points) === "too_big") this.#tooBig.with(kind).inc();
    }
    return this.#payloadsOf(builder, kind, route, this.#jsonHeaders);
  }

  #payloadsOf(
    builder: PayloadBuilder,
    kind: PayloadKind,
    route: string,
    headers: Record<string, string>,
  ): EncodedPayload[] {
    const built: BuiltBody[] = builder.finish();
    if (builder.droppedAtClose > 0) this.#tooBig.with(kind).inc(builder.droppedAtClose);
    return built.map(({ body, items, points }) => {
      this.#count(kind, body.length);
      return {
        route,
        body,
        headers: { ...headers },
        kind,
        items,
        points,
        storable: true,
        priority: "normal",
      };
    });
  }

  #count(kind: PayloadKind, size: number): void {
    this.#payloads.with(kind).inc();
    this.#bytes.with(kind).inc(size);
  }

  /** A flush does not wait for deliveries: the forwarder owns them from here and counts each. */
  #deliver(payloads: EncodedPayload[]): void {
    if (payloads.length > 0) this.#send(payloads);
  }
}
