/**
 * The Telemetry API: a listener the Runtime API posts event batches to, its subscription, and
 * the `aws.lambda.enhanced.*` distributions made from the platform events.
 *
 * The function's log records and the INIT_START/START/END/REPORT lines are `_logs.ts`'s; the
 * flush that `platform.runtimeDone` allows is the invocation loop's (`_loop.ts`).
 */
import type { Runtime } from "../runtime/types.ts";
import type { HttpServer } from "../runtime/types.ts";
import type { MetricSample } from "../metrics/model.ts";
import type { Log } from "../log/mod.ts";
import { readBody } from "../trace/mod.ts";

/** The schema Lambda on-demand functions get; Managed Instances need `2025-01-29`. */
export const TELEMETRY_SCHEMA = "2022-12-13";
/**
 * The buffering both Datadog extensions ask for: batches at most 25 ms old, so the function's
 * lines are here before the flush that follows the invocation.
 */
export const BUFFERING = { maxItems: 1000, maxBytes: 262144, timeoutMs: 25 };

/**
 * What a runtime prints when it runs out of memory (the Go serverless agent's and bottlecap's
 * lists): Go, Java, Node (two), Python, Ruby, .NET.
 */
export const OUT_OF_MEMORY_LOGS = [
  "fatal error: runtime: out of memory",
  "java.lang.OutOfMemoryError",
  "JavaScript heap out of memory",
  "Runtime exited with error: signal: killed",
  "MemoryError",
  "failed to allocate memory (NoMemoryError)",
  "OutOfMemoryException",
];

/** Whether a function's log line says it ran out of memory. */
export function isOutOfMemoryLog(text: string): boolean {
  return OUT_OF_MEMORY_LOGS.some((s) => text.includes(s));
}

/** The text of a `function` / `extension` record: a string, or an object (JSON log format). */
export function recordText(record: unknown): string | undefined {
  if (typeof record === "string") return record;
  if (record !== null && typeof record === "object") return JSON.stringify(record);
  return undefined;
}

/** One event of a batch. */
export interface TelemetryEvent {
  time: string;
  type: string;
  record: unknown;
}

/**
 * The largest batch read: four times the most Lambda buffers (1 MiB), so a listener that binds
 * every interface never holds more for a client that is not Lambda.
 */
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;
/** A batch must arrive within this; Lambda posts from the same sandbox. */
const BATCH_TIMEOUT_MS = 5_000;

/** What the listener counts. */
export interface TelemetryStats {
  batches: number;
  events: number;
  /** Batches that did not parse, or were too large or too slow, and were dropped. */
  badBatches: number;
}

/** A running listener. */
export interface TelemetryListener {
  port: number;
  stats: TelemetryStats;
  close(): Promise<void>;
}

/**
 * Listens on `hostname:port` (0: any free port) and hands each parsed batch to `onEvents`.
 * Every batch is answered 200 at once, as Lambda wants; one that does not parse is counted and
 * dropped.
 */
export async function startTelemetryListener(
  runtime: Runtime,
  options: { hostname: string; port: number; log: Log },
  onEvents: (events: TelemetryEvent[]) => void,
): Promise<TelemetryListener> {
  const stats: TelemetryStats = { batches: 0, events: 0, badBatches: 0 };
  const server: HttpServer = await runtime.serve(
    { hostname: options.hostname, port: options.port },
    async (req) => {
      const read = await readBody(req, { maxBytes: MAX_BATCH_BYTES, timeoutMs: BATCH_TIMEOUT_MS });
      if (!read.ok) {
        stats.badBatches++;
        options.log.warn(`Telemetry batch dropped: ${read.message}`);
        return new Response(JSON.stringify({ error: read.message }), {
          status: read.reason === "payload-too-large" ? 413 : 408,
          headers: { "Content-Type": "application/json" },
        });
      }
      const text = new TextDecoder().decode(read.bytes);
      let events: unknown;
      try {
        events = JSON.parse(text);
      } catch {
        events = null;
      }
      if (!Array.isArray(events)) {
        stats.badBatches++;
        options.log.debug(`Telemetry batch dropped: not a JSON array (${text.length} bytes)`);
        return new Response(null, { status: 200 });
      }
      stats.batches++;
      stats.events += events.length;
      try {
        onEvents(events as TelemetryEvent[]);
      } catch (e) {
        options.log.error(`Telemetry batch: ${(e as Error).message}`);
      }
      return new Response(null, { status: 200 });
    },
  );
  return { port: server.port, stats, close: () => server.close() };
}

/**
 * Subscribes to `types`, delivered to `http://sandbox.localdomain:<port>/`. Resolves with false
 * (logged once) when the Runtime API refuses or lacks the Telemetry API: the extension goes on.
 */
export async function subscribeTelemetry(
  runtime: Runtime,
  options: {
    runtimeApi: string;
    extensionId: string;
    port: number;
    types: string[];
    schema?: string;
    log: Log;
  },
): Promise<boolean> {
  const body = {
    schemaVersion: options.schema ?? TELEMETRY_SCHEMA,
    destination: { protocol: "HTTP", URI: `http://sandbox.localdomain:${options.port}/` },
    types: options.types,
    buffering: BUFFERING,
  };
  try {
    const res = await runtime.fetch(`http://${options.runtimeApi}/2022-07-01/telemetry`, {
      method: "PUT",
      headers: {
        "Lambda-Extension-Identifier": options.extensionId,
        "Content-Type": "application/json",
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
    const text = await res.text();
    if (res.status !== 200) {
      options.log.warn(`Telemetry subscription refused (${res.status} ${text.slice(0, 200)})`);
      return false;
    }
    return true;
  } catch (e) {
    options.log.warn(`Telemetry subscription failed: ${(e as Error).message}`);
    return false;
  }
}

/** The function the enhanced metrics are about, and their tags. */
export interface FunctionInfo {
  functionName: string;
  region: string;
  accountId: string;
  memorySizeMB: number;
  architecture: "x86_64" | "arm64";
  runtime?: string;
}

/** Per GB-second and per request, from bottlecap's pricing. */
const PRICE_PER_GB_S = { x86_64: 0.0000166667, arm64: 0.0000133334 };
const PRICE_PER_REQUEST = 0.0000002;

/** The function's ARN (unqualified, as the register answer gives it). */
export function functionArn(i: FunctionInfo): string {
  return `arn:aws:lambda:${i.region}:${i.accountId}:function:${i.functionName}`;
}

/**
 * Turns platform events into `aws.lambda.enhanced.*` distribution samples. It is also the one
 * place that decides an invocation ran out of memory: `Runtime.OutOfMemory` in runtimeDone, a
 * runtime's out-of-memory line in a `function` / `extension` record, or a REPORT whose max
 * memory used reached the memory size; one `out_of_memory` per invocation whatever says so.
 */
export class EnhancedMetrics {
  readonly #info: FunctionInfo;
  #coldStart = true;
  /** `platform.start` events seen, and the request id of the first: the cold one. */
  #starts = 0;
  #coldId = "";
  readonly #runtimeDone = new Map<string, number>();
  #initDurationMs: number | undefined;
  /** The request id of the last `platform.start`: whose a record without one is. */
  #requestId = "";
  /** The last invocation counted out of memory. */
  #outOfMemory: string | undefined;

  constructor(info: FunctionInfo) {
    this.#info = info;
  }

  /** The function's tags: the enhanced metrics' without `cold_start`, as the logs carry them. */
  functionTags(): string[] {
    const i = this.#info;
    const arn = functionArn(i);
    return [
      `functionname:${i.functionName.toLowerCase()}`,
      `region:${i.region}`,
      `account_id:${i.accountId}`,
      `aws_account:${i.accountId}`,
      `function_arn:${arn.toLowerCase()}`,
      `resource:${i.functionName}`,
      `memorysize:${i.memorySizeMB}`,
      `architecture:${i.architecture}`,
      ...(i.runtime ? [`runtime:${i.runtime}`] : []),
    ];
  }

  /** The tags every enhanced metric carries. */
  tags(requestId = ""): string[] {
    return [...this.functionTags(), `cold_start:${this.#isCold(requestId)}`];
  }

  /** Whether `requestId`'s invocation is the first after init (without one: the current). */
  #isCold(requestId: string): boolean {
    if (this.#starts === 0) return true;
    if (requestId && this.#coldId) return requestId === this.#coldId;
    return this.#starts === 1 && this.#coldStart;
  }

  /** The `invocations` sample of one INVOKE, for when the Telemetry API is not there. */
  invocation(): MetricSample[] {
    return this.samples([{ time: "", type: "platform.start", record: {} }]);
  }

  /** The samples `events` give. */
  samples(events: TelemetryEvent[]): MetricSample[] {
    const out: MetricSample[] = [];
    let id = "";
    const add = (name: string, value: number) =>
      out.push({
        name: `aws.lambda.enhanced.${name}`,
        value,
        type: "distribution",
        tags: this.tags(id),
        host: "",
        sampleRate: 1,
        timestamp: 0,
      });
    const outOfMemory = (requestId: string) => {
      if (this.#outOfMemory === requestId) return;
      this.#outOfMemory = requestId;
      add("out_of_memory", 1);
    };
    for (const e of events) {
      if (e?.type === "function" || e?.type === "extension") {
        const text = recordText(e.record);
        if (text !== undefined && isOutOfMemoryLog(text)) {
          const own = (e.record as { requestId?: unknown } | null)?.requestId;
          outOfMemory(typeof own === "string" && own ? own : this.#requestId);
        }
        continue;
      }
      const r = (e?.record ?? {}) as Record<string, unknown>;
      const m = (r.metrics ?? {}) as Record<string, number>;
      id = typeof r.requestId === "string" ? r.requestId : "";
      if (e?.type === "platform.start") {
        if (this.#starts++ === 0) this.#coldId = id;
      }
      switch (e?.type) {
        case "platform.initReport":
          if (typeof m.durationMs === "number") this.#initDurationMs = m.durationMs;
          break;
        case "platform.start":
          if (typeof r.requestId === "string") this.#requestId = r.requestId;
          add("invocations", 1);
          break;
        case "platform.runtimeDone": {
          if (typeof m.durationMs === "number") {
            add("runtime_duration", m.durationMs);
            this.#runtimeDone.set(String(r.requestId), m.durationMs);
          }
          if (typeof m.producedBytes === "number") add("produced_bytes", m.producedBytes);
          for (const s of (r.spans ?? []) as Array<{ name?: string; durationMs?: number }>) {
            if (s?.name === "responseLatency" && typeof s.durationMs === "number") {
              add("response_latency", s.durationMs);
            }
          }
          // A timeout is an error too, as in the Datadog extension (timeouts and errors).
          if (r.status === "timeout") {
            add("timeouts", 1);
            add("errors", 1);
          } else if (r.status === "error" || r.status === "failure") add("errors", 1);
          if (r.errorType === "Runtime.OutOfMemory") outOfMemory(String(r.requestId));
          break;
        }
        case "platform.report": {
          if (typeof m.durationMs !== "number") break;
          add("duration", m.durationMs);
          if (typeof m.billedDurationMs === "number") {
            add("billed_duration", m.billedDurationMs);
            const gbS = (m.billedDurationMs / 1000) * ((m.memorySizeMB ?? 0) / 1024);
            add(
              "estimated_cost",
              gbS * PRICE_PER_GB_S[this.#info.architecture] + PRICE_PER_REQUEST,
            );
          }
          if (typeof m.maxMemoryUsedMB === "number") add("max_memory_used", m.maxMemoryUsedMB);
          if (typeof m.memorySizeMB === "number") add("memorysize", m.memorySizeMB);
          if (m.memorySizeMB > 0 && m.maxMemoryUsedMB >= m.memorySizeMB) {
            outOfMemory(String(r.requestId));
          }
          const initMs = m.initDurationMs ?? this.#initDurationMs;
          if (typeof initMs === "number" && this.#isCold(id)) add("init_duration", initMs);
          const done = this.#runtimeDone.get(String(r.requestId));
          if (done !== undefined) {
            add("post_runtime_duration", m.durationMs - done);
            this.#runtimeDone.delete(String(r.requestId));
          }
          if (!id || id === this.#coldId) this.#coldStart = false;
          break;
        }
      }
    }
    return out;
  }
}
