/**
 * The trace writer: buffers kept tracer payloads into one `AgentPayload`, flushes it when the
 * next payload would pass the intake's size or on a tick, and hands the compressed protobuf
 * to the forwarder's `traces` pipeline, which retries it and stores it on disk in an outage.
 */
import type { Delivery, Payload } from "../forwarder/mod.ts";
import type { ApmCounters } from "../telemetry/mod.ts";
import { gzip } from "../serializer/mod.ts";
import { BUILD } from "../version.ts";
import { encodeAgentPayload } from "./_proto.ts";
import type { Span, TracerPayload } from "./_span.ts";

/**
 * gzip at BestSpeed (level 1), as the Agent's trace and stats writers compress: about 5x
 * faster than the default level on AgentPayloads (scripts/bench/traces.ts), for a few % more bytes.
 */
export function gzipFast(data: Uint8Array): Uint8Array {
  return gzip(data, 1);
}

/** The Agent's writer flushes before its buffer would pass this many bytes. */
export const MAX_PAYLOAD_BYTES = 3_200_000;

/** Options of {@linkcode TraceWriter}. */
export interface TraceWriterOptions {
  counters: ApmCounters;
  /** The forwarder's `submit`. */
  submit: (payload: Payload) => Delivery;
  hostname: string;
  env: string;
  targetTPS: number;
  errorTPS: number;
  /** @default MAX_PAYLOAD_BYTES */
  maxPayloadBytes?: number;
}

/** A span's protobuf size, roughly: its strings and a fixed cost for the numbers and tags. */
function spanSize(s: Span): number {
  let n = 64 + s.service.length + s.name.length + s.resource.length + s.type.length;
  for (const k in s.meta) n += k.length + s.meta[k].length + 6;
  for (const k in s.metrics) n += k.length + 13;
  for (const k in s.metaStruct) n += k.length + s.metaStruct[k].length + 6;
  n += s.spanLinks.length * 48 + s.spanEvents.length * 48;
  return n;
}

/** A tracer payload's protobuf size, roughly (see {@linkcode spanSize}). */
export function payloadSize(p: TracerPayload): number {
  let n = 64 + p.containerID.length + p.languageName.length + p.languageVersion.length +
    p.tracerVersion.length + p.runtimeID.length + p.env.length + p.hostname.length +
    p.appVersion.length;
  for (const c of p.chunks) {
    n += 16 + c.origin.length;
    for (const s of c.spans) n += spanSize(s);
  }
  return n;
}

/**
 * Buffers and sends trace payloads.
 *
 * @example Buffer nothing, flush nothing
 * ```ts ignore
 * const writer = new TraceWriter({ counters, submit: forwarder.submit, hostname: "h",
 *   env: "none", targetTPS: 10, errorTPS: 10 });
 * writer.add(tracerPayload);
 * await writer.flush(); // handed to the forwarder, and delivered or stored
 * ```
 */
export class TraceWriter {
  readonly #o: TraceWriterOptions;
  readonly #max: number;
  #buffer: TracerPayload[] = [];
  #bufferBytes = 0;
  #bufferSpans = 0;
  readonly #pending = new Set<Promise<unknown>>();

  constructor(options: TraceWriterOptions) {
    this.#o = options;
    this.#max = options.maxPayloadBytes ?? MAX_PAYLOAD_BYTES;
  }

  /** Buffers one kept payload, sending the buffer first when this one would overflow it. */
  add(payload: TracerPayload): void {
    if (payload.chunks.length === 0) return;
    const size = payloadSize(payload);
    if (this.#bufferBytes > 0 && this.#bufferBytes + size > this.#max) this.#send();
    this.#buffer.push(payload);
    this.#bufferBytes += size;
    for (const c of payload.chunks) this.#bufferSpans += c.spans.length;
  }

  /** Spans buffered and not yet handed to the forwarder. */
  get bufferedSpans(): number {
    return this.#bufferSpans;
  }

  /** Sends what is buffered; resolves once everything handed over is delivered or stored. */
  async flush(): Promise<void> {
    this.#send();
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  /** Hands what is buffered to the forwarder now, without waiting. */
  tick(): void {
    this.#send();
  }

  #send(): void {
    if (this.#buffer.length === 0) return;
    const tracerPayloads = this.#buffer;
    const spans = this.#bufferSpans;
    this.#buffer = [];
    this.#bufferBytes = 0;
    this.#bufferSpans = 0;
    const { hostname, env, targetTPS, errorTPS, counters } = this.#o;
    const raw = encodeAgentPayload({
      hostName: hostname,
      env,
      tracerPayloads,
      tags: {},
      agentVersion: BUILD.agentVersion,
      targetTPS,
      errorTPS,
      rareSamplerEnabled: false,
    });
    const body = gzipFast(raw);
    const languages = [...new Set(tracerPayloads.map((p) => p.languageName).filter(Boolean))];
    const delivery = this.#o.submit({
      route: "/api/v0.2/traces",
      body,
      headers: {
        "Content-Type": "application/x-protobuf",
        "Content-Encoding": "gzip",
        "X-Datadog-Reported-Languages": languages.join("|"),
      },
      storable: true,
      pipeline: "traces",
      kind: "traces",
    });
    counters.writerPayloads.with("submitted").inc();
    counters.writerSpans.inc(spans);
    counters.writerBytes.inc(body.length);
    const settled = delivery.done.then(({ status }) => {
      counters.writerPayloads.with(outcome(status)).inc();
    }).finally(() => this.#pending.delete(settled));
    this.#pending.add(settled);
  }
}

/** The writer's outcome label of a delivery status. */
export function outcome(status: string): "delivered" | "stored" | "dropped" {
  return status === "delivered" ? "delivered" : status === "stored" ? "stored" : "dropped";
}
