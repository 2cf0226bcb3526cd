/**
 * How the agent's outgoing HTTP leaves the host: the proxy for each URL, the custom CA bundle
 * and `skip_ssl_validation`. The forwarder and the flare sender share it, so a flare takes the
 * same way out as the payloads.
 */
import { readFileSync } from "node:fs";
import type { Config } from "../config/mod.ts";
import { OutpostError } from "../errors.ts";
import type { FetchClientOptions, Runtime } from "../runtime/types.ts";
import { proxyFor, resolveProxy } from "./_proxy.ts";

/** Per-URL client options, and a fetch that applies them. */
export interface HttpClient {
  clientFor(url: string): FetchClientOptions;
  fetch(url: string, init: RequestInit): Promise<Response>;
}

/** Builds the client from `proxy.*`, the `*_PROXY` variables, `forwarder_ca_bundle` and `skip_ssl_validation`. */
export function httpClient(
  runtime: Runtime,
  config: Config,
  env: Record<string, string | undefined>,
): HttpClient {
  const proxy = resolveProxy(config, env);
  const ca = readCaBundle(config.forwarder_ca_bundle);
  // Deno can only skip verification process-wide; asking per client would drop every payload,
  // so there the setting is reported at start and payloads are kept and retried instead.
  const insecure = config.skip_ssl_validation && runtime.name !== "deno";
  const clientFor = (url: string): FetchClientOptions => ({
    proxy: proxyFor(url, proxy),
    insecure,
    ca,
  });
  return { clientFor, fetch: (url, init) => runtime.fetch(url, init, clientFor(url)) };
}

function readCaBundle(path: string): string | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new OutpostError(
      "config_invalid",
      `Cannot read config key "forwarder_ca_bundle": ${(e as NodeJS.ErrnoException).code ?? e}`,
    );
  }
}
