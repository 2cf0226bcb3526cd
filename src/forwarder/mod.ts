/**
 * The forwarder: moves opaque payloads (bytes + headers + route) to every configured domain
 * and API key, and never loses one silently. Each domain has a memory retry queue capped in
 * bytes that spills to a disk queue (on by default), a circuit breaker per endpoint with
 * backoff, and bounded concurrency. One table classifies intake answers into ok, retry or drop.
 *
 * @example
 * ```ts ignore
 * import { buildForwarder, forwarderSettings } from "./mod.ts";
 * import { createHttpClient, httpSettings } from "../http/mod.ts";
 * const { component: forwarder } = buildForwarder(forwarderSettings(config), {
 *   runtime, registry, http: createHttpClient(runtime, httpSettings(config, process.env)),
 * });
 * await forwarder.start();
 * forwarder.submit({ route: "/api/v2/series", body, headers, storable: true, kind: "series" });
 * await forwarder.stop(); // sends within forwarder_stop_timeout, persists the rest
 * ```
 *
 * @module
 */
export { buildForwarder, type ForwarderDeps, METRICS_PIPELINE } from "./_forwarder.ts";
export { type DomainKeys, mergeDomains, validationUrl } from "./_endpoints.ts";
export { keyLabel } from "./_validate.ts";
export { type ForwarderSettings, forwarderSettings } from "./_settings.ts";
export type { Delivery, DeliveryResult, Payload } from "./_transaction.ts";
