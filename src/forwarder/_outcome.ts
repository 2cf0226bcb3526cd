/**
 * The one table that turns an intake answer (a status code or a network error) into `ok`,
 * `retry` or `drop` with a reason. The reason doubles as the telemetry label.
 */

/** What one send achieved. */
export type Outcome =
  | { kind: "ok"; status: number; reason: "delivered" }
  | { kind: "retry"; reason: string; status?: number }
  | { kind: "drop"; reason: string; status?: number };

/**
 * Status codes with a fixed verdict. Anything else ≥ 400 is retried — 404 on purpose, as the
 * Datadog Agent does, so a misrouted proxy does not throw data away — and < 400 is delivered.
 */
export const STATUS_TABLE: Readonly<Record<number, { kind: "drop"; reason: string }>> = {
  400: { kind: "drop", reason: "bad_request" },
  403: { kind: "drop", reason: "api_key_invalid" },
  413: { kind: "drop", reason: "payload_too_large" },
};

/** Network error codes with their reason; all are retried. Unknown codes retry as `network`. */
export const ERROR_TABLE: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection_refused",
  ConnectionRefused: "connection_refused",
  ECONNRESET: "connection_reset",
  ConnectionReset: "connection_reset",
  ConnectionClosed: "connection_reset",
  ETIMEDOUT: "timeout",
  TimeoutError: "timeout",
  ENOTFOUND: "dns",
  EAI_AGAIN: "dns",
};

/** Classifies an HTTP status code. */
export function classifyStatus(status: number): Outcome {
  if (status < 400) return { kind: "ok", status, reason: "delivered" };
  const fixed = STATUS_TABLE[status];
  if (fixed) return { ...fixed, status };
  return { kind: "retry", reason: `http_${status}`, status };
}

/** Classifies an error thrown by fetch: a timeout signal raises TimeoutError, a stop AbortError. */
export function classifyError(error: unknown): Outcome {
  const e = error as { name?: string; code?: string; message?: string };
  if (e?.name === "TimeoutError") return { kind: "retry", reason: "timeout" };
  if (e?.name === "AbortError") return { kind: "retry", reason: "aborted" };
  // Bun and Deno report a malformed URL as a TypeError naming the URL.
  if (e?.name === "TypeError" && /invalid url|url is invalid|Invalid URL/i.test(e.message ?? "")) {
    return { kind: "drop", reason: "invalid_url" };
  }
  const code = e?.code ?? findCode(e?.message ?? "");
  if (e?.name === "NotSupportedError") return { kind: "drop", reason: "not_supported" };
  return { kind: "retry", reason: (code && ERROR_TABLE[code]) ?? "network" };
}

function findCode(message: string): string | undefined {
  return Object.keys(ERROR_TABLE).find((c) => message.includes(c)) ??
    (/connection refused/i.test(message) ? "ECONNREFUSED" : undefined);
}
