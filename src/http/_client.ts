/**
 * The client every outbound request goes through: the proxy for each URL, the custom CA
 * bundle, `skip_ssl_validation`, and a bound on the wait for an answer. The forwarder, the
 * flare upload and the fleet downloads share it, so all leave the host the same way.
 */
import type { FetchClientOptions, Runtime } from "../runtime/types.ts";
import { proxyFor } from "./_proxy.ts";
import type { HttpSettings } from "./_settings.ts";

/** Per-URL client options, and a fetch that applies them. */
export interface HttpClient {
  /** The proxy and TLS options a request to `url` takes. */
  clientFor(url: string): FetchClientOptions;
  /**
   * `fetch` with {@linkcode HttpClient.clientFor}'s options. It fails with a `TimeoutError`
   * when the answer's headers take longer than the settings' `timeoutMs`; the body is not
   * bounded (the caller's signal can bound it).
   */
  fetch(url: string | URL, init?: RequestInit): Promise<Response>;
  /** `forwarder_timeout`: how long one request may take; senders that own their requests bound them by it. */
  readonly timeoutMs: number;
}

/**
 * Builds the client from resolved settings.
 *
 * @example
 * ```ts ignore
 * const client = createHttpClient(runtime, httpSettings(config, process.env));
 * const res = await client.fetch("https://example.com/pkg.tar");
 * ```
 */
export function createHttpClient(runtime: Runtime, settings: HttpSettings): HttpClient {
  const { proxy, ca, insecure, timeoutMs } = settings;
  const clientFor = (url: string): FetchClientOptions => ({
    proxy: proxyFor(url, proxy),
    insecure,
    ca,
  });
  return {
    clientFor,
    timeoutMs,
    async fetch(input, init = {}) {
      const url = String(input);
      // A proxy that accepts the connection and never answers must not hold a caller forever;
      // AbortSignal.timeout would also cut a long body, so the timer stops at the headers.
      const waited = new AbortController();
      const timer = setTimeout(() => {
        const message = `No answer from ${hostOf(url)} within ${timeoutMs} ms`;
        waited.abort(new DOMException(message, "TimeoutError"));
      }, timeoutMs);
      const signal = init.signal ? AbortSignal.any([init.signal, waited.signal]) : waited.signal;
      try {
        return await runtime.fetch(url, { ...init, signal }, clientFor(url));
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** The host of `url`, without credentials or path (which may hold secrets). */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "the server";
  }
}

/**
 * The global fetch with no proxy, CA or timeout: for callers that were given no client (tests,
 * and the loopback requests of the agent's own API). Every outbound sender is given one.
 */
export const directFetch = (url: string | URL, init?: RequestInit): Promise<Response> =>
  fetch(url, init);
