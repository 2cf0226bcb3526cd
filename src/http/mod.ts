/**
 * The one way out of the host. Every outbound request (the forwarder's payloads, a flare
 * upload, package and catalog downloads) goes through an {@linkcode HttpClient} built from
 * {@linkcode HttpSettings}, so `proxy.*`, `no_proxy`, the `*_PROXY` variables,
 * `skip_ssl_validation`, `forwarder_ca_bundle` and the timeout reach them all. Retry and
 * timeout wrap a send; one table classifies answers into ok, retry or drop.
 *
 * @example
 * ```ts ignore
 * import { createHttpClient, httpSettings } from "./mod.ts";
 * const client = createHttpClient(runtime, httpSettings(config, process.env));
 * const res = await client.fetch("https://app.datadoghq.com/api/v1/validate", { headers });
 * ```
 *
 * @module
 */
export { createHttpClient, directFetch, type HttpClient } from "./_client.ts";
export { type HttpSettings, httpSettings } from "./_settings.ts";
export { type Send, withRetry, withTimeout } from "./_wrap.ts";
export { classifyError, classifyStatus, isTransient, type Outcome } from "./_outcome.ts";
