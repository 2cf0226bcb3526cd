/**
 * Logs at the local intake: what `/api/v2/logs` accepts (a JSON array of events within the
 * public API's limits) and the `/outpost/intake/logs` query over the stored events.
 *
 * @module
 */
import type { Problem } from "./_public.ts";
import type { IntakeStore } from "./_store.ts";

/** Uncompressed bytes of one logs payload the intake accepts (the public API's 5 MB). */
export const MAX_LOGS_PAYLOAD_BYTES = 5_000_000;
/** Events per payload. */
export const MAX_LOGS_PER_PAYLOAD = 1000;

const STRING_FIELDS = ["status", "hostname", "service", "ddsource", "ddtags"] as const;

/**
 * Checks a decoded `/api/v2/logs` body: an array of at most 1000 objects, each with a
 * `message` (a string, or an object as Lambda events carry), the other fields strings and
 * `timestamp` a number when present. Null when it is fine.
 *
 * @example
 * ```ts
 * import { checkLogsPayload } from "./_logs.ts";
 * console.assert(checkLogsPayload([{ message: "hi", status: "info" }]) === null);
 * console.assert(checkLogsPayload({ message: "hi" })?.status === 400);
 * ```
 */
export function checkLogsPayload(content: unknown, bytes = 0): Problem | null {
  if (bytes > MAX_LOGS_PAYLOAD_BYTES) {
    return { status: 413, error: `payload of ${bytes} bytes is over ${MAX_LOGS_PAYLOAD_BYTES}` };
  }
  if (!Array.isArray(content)) return { status: 400, error: "expected a JSON array of log events" };
  if (content.length > MAX_LOGS_PER_PAYLOAD) {
    return { status: 413, error: `${content.length} events is over ${MAX_LOGS_PER_PAYLOAD}` };
  }
  for (let i = 0; i < content.length; i++) {
    const e = content[i] as Record<string, unknown>;
    if (typeof e !== "object" || e === null || Array.isArray(e)) {
      return { status: 400, error: `event ${i}: expected an object` };
    }
    const m = e.message;
    if (typeof m !== "string" && (typeof m !== "object" || m === null)) {
      return { status: 400, error: `event ${i}: "message" must be a string or an object` };
    }
    for (const f of STRING_FIELDS) {
      if (e[f] !== undefined && typeof e[f] !== "string") {
        return { status: 400, error: `event ${i}: "${f}" must be a string` };
      }
    }
    if (e.timestamp !== undefined && typeof e.timestamp !== "number") {
      return { status: 400, error: `event ${i}: "timestamp" must be a number (epoch ms)` };
    }
  }
  return null;
}

/** One stored event with where it was stored. */
export interface StoredLog {
  message: string;
  status: string;
  timestamp: number;
  hostname: string;
  service: string;
  ddsource: string;
  ddtags: string;
  /** The payload's sequence number and its index in it: the order of arrival. */
  seq: number;
  index: number;
}

/** Filters of {@linkcode queryLogs}; absent ones match anything. */
export interface LogsFilter {
  service?: string;
  source?: string;
  host?: string;
  status?: string;
  /** A substring of the message. */
  q?: string;
  /** @default 1000 */
  limit?: number;
}

/**
 * Stored events matching `filter`, in order of arrival; `count` is how many matched, `logs`
 * the first `limit` of them.
 */
export function queryLogs(store: IntakeStore, filter: LogsFilter) {
  const { service, source, host, status, q, limit = 1000 } = filter;
  const logs: StoredLog[] = [];
  let count = 0;
  // Payloads are looked up by service name, a cheap prefilter before parsing.
  for (const rec of store.records({ route: "/api/v2/logs", name: service })) {
    if (!Array.isArray(rec.content)) continue;
    (rec.content as Record<string, unknown>[]).forEach((e, index) => {
      const message = typeof e.message === "string" ? e.message : JSON.stringify(e.message);
      if (service !== undefined && e.service !== service) return;
      if (source !== undefined && e.ddsource !== source) return;
      if (host !== undefined && e.hostname !== host) return;
      if (status !== undefined && e.status !== status) return;
      if (q !== undefined && !message.includes(q)) return;
      count++;
      if (logs.length >= limit) return;
      logs.push({
        message,
        status: String(e.status ?? ""),
        timestamp: Number(e.timestamp ?? 0),
        hostname: String(e.hostname ?? ""),
        service: String(e.service ?? ""),
        ddsource: String(e.ddsource ?? ""),
        ddtags: String(e.ddtags ?? ""),
        seq: rec.seq,
        index,
      });
    });
  }
  return { count, logs };
}
