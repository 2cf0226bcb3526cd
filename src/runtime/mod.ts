/**
 * Picks the runtime the process is running on. Only the CLI and tests import this file;
 * the core receives the chosen {@linkcode Runtime} as a parameter.
 *
 * @module
 */
import type { Runtime } from "./types.ts";

export type * from "./types.ts";

/** The runtime of this process. */
import { bunRuntime } from "./bun.ts";
import { denoRuntime } from "./deno.ts";
export const runtime: Runtime = "Bun" in globalThis ? bunRuntime : denoRuntime;
