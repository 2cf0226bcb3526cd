/**
 * The forwarder: moves opaque payloads (bytes + headers + route) to every configured domain
 * and API key, and never loses one silently. Each domain has a memory retry queue capped in
 * bytes that spills to a disk queue (on by default), a circuit breaker per endpoint with
 * backoff, and bounded concurrency. One table classifies intake answers into ok, retry or drop.
 *
 * @example
 * ```ts ignore
 * import { forwarderComponent } from "./mod.ts";
 * const forwarder = forwarderComponent(runtime, { config, registry });
 * await forwarder.start();
 * forwarder.submit({ route: "/api/v2/series", body, headers, storable: true, kind: "series" });
 * await forwarder.stop(); // sends within forwarder_stop_timeout, persists the rest
 * ```
 *
 * @module
 */
export {
  type Forwarder,
  forwarderComponent,
  type ForwarderOptions,
  storageDir,
} from "./_forwarder.ts";
export type { Delivery, DeliveryResult, DeliveryStatus, Payload } from "./_transaction.ts";
export type { ApiKeyState } from "./_validate.ts";
export type { DomainSnapshot } from "./_domain.ts";
export type { DomainKeys } from "./_endpoints.ts";
