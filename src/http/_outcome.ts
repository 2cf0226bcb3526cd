/**
 * The one table that turns an answer (a status code or a network error) into `ok`, `retry` or
 * `drop` with a reason. The reason doubles as the telemetry label. The forwarder, the flare
 * upload and the fleet downloads all classify with it.
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
  // A certificate that does not verify: the forwarder keeps retrying (the CA bundle may be
  // fixed while it runs), a one-shot request gives up (see isTransient).
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: { kind: "retry", reason: "tls" },
  UNABLE_TO_GET_ISSUER_CERT: { kind: "retry", reason: "tls" },
  DEPTH_ZERO_SELF_SIGNED_CERT: { kind: "retry", reason: "tls" },
  SELF_SIGNED_CERT_IN_CHAIN: { kind: "retry", reason: "tls" },
  CERT_HAS_EXPIRED: { kind: "retry", reason: "tls" },
  ERR_TLS_CERT_ALTNAME_INVALID: { kind: "retry", reason: "tls" },
  "certificate": { kind: "retry", reason: "tls" },
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

/**
 * The retry rule of one-shot requests (a flare upload, a package download): a network failure
 * other than a certificate that does not verify, a 5xx, a 408 or a 429. Another 4xx will not
 * change on a second try; the forwarder, which keeps payloads for hours, retries more.
 *
 * @example
 * ```ts
 * import { classifyStatus, isTransient } from "./_outcome.ts";
 * isTransient(classifyStatus(503)); // true
 * isTransient(classifyStatus(404)); // false
 * ```
 */
export function isTransient(outcome: Outcome): boolean {
  if (outcome.kind !== "retry" || outcome.reason === "tls") return false;
  const status = outcome.status;
  return status === undefined || status >= 500 || status === 408 || status === 429;
}
