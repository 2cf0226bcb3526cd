/**
 * The embedded local intake: an HTTP server that accepts every route the agent sends to and the
 * public API's submission routes, refuses a request without an API key as Datadog does,
 * decompresses and decodes each payload (protobuf and JSON), stores it decoded in SQLite
 * under a byte cap, answers queries about what arrived, and fails on purpose when told to.
 * `outpost intake` runs it alone; `outpost run --dev` starts it in the agent's process.
 *
 * @module
 */
import type { Runtime } from "../runtime/types.ts";
import type { Built, Component } from "../component.ts";
import { configDefaults } from "../config/mod.ts";
import type { Registry } from "../telemetry/mod.ts";
import { createIntakeApp } from "./_app.ts";
import { FaultQueue } from "./_faults.ts";
import { IntakeStore } from "./_store.ts";

export { intakeSettings, pointAtIntake, wantsDevIntake } from "./_dev.ts";

/** Settings of the intake (see {@linkcode intakeSettings}); what is left out takes the `local_intake.*` default. */
export interface IntakeSettings {
  /** @default "127.0.0.1" */
  host?: string;
  /** 0 picks a free port. @default 0 */
  port?: number;
  /** Directory of the stored payloads. */
  dataDir: string;
  /** Byte cap of the stored payloads. @default 64 MiB */
  maxBytes?: number;
  /** Valid API keys; empty accepts any, but a request without a key gets 403. @default [] */
  apiKeys?: string[];
}

/** What the intake needs besides its settings. */
export interface IntakeDeps {
  runtime: Runtime;
  /** @default a new registry */
  registry?: Registry;
}

/** The intake as a component; `url` is its base URL once started. */
export interface IntakeComponent extends Component {
  readonly port: number;
  readonly url: string;
}

/**
 * Builds the intake server; it stores and serves nothing until started.
 *
 * @example Start on a free port
 * ```ts
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { runtime } from "../runtime/mod.ts";
 * import { buildIntake } from "./mod.ts";
 * const dataDir = mkdtempSync(join(tmpdir(), "intake-"));
 * const { component: intake } = buildIntake({ dataDir }, { runtime });
 * await intake.start();
 * console.log(intake.url); // http://127.0.0.1:<port>
 * await intake.stop();
 * rmSync(dataDir, { recursive: true });
 * ```
 */
export function buildIntake(settings: IntakeSettings, deps: IntakeDeps): Built<IntakeComponent> {
  const { runtime, registry } = deps;
  const defaults = configDefaults().local_intake;
  const host = settings.host ?? defaults.host;
  let server: Awaited<ReturnType<Runtime["serve"]>> | undefined;
  let store: IntakeStore | undefined;
  const component: IntakeComponent = {
    name: "intake",
    async start() {
      // `outpost run --dev` starts the intake before the agent to learn its URL; the agent's
      // own start then finds it running.
      if (server) return;
      store = new IntakeStore({
        dir: settings.dataDir,
        runtime,
        maxBytes: settings.maxBytes ?? defaults.max_bytes,
      });
      const app = createIntakeApp({
        runtime,
        store,
        apiKeys: settings.apiKeys ?? defaults.api_keys,
        faults: new FaultQueue(),
        registry,
      });
      server = await runtime.serve(
        { hostname: host, port: settings.port ?? defaults.port },
        app.fetch,
        { allowDrop: true },
      );
    },
    async stop() {
      await server?.close();
      server = undefined;
      store?.close();
      store = undefined;
    },
    get port() {
      return server?.port ?? 0;
    },
    get url() {
      const h = host.includes(":") ? `[${host}]` : host;
      return `http://${h}:${server?.port ?? 0}`;
    },
  };
  return { component, healthcheck: () => server !== undefined };
}
