/**
 * outpost as a library, for programs that embed the agent instead of running its binary: build
 * the whole agent from a config, parse DogStatsD packets, or run the local intake that stands in
 * for Datadog. Everything here works the same under Bun and Deno.
 *
 * @example Run the agent against the embedded local intake, then stop it
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import {
 *   buildAgent, buildIntake, configDefaults, createLogger, intakeSettings, pointAtIntake, runtime,
 * } from "./mod.ts";
 *
 * const run = mkdtempSync(join(tmpdir(), "outpost-embed-"));
 * const base = {
 *   ...configDefaults(), run_path: run, hostname: "edge-1",
 *   cmd_port: 0, expvar_port: 0, dogstatsd_port: 0,
 * };
 * const intake = buildIntake(intakeSettings(base), { runtime });
 * await intake.component.start();
 * const config = pointAtIntake(base, intake.component.url);
 * const agent = await buildAgent({
 *   runtime, config, configFile: null, logger: createLogger({ level: "off" }), intake,
 * });
 * await agent.start();
 * // The checks load in the background: healthy once they all are.
 * for (let i = 0; i < 200 && agent.health().Unhealthy.length > 0; i++) {
 *   await new Promise((r) => setTimeout(r, 10));
 * }
 * assert.deepEqual(agent.health().Unhealthy, []);
 * await agent.stop();
 * await intake.component.stop();
 * rmSync(run, { recursive: true });
 * ```
 *
 * @module
 */

/**
 * Builds the agent from a validated config: the forwarder, aggregator, DogStatsD server, API,
 * expvar and host metadata sender, in their order of start (see ARCHITECTURE.md). `start()`
 * starts them, `stop()` stops them in reverse, `health()` reports each one.
 *
 * @example Build an agent without starting it
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { buildAgent, configDefaults, createLogger, runtime } from "./mod.ts";
 * const run = mkdtempSync(join(tmpdir(), "outpost-embed-"));
 * const config = { ...configDefaults(), api_key: "0".repeat(32), hostname: "edge-1", run_path: run };
 * const agent = await buildAgent({
 *   runtime, config, configFile: null, logger: createLogger({ level: "off" }),
 * });
 * // Nothing runs until start(): every component is reported unhealthy.
 * assert.deepEqual(agent.health().Healthy, []);
 * rmSync(run, { recursive: true });
 * ```
 */
export { Agent, type AgentContext, buildAgent } from "./src/agent.ts";

/**
 * The configuration: `loadConfig` reads `datadog.yaml` and `DD_*` variables as the agent does;
 * `configDefaults()` is every key at its default.
 *
 * @example Load a config from the environment only
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfig, runtime } from "./mod.ts";
 * const { config } = await loadConfig(runtime, {
 *   searchPaths: [], env: { DD_API_KEY: "k", DD_DOGSTATSD_PORT: "8126" },
 * });
 * assert.equal(config.dogstatsd_port, 8126);
 * ```
 */
export { type Config, configDefaults, ConfigError, loadConfig } from "./src/config/mod.ts";

/**
 * The runtime adapter of the process (Bun or Deno) and the logger every component writes to.
 *
 * @example
 * ```ts
 * import { createLogger, runtime } from "./mod.ts";
 * createLogger({ level: "info" }).for("embed").info(`running on ${runtime.name}`);
 * ```
 */
export { runtime } from "./src/runtime/mod.ts";
export { createLogger, type Logger } from "./src/log/mod.ts";

/**
 * The DogStatsD parser: bytes of one packet in; samples, events and service checks out. It
 * never throws: a bad line is counted by reason in the registry and skipped.
 *
 * @example Parse a packet with a good and a bad line
 * ```ts
 * import assert from "node:assert/strict";
 * import { DogStatsDParser, type ParsedItems, Registry } from "./mod.ts";
 * const parser = new DogStatsDParser(new Registry(), { extraTags: ["site:edge"] });
 * const out: ParsedItems = { samples: [], events: [], serviceChecks: [] };
 * parser.parsePacket(new TextEncoder().encode("door.open:1|c|#room:a\nnot a metric\n"), out);
 * assert.equal(out.samples.length, 1); // the bad line is counted and skipped
 * assert.deepEqual(out.samples[0].tags, ["room:a", "site:edge"]);
 * ```
 */
export { DogStatsDParser, type ParsedItems, type ParserOptions } from "./src/dogstatsd/mod.ts";
export { Registry } from "./src/telemetry/mod.ts";

/**
 * The local intake: an HTTP server that accepts what the agent sends to Datadog, decodes and
 * stores it, and answers queries (`/outpost/intake/series`, `…/stats`).
 *
 * @example Start an intake and read its stats
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { buildIntake, runtime } from "./mod.ts";
 * const dataDir = mkdtempSync(join(tmpdir(), "outpost-intake-"));
 * const { component: intake } = buildIntake({ dataDir }, { runtime });
 * await intake.start();
 * const stats = await (await fetch(`${intake.url}/outpost/intake/stats`)).json();
 * assert.equal(stats.store.records, 0);
 * await intake.stop();
 * rmSync(dataDir, { recursive: true });
 * ```
 */
export {
  buildIntake,
  type IntakeComponent,
  type IntakeSettings,
  intakeSettings,
  pointAtIntake,
} from "./src/intake/mod.ts";
