/**
 * The trace receiver: the HTTP routes every Datadog tracer sends to (traces, stats, `/info`,
 * DogStatsD over HTTP) with the Agent's limits and answers, as a hono app. What it decodes is
 * handed to a {@linkcode ReceiverSink}; the proxied products are mounted from `_proxy.ts`.
 */
import { type Context, Hono } from "hono";
import type { Datagram } from "../runtime/types.ts";
import type { ApmCounters } from "../telemetry/mod.ts";
import { BUILD } from "../version.ts";
import type { ClientStatsPayload, Span, TraceChunk, TracerPayload } from "./_span.ts";
import { emptyTracerPayload, PRIORITY_NONE } from "./_span.ts";
import { TraceDecodeError } from "./_msgpack.ts";
import {
  decodeClientStats,
  decodeTracerPayloadV07,
  decodeTracesV04,
  decodeTracesV05,
} from "./_decode.ts";
import { decodeTracesJson } from "./_decode_json.ts";
import type { InfoDocument } from "./_info.ts";
import type { TraceSettings } from "./_settings.ts";
import { type BodyRead, readBody } from "./_receiver_body.ts";
import { Slots } from "./_receiver_slots.ts";

/** What the tracer said about its payload in headers (the processing core's hints). */
export interface ReceivedHints {
  computedTopLevel: boolean;
  computedStats: boolean;
  droppedP0Traces: number;
  droppedP0Spans: number;
}

/** Where the receiver hands what it decoded. */
export interface ReceiverSink {
  /** One request's traces; the sink processes and buffers them. */
  traces(payload: TracerPayload, hints: ReceivedHints): void;
  /** Client-computed stats from `/v0.6/stats`. */
  clientStats(payload: ClientStatsPayload): void;
  /** The body of a v0.4+ answer: `rate_by_service`. */
  rateByService(): Record<string, number>;
}

/** Where `/dogstatsd/v1|v2/proxy` lines go: DogStatsD's own batch path, or null when it is off. */
export interface DogstatsdFeed {
  handleBatch(batch: Datagram[], transport: "udp" | "uds"): void;
}

/** Options of {@linkcode createReceiverApp}. */
export interface ReceiverOptions {
  settings: TraceSettings;
  info: InfoDocument;
  sink: ReceiverSink;
  counters: ApmCounters;
  dogstatsd: DogstatsdFeed | null;
}

/** The trace formats, by how their body is decoded. */
type Format = "v03" | "v04" | "v05" | "v07" | "legacy-traces" | "legacy-spans";

/** The Agent's cap on lines of one `/dogstatsd/v1|v2/proxy` request. */
export const DOGSTATSD_PROXY_MAX_LINES = 100_000;
/** Longest line of a `/dogstatsd/v1|v2/proxy` body (Go's `bufio.Scanner` token limit). */
export const DOGSTATSD_PROXY_MAX_LINE = 64 * 1024;
// Lines are handed to DogStatsD in batches of this many, so one request is parsed as it is read
// without one call per line.
const DOGSTATSD_BATCH = 512;

const FALSE_LIKE = new Set(["", "0", "f", "false", "no", "n", "off"]);

/** A boolean header as the Agent reads one: true when set and not false-like. */
function flag(c: Context, name: string): boolean {
  const v = c.req.header(name);
  return v !== undefined && !FALSE_LIKE.has(v.trim().toLowerCase());
}

function intHeader(c: Context, name: string): number {
  const n = Number(c.req.header(name) ?? 0);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

function mediaType(c: Context): string {
  return (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
}

/** The chunk of one trace: priority and origin as the tracer set them on its spans. */
export function chunkOf(spans: Span[]): TraceChunk {
  let priority = PRIORITY_NONE;
  let origin = "";
  for (const s of spans) {
    const p = s.metrics["_sampling_priority_v1"];
    if (p !== undefined && priority === PRIORITY_NONE) priority = Math.trunc(p);
    const o = s.meta["_dd.origin"];
    if (o !== undefined && origin === "") origin = o;
  }
  return { priority, origin, spans, tags: {}, droppedTrace: false };
}

/** Groups the flat span list of the legacy `/spans` routes into traces by trace id. */
function tracesOfSpans(spans: Span[]): Span[][] {
  const byTrace = new Map<bigint, Span[]>();
  for (const s of spans) {
    const t = byTrace.get(s.traceId);
    if (t) t.push(s);
    else byTrace.set(s.traceId, [s]);
  }
  return [...byTrace.values()];
}

/**
 * Builds the receiver app. Every answer carries `Datadog-Agent-Version` and
 * `Datadog-Agent-State`; a browser's cross-site request gets 403.
 *
 * @example `/info` and a v0.4 answer
 * ```ts
 * import * as v from "valibot";
 * import { configSchema } from "../config/mod.ts";
 * import { Registry, apmEvents } from "../telemetry/mod.ts";
 * import { traceSettings } from "./_settings.ts";
 * import { infoDocument } from "./_info.ts";
 * import { createReceiverApp } from "./_receiver.ts";
 * const settings = traceSettings(v.parse(configSchema, { api_key: "k" }));
 * const app = createReceiverApp({
 *   settings, info: infoDocument(settings), dogstatsd: null,
 *   counters: apmEvents(new Registry(), { receiver: () => ({}) }),
 *   sink: { traces() {}, clientStats() {}, rateByService: () => ({ "service:,env:": 1 }) },
 * });
 * const res = await app.request("/v0.4/traces", {
 *   method: "POST", headers: { "content-type": "application/json" }, body: "[]",
 * });
 * console.log(await res.json()); // { rate_by_service: { "service:,env:": 1 } }
 * ```
 */
export function createReceiverApp(options: ReceiverOptions): Hono {
  const { settings, info, sink, counters, dogstatsd } = options;
  const slots = new Slots(settings.decoders);
  const app = new Hono();

  app.use("*", async (c, next) => {
    c.header("Datadog-Agent-Version", BUILD.agentVersion);
    c.header("Datadog-Agent-State", info.state);
    if (c.req.header("sec-fetch-site") === "cross-site") {
      counters.requestErrors.with(`${endpointOf(c.req.path)} cross-site`).inc();
      return c.text("cross-site requests are not allowed", 403);
    }
    counters.requests.with(endpointOf(c.req.path)).inc();
    await next();
  });

  app.get("/info", (c) => c.body(info.body, 200, { "content-type": "application/json" }));

  /** Counts a refused request and the traces its header said it carried. */
  function refuse(c: Context, endpoint: string, reason: string, status: number, message: string) {
    counters.requestErrors.with(`${endpoint} ${reason}`).inc();
    const traces = intHeader(c, "x-datadog-trace-count");
    if (traces > 0) counters.tracesDropped.with(reason).inc(traces);
    return c.text(message, status as 400);
  }

  function bodyFailed(c: Context, endpoint: string, r: Exclude<BodyRead, { ok: true }>) {
    const status = r.reason === "payload-too-large" ? 413 : r.reason === "timeout" ? 408 : 400;
    return refuse(c, endpoint, r.reason, status, r.message);
  }

  /** Reads the body inside a decoder slot, or answers as the Agent does when none frees. */
  async function withSlot(
    c: Context,
    endpoint: string,
    busyAnswer: () => Response,
    work: (body: Uint8Array) => Response,
  ): Promise<Response> {
    if (Number(c.req.header("content-length") ?? NaN) > settings.maxRequestBytes) {
      return refuse(c, endpoint, "payload-too-large", 413, "payload-too-large");
    }
    if (!(await slots.acquire(settings.decoderTimeoutMs))) {
      // Drained so the client's connection stays usable, then refused: 200 by default so
      // old tracers do not retry, 429 for those that ask for the real status.
      await readBody(c.req.raw, {
        maxBytes: settings.maxRequestBytes,
        timeoutMs: settings.receiverTimeoutMs,
      });
      counters.requestErrors.with(`${endpoint} decoder-busy`).inc();
      const traces = intHeader(c, "x-datadog-trace-count");
      if (traces > 0) counters.tracesDropped.with("decoder-busy").inc(traces);
      const res = busyAnswer();
      if (!flag(c, "datadog-send-real-http-status")) return res;
      return new Response(res.body, { status: 429, headers: res.headers });
    }
    try {
      const r = await readBody(c.req.raw, {
        maxBytes: settings.maxRequestBytes,
        timeoutMs: settings.receiverTimeoutMs,
      });
      if (!r.ok) return bodyFailed(c, endpoint, r);
      return work(r.bytes);
    } finally {
      slots.release();
    }
  }

  const ratesAnswer = (c: Context) => () => c.json({ rate_by_service: sink.rateByService() });
  const okAnswer = (c: Context) => () => c.text("OK");

  function decode(format: Format, c: Context, body: Uint8Array): TracerPayload {
    const media = mediaType(c);
    if (format === "v07") return decodeTracerPayloadV07(body);
    const payload = emptyTracerPayload();
    let traces: Span[][];
    if (format === "v05") traces = decodeTracesV05(body);
    else if (format === "legacy-spans") {
      // A flat list of spans: read as one trace, then split by trace id.
      traces = tracesOfSpans(decodeTracesJson(`[${utf8.decode(body)}]`).flat());
    } else if (format === "legacy-traces") traces = decodeJson(body);
    else if (media === "application/msgpack") traces = decodeTracesV04(body);
    else if (media === "application/json" || media === "text/json" || media === "") {
      traces = decodeJson(body);
    } else {
      // The Agent's "do our best" for other media types: JSON, then msgpack.
      try {
        traces = decodeJson(body);
      } catch {
        traces = decodeTracesV04(body);
      }
    }
    payload.chunks = traces.filter((t) => t.length > 0).map(chunkOf);
    return payload;
  }

  const utf8 = new TextDecoder();
  const decodeJson = (body: Uint8Array) => decodeTracesJson(utf8.decode(body));

  function tracesRoute(path: string, format: Format) {
    app.on(["POST", "PUT"], path, async (c) => {
      const legacy = format.startsWith("legacy");
      if (legacy && mediaType(c) === "application/msgpack") {
        return refuse(c, path, "unsupported-media-type", 415, "unsupported media type");
      }
      const answer = format === "v03" || legacy ? okAnswer(c) : ratesAnswer(c);
      return await withSlot(c, path, answer, (body) => {
        let payload: TracerPayload;
        try {
          payload = decode(format, c, body);
        } catch (e) {
          if (!(e instanceof TraceDecodeError)) throw e;
          return refuse(c, path, e.reason, 400, e.message);
        }
        // What the tracer said in headers fills what a v0.7 payload did not carry itself.
        payload.languageName ||= c.req.header("datadog-meta-lang") ?? "";
        payload.languageVersion ||= c.req.header("datadog-meta-lang-version") ?? "";
        payload.tracerVersion ||= c.req.header("datadog-meta-tracer-version") ?? "";
        payload.containerID ||= c.req.header("datadog-container-id") ?? "";
        count(payload, body.length);
        sink.traces(payload, {
          computedTopLevel: flag(c, "datadog-client-computed-top-level"),
          computedStats: flag(c, "datadog-client-computed-stats"),
          droppedP0Traces: intHeader(c, "datadog-client-dropped-p0-traces"),
          droppedP0Spans: intHeader(c, "datadog-client-dropped-p0-spans"),
        });
        return answer();
      });
    });
  }

  // Services are bounded: past this many distinct ones, spans count under "other".
  const MAX_SERVICES = 256;
  const services = new Set<string>();
  function count(payload: TracerPayload, bytes: number): void {
    const lang = payload.languageName || "unknown";
    let spans = 0;
    for (const chunk of payload.chunks) {
      spans += chunk.spans.length;
      for (const s of chunk.spans) {
        let svc = s.service || "unnamed";
        if (!services.has(svc)) {
          if (services.size < MAX_SERVICES) services.add(svc);
          else svc = "other";
        }
        counters.spansByService.with(svc).inc();
      }
    }
    counters.tracesReceived.with(lang).inc(payload.chunks.length);
    counters.spansReceived.with(lang).inc(spans);
    counters.bytesReceived.with(lang).inc(bytes);
  }

  tracesRoute("/v0.3/traces", "v03");
  tracesRoute("/v0.4/traces", "v04");
  tracesRoute("/v0.5/traces", "v05");
  tracesRoute("/v0.7/traces", "v07");
  // Hidden legacy routes: JSON only, not listed in /info.
  for (const p of ["/spans", "/v0.1/spans", "/v0.2/spans"]) tracesRoute(p, "legacy-spans");
  for (const p of ["/v0.1/traces", "/v0.2/traces"]) tracesRoute(p, "legacy-traces");

  // Service metadata: accepted and dropped, as the Agent does.
  for (
    const p of ["/services", "/v0.1/services", "/v0.2/services", "/v0.3/services", "/v0.4/services"]
  ) {
    app.on(["POST", "PUT"], p, (c) => withSlot(c, p, okAnswer(c), () => c.text("OK")));
  }

  app.on(
    ["POST", "PUT"],
    "/v0.6/stats",
    (c) =>
      withSlot(c, "/v0.6/stats", () => c.body(null, 200), (body) => {
        let stats: ClientStatsPayload;
        try {
          stats = decodeClientStats(body);
        } catch (e) {
          if (!(e instanceof TraceDecodeError)) throw e;
          return refuse(c, "/v0.6/stats", e.reason, 400, e.message);
        }
        counters.bytesReceived.with(c.req.header("datadog-meta-lang") || stats.lang || "unknown")
          .inc(body.length);
        counters.clientStatsPayloads.inc();
        sink.clientStats(stats);
        return c.body(null, 200);
      }),
  );

  app.post("/dogstatsd/:v{v[12]}/proxy", async (c) => {
    const endpoint = `/dogstatsd/${c.req.param("v")}/proxy`;
    if (!dogstatsd) {
      return refuse(c, endpoint, "dogstatsd-disabled", 503, "503 Status Unavailable");
    }
    return await relayLines(c, endpoint, dogstatsd);
  });

  /** Feeds the body's lines to DogStatsD as they are read, as the Agent relays them. */
  async function relayLines(c: Context, endpoint: string, feed: DogstatsdFeed) {
    const declared = Number(c.req.header("content-length") ?? NaN);
    if (declared > settings.maxRequestBytes) {
      return refuse(c, endpoint, "payload-too-large", 500, "http: request body too large");
    }
    const reader = c.req.raw.body?.getReader();
    let batch: Datagram[] = [];
    let lines = 0;
    let size = 0;
    let pending: Uint8Array = new Uint8Array(0);
    const flush = () => {
      if (batch.length === 0) return;
      feed.handleBatch(batch, "udp");
      counters.dogstatsdLines.inc(batch.length);
      batch = [];
    };
    /**
     * Takes one line (with its newline, so `dogstatsd_eol_required` holds); false once the
     * line cap is reached. Empty lines count towards the cap but are not fed.
     */
    const take = (line: Uint8Array, empty: boolean): boolean => {
      if (++lines > DOGSTATSD_PROXY_MAX_LINES) return false;
      if (!empty) batch.push({ data: line, from: "http" });
      if (batch.length >= DOGSTATSD_BATCH) flush();
      return true;
    };
    const deadline = Date.now() + settings.receiverTimeoutMs;
    try {
      while (reader) {
        const left = deadline - Date.now();
        let timer: ReturnType<typeof setTimeout> | undefined;
        const next = await Promise.race([
          reader.read(),
          new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), left))),
        ]);
        clearTimeout(timer);
        if (next === "timeout") {
          flush();
          return refuse(c, endpoint, "timeout", 408, "the request body did not arrive in time");
        }
        if (next.done) break;
        size += next.value.length;
        if (size > settings.maxRequestBytes) {
          flush();
          return refuse(c, endpoint, "payload-too-large", 500, "http: request body too large");
        }
        const data = pending.length ? join(pending, next.value) : next.value;
        let start = 0;
        for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10, start)) {
          const end = nl > start && data[nl - 1] === 13 ? nl - 1 : nl;
          if (!take(data.subarray(start, nl + 1), end === start)) {
            return tooManyLines(c, endpoint, flush);
          }
          start = nl + 1;
        }
        pending = data.subarray(start);
        if (pending.length > DOGSTATSD_PROXY_MAX_LINE) {
          flush();
          return refuse(c, endpoint, "line-too-long", 500, "bufio.Scanner: token too long");
        }
      }
      if (pending.length > 0 && !take(pending, false)) return tooManyLines(c, endpoint, flush);
      flush();
      return c.body(null, 200);
    } finally {
      reader?.cancel().catch(() => {});
    }
  }

  function tooManyLines(c: Context, endpoint: string, flush: () => void) {
    flush();
    return refuse(c, endpoint, "too-many-lines", 413, "too many dogstatsd payloads in request");
  }

  return app;
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

const KNOWN_ENDPOINTS = new Set([
  "/info",
  "/v0.3/traces",
  "/v0.4/traces",
  "/v0.5/traces",
  "/v0.7/traces",
  "/v0.3/services",
  "/v0.4/services",
  "/v0.6/stats",
  "/v0.1/pipeline_stats",
  "/profiling/v1/input",
  "/dogstatsd/v1/proxy",
  "/dogstatsd/v2/proxy",
  "/debugger/v1/input",
  "/debugger/v1/diagnostics",
  "/debugger/v2/input",
  "/symdb/v1/input",
]);

/** The telemetry label of a path: a known endpoint, a proxy family, or `other` (bounded). */
export function endpointOf(path: string): string {
  if (KNOWN_ENDPOINTS.has(path)) return path;
  const evp = /^\/evp_proxy\/v[1-4]\//.exec(path);
  if (evp) return evp[0];
  if (path.startsWith("/telemetry/proxy/")) return "/telemetry/proxy/";
  return "other";
}
