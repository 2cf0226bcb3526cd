/**
 * API key validation (`GET /api/v1/validate`), at start and every
 * `forwarder_apikey_validation_interval` minutes. An unreachable intake counts as valid so an
 * outage does not mark the forwarder unhealthy.
 */
import type { FetchClientOptions, Runtime } from "../runtime/types.ts";
import { validationUrl } from "./_endpoints.ts";

/** The result of validating one key. `error` (intake unreachable) counts as valid. */
export type ApiKeyState = "unchecked" | "valid" | "invalid" | "error";

// The Datadog Agent's placeholder key: never validated.
const SKIP_KEY = "00000000000000000000000000000000";

/** How a key is shown on the status page: only its last five characters. */
export function keyLabel(apiKey: string): string {
  return `API key ending with ${apiKey.slice(-5)}`;
}

/** Options of {@linkcode validateKey}. */
export interface ValidateOptions {
  timeoutMs: number;
  client?: (url: string) => FetchClientOptions;
  userAgent: string;
}

/**
 * Validates one key against a domain: 200 valid, 403 invalid, anything else `error`.
 *
 * @example
 * ```ts ignore
 * await validateKey(runtime, "https://app.datadoghq.com", key, { timeoutMs: 10_000, userAgent });
 * ```
 */
export async function validateKey(
  runtime: Runtime,
  domain: string,
  apiKey: string,
  { timeoutMs, client, userAgent }: ValidateOptions,
): Promise<ApiKeyState> {
  if (apiKey === SKIP_KEY) return "valid";
  const url = validationUrl(domain, apiKey);
  try {
    const res = await runtime.fetch(
      url,
      {
        method: "GET",
        headers: { "User-Agent": userAgent },
        signal: AbortSignal.timeout(timeoutMs),
      },
      client?.(url),
    );
    await res.arrayBuffer().catch(() => undefined);
    return res.status === 200 ? "valid" : res.status === 403 ? "invalid" : "error";
  } catch {
    return "error";
  }
}
