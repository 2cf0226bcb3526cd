/**
 * What the expvar server (`/debug/vars`) MUST emit.
 *
 * | name | kind | counts |
 * |------|------|--------|
 * | `expvar.RefusedHost` | counter | requests refused because their `Host` is not a loopback name or address |
 *
 * @module
 */
import type { Registry } from "../registry.ts";

/** The registry names of the expvar server (see the module doc). */
export const EXPVAR = Object.freeze(
  {
    /** Requests refused for a non-loopback `Host`. */
    refusedHost: "expvar.RefusedHost",
  } as const,
);

/**
 * Registers what the expvar server emits and returns its counters.
 *
 * @example Count a refused request
 * ```ts
 * import { Registry } from "../registry.ts";
 * import { EXPVAR, expvarEvents } from "./expvar.ts";
 * const registry = new Registry();
 * expvarEvents(registry).refusedHost.inc();
 * console.assert(registry.read(EXPVAR.refusedHost) === 1);
 * ```
 */
export function expvarEvents(registry: Registry) {
  return { refusedHost: registry.counter(EXPVAR.refusedHost) };
}
