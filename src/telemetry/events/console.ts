/**
 * What the web console MUST emit.
 *
 * | name | kind | counts |
 * |------|------|--------|
 * | `console.refused` | by reason | requests refused: `host` (not a loopback `Host`), `cross_site`, `no_session`, `csrf`, `bad_login`, `bad_link`, `too_large` |
 *
 * @module
 */
import type { Registry } from "../registry.ts";

/** The registry names of the web console (see the module doc). */
export const CONSOLE = Object.freeze(
  {
    /** Requests refused, by reason. */
    refused: "console.refused",
  } as const,
);

/**
 * Registers what the console emits and returns its counters.
 *
 * @example Count a refusal
 * ```ts
 * import { Registry } from "../registry.ts";
 * import { CONSOLE, consoleEvents } from "./console.ts";
 * const registry = new Registry();
 * consoleEvents(registry).refused.with("csrf").inc();
 * console.assert((registry.read(CONSOLE.refused) as Record<string, number>).csrf === 1);
 * ```
 */
export function consoleEvents(registry: Registry) {
  return { refused: registry.counterVec(CONSOLE.refused) };
}
