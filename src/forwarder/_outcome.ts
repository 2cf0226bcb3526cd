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

/**
 * Error codes (or words of the message, where a runtime gives no code) with their verdict.
 * Unknown network errors are retried as `network`.
 */
export const ERROR_TABLE: Readonly<Record<string, { kind: "retry" | "drop"; reason: string }>> = {
  ECONNREFUSED: { kind: "retry", reason: "connection_refused" },
  "Connection refused": { kind: "retry", reason: "connection_refused" },
  ECONNRESET: { kind: "retry", reason: "connection_reset" },
  "Connection reset": { kind: "retry", reason: "connection_reset" },
  ETIMEDOUT: { kind: "retry", reason: "timeout" },
  ENOTFOUND: { kind: "retry", reason: "dns" },
  EAI_AGAIN: { kind: "retry", reason: "dns" },
  "dns error": { kind: "retry", reason: "dns" },
  ERR_INVALID_URL: { kind: "drop", reason: "invalid_url" },
  "Invalid URL": { kind: "drop", reason: "invalid_url" },
  ERR_INVALID_ARG_VALUE: { kind: "drop", reason: "invalid_url" },
  "scheme": { kind: "drop", reason: "invalid_url" },
  not_supported: { kind: "drop", reason: "not_supported" },
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
  const e = error as { name?: string; code?: string; message?: string; cause?: unknown };
  if (e?.name === "TimeoutError") return { kind: "retry", reason: "timeout" };
  if (e?.name === "AbortError") return { kind: "retry", reason: "aborted" };
  // Bun sets `code`; Deno only describes the failure, in the message of `cause`.
  const cause = e?.cause as { code?: string; message?: string } | undefined;
  const text = [e?.code, cause?.code, e?.message, cause?.message].filter(Boolean).join(" ");
  const key = Object.keys(ERROR_TABLE).find((k) => text.includes(k));
  return key ? { ...ERROR_TABLE[key] } : { kind: "retry", reason: "network" };
}
