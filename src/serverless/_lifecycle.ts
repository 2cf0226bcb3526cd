/**
 * The invocation lifecycle the tracers without a Datadog Lambda library drive (dd-trace-go,
 * Java, .NET, Ruby): `start-invocation` hands over the event, `end-invocation` the response
 * and the tracer's ids and error; between them the extension keeps the invocation, and at
 * the end it writes the `aws.lambda` span through the trace component, as a tracer's span.
 *
 * datadog-lambda-js and -python make their own `aws.lambda` span and never call these routes;
 * like the Go agent, no span is made once a library announced itself on `/lambda/hello`.
 */
import type { Log } from "../log/mod.ts";
import {
  DEFAULT_RATE_KEY,
  emptySpan,
  emptyTracerPayload,
  PRIORITY_NONE,
  type Span,
  type TracerPayload,
} from "../trace/mod.ts";
import {
  parseUint64,
  propagationTags,
  readTrigger,
  type TraceContext,
  type Trigger,
} from "./_trigger.ts";

/** Where the finished span goes: the trace component's processing and writer. */
export type SpanSink = (payload: TracerPayload) => void;

/** Options of {@linkcode Lifecycle}. */
export interface LifecycleOptions {
  /** The span's resource and the `functionname` tag. */
  functionName: string;
  /** `DD_SERVICE`; the Go agent's default is `aws.lambda`. */
  service?: string;
  sink: SpanSink;
  /**
   * The trace agent's `rate_by_service`: for a trace started here, the extension decides its
   * sampling priority as a tracer would with those rates. @default keep everything
   */
  rates?: () => Record<string, number>;
  log: Log;
  /**
   * A previous run of the extension in this sandbox had the cold start (the state file says
   * so): no invocation of this process is one. @default false
   */
  warm?: boolean;
  /** Epoch nanoseconds. @default the wall clock */
  nowNs?: () => bigint;
}

/** The response headers of `start-invocation` and `/trace-context`. */
export type ContextHeaders = Record<string, string>;

interface Invocation {
  requestId: string;
  startNs: bigint;
  traceId: bigint;
  spanId: bigint;
  parentId: bigint;
  samplingPriority: number | null;
  tags: Record<string, string>;
  trigger: Trigger;
  coldStart: boolean;
  /** True when the event carried no context and the trace was started here. */
  created: boolean;
}

const SAMPLING_PRIORITY_KEY = "_sampling_priority_v1";
const KNUTH_FACTOR = 1111111111111111111n;
const UINT64 = 1n << 64n;

/**
 * The tracers' rate decision: a trace is kept (priority 1, else 0) when its id times Knuth's
 * factor, modulo 2^64, is at most `rate` × 2^64, so every party decides alike for one id.
 */
export function priorityByRate(traceId: bigint, rate: number): number {
  if (rate >= 1) return 1;
  const threshold = BigInt(Math.floor(Math.max(rate, 0) * 2 ** 64));
  return (traceId * KNUTH_FACTOR) % UINT64 <= threshold && rate > 0 ? 1 : 0;
}

/** A random non-zero 63-bit id, as tracers make them. */
export function randomId(): bigint {
  const [hi, lo] = crypto.getRandomValues(new Uint32Array(2));
  const id = (BigInt(hi & 0x7fffffff) << 32n) | BigInt(lo);
  return id === 0n ? 1n : id;
}

function decodeBase64(value: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(atob(value), (c) => c.charCodeAt(0)),
    );
  } catch {
    return value; // not base64: some tracers send the text as is
  }
}

/** The HTTP status code of an API Gateway / ALB style response, or "" when it has none. */
function statusCodeOf(body: unknown): string {
  if (typeof body !== "object" || body === null) return "";
  const code = (body as Record<string, unknown>).statusCode;
  return typeof code === "number" && Number.isInteger(code) ? String(code) : "";
}

function parseBody(bytes: Uint8Array): unknown {
  if (bytes.length === 0) return {};
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return {}; // an event that is not JSON is still an invocation, just without a context
  }
}

/** The lifecycle of the current invocation, from the daemon's routes and the INVOKE events. */
export class Lifecycle {
  readonly #options: LifecycleOptions;
  readonly #nowNs: () => bigint;
  /** INVOKE events seen. */
  #invocations = 0;
  /** `start-invocation` calls seen: what the span's `cold_start` counts. */
  #starts = 0;
  #requestId = "";
  /** The request id of the process's first invocation: the cold start. */
  #firstRequestId: string | null = null;
  #functionArn = "";
  #current: Invocation | null = null;
  #libraryDetected = false;

  constructor(options: LifecycleOptions) {
    this.#options = options;
    this.#nowNs = options.nowNs ?? (() => BigInt(Date.now()) * 1_000_000n);
  }

  /**
   * True while the process's first invocation runs (and before any): the `cold_start` tag of
   * the span and of the enhanced metrics.
   */
  get coldStart(): boolean {
    return !this.#options.warm && Math.max(this.#invocations, this.#starts) <= 1;
  }

  /**
   * Whether the invocation `requestId` is the process's cold start, for what is tagged after
   * the next invocation began (enhanced metrics from the Telemetry API's report).
   */
  isColdStart(requestId: string): boolean {
    if (this.#options.warm) return false;
    return this.#firstRequestId === null || this.#firstRequestId === requestId;
  }

  /** An INVOKE event: the request id the routes use when the tracer sends none. */
  invoked(requestId: string, functionArn: string): void {
    this.#invocations++;
    this.#firstRequestId ??= requestId;
    this.#requestId = requestId;
    this.#functionArn = functionArn;
  }

  /** A Datadog Lambda library called `/lambda/hello`: it makes the `aws.lambda` span itself. */
  libraryDetected(): void {
    this.#libraryDetected = true;
  }

  /**
   * `start-invocation`: remembers the invocation and answers the context the tracer continues,
   * the event's or a new trace. `body` is null when it was too large to read.
   */
  start(body: Uint8Array | null, requestId: string | null): ContextHeaders {
    // Counted here rather than from INVOKE events: the tracer's call may come before the
    // extension has read its INVOKE.
    this.#starts++;
    const trigger = body ? readTrigger(parseBody(body)) : readTrigger(null);
    const context: TraceContext | null = trigger.context;
    const traceId = context?.traceId ?? randomId();
    this.#current = {
      requestId: requestId ?? this.#requestId,
      startNs: this.#nowNs(),
      traceId,
      spanId: randomId(),
      parentId: context?.parentId ?? 0n,
      // A trace started here is decided here, so the tracer's spans and ours agree.
      samplingPriority: context ? context.samplingPriority : priorityByRate(traceId, this.#rate()),
      tags: context?.tags ?? {},
      trigger,
      coldStart: !this.#options.warm && this.#starts === 1,
      created: !context,
    };
    if (context) {
      this.#options.log.debug(`Trace context from the ${trigger.eventSource || "event"}`);
    }
    return this.traceContext();
  }

  /** The agent's rate for the span's service, else its rate for services not seen yet. */
  #rate(): number {
    const rates = this.#options.rates?.() ?? {};
    const prefix = `service:${this.#service},`;
    const own = Object.entries(rates).find(([k]) => k.startsWith(prefix));
    return own?.[1] ?? rates[DEFAULT_RATE_KEY] ?? 1;
  }

  get #service(): string {
    return this.#options.service || "aws.lambda";
  }

  /** The current invocation's trace headers (`/trace-context`); empty between invocations. */
  traceContext(): ContextHeaders {
    const inv = this.#current;
    if (!inv) return {};
    const headers: ContextHeaders = {
      "x-datadog-trace-id": String(inv.traceId),
      "x-datadog-span-id": String(inv.spanId),
    };
    if (inv.parentId !== 0n) headers["x-datadog-parent-id"] = String(inv.parentId);
    if (inv.samplingPriority !== null) {
      headers["x-datadog-sampling-priority"] = String(inv.samplingPriority);
    }
    const tid = inv.tags["_dd.p.tid"];
    if (tid) headers["x-datadog-tags"] = `_dd.p.tid=${tid}`;
    return headers;
  }

  /**
   * `end-invocation`: finishes the `aws.lambda` span with the tracer's ids and error and hands
   * it to the sink. Returns the span, or null when there was no span to make.
   */
  end(body: Uint8Array | null, headers: Headers, requestId: string | null): Span | null {
    const inv = this.#current;
    this.#current = null;
    if (!inv) {
      this.#options.log.warn("end-invocation without start-invocation: no aws.lambda span");
      return null;
    }
    if (this.#libraryDetected) return null;
    const endNs = this.#nowNs();
    const header = (name: string) => headers.get(name) ?? undefined;
    const traceId = parseUint64(header("x-datadog-trace-id")) ?? inv.traceId;
    // The event's caller stays the parent. A trace started here has none: a parent the tracer
    // names then only echoes what start-invocation answered (datadog-lambda-go takes the
    // trace id as the parent id when no parent id is answered).
    const parentId = inv.created
      ? 0n
      : inv.parentId !== 0n
      ? inv.parentId
      : parseUint64(header("x-datadog-parent-id")) ?? 0n;
    const priorityHeader = Number.parseInt(header("x-datadog-sampling-priority") ?? "", 10);
    const priority = inv.samplingPriority ??
      (Number.isFinite(priorityHeader) ? priorityHeader : null);
    const { functionName } = this.#options;
    const span: Span = {
      ...emptySpan(),
      service: this.#service,
      name: "aws.lambda",
      resource: functionName,
      type: "serverless",
      traceId,
      spanId: parseUint64(header("x-datadog-span-id")) ?? inv.spanId,
      parentId,
      start: inv.startNs,
      duration: endNs > inv.startNs ? endNs - inv.startNs : 0n,
    };
    const meta = span.meta;
    Object.assign(meta, inv.tags);
    for (const [k, v] of Object.entries(propagationTags(header("x-datadog-tags")))) {
      meta[k] ??= v;
    }
    meta["request_id"] = requestId ?? inv.requestId;
    meta["cold_start"] = String(inv.coldStart);
    meta["functionname"] = functionName.toLowerCase();
    meta["resource_names"] = functionName;
    meta["span.kind"] = "server";
    meta["_dd.origin"] = "lambda";
    if (this.#functionArn) meta["function_arn"] = this.#functionArn.toLowerCase();
    if (inv.trigger.eventSource) meta["function_trigger.event_source"] = inv.trigger.eventSource;
    if (inv.trigger.eventSourceArn) {
      meta["function_trigger.event_source_arn"] = inv.trigger.eventSourceArn;
    }
    const status = body ? statusCodeOf(parseBody(body)) : "";
    if (status) {
      meta["http.status_code"] = status;
      if (status.startsWith("5")) span.error = 1;
    }
    const message = header("x-datadog-invocation-error-msg");
    const type = header("x-datadog-invocation-error-type");
    const stack = header("x-datadog-invocation-error-stack");
    if (
      header("x-datadog-invocation-error")?.toLowerCase() === "true" || message || type || stack
    ) {
      span.error = 1;
      if (message) meta["error.msg"] = decodeBase64(message);
      if (type) meta["error.type"] = decodeBase64(type);
      if (stack) meta["error.stack"] = decodeBase64(stack);
    }
    if (priority !== null) span.metrics[SAMPLING_PRIORITY_KEY] = priority;
    const payload = emptyTracerPayload();
    payload.chunks = [{
      priority: priority ?? PRIORITY_NONE,
      origin: "lambda",
      spans: [span],
      tags: {},
      droppedTrace: false,
    }];
    this.#options.sink(payload);
    return span;
  }
}
