/**
 * The embedded local intake: an HTTP server that accepts every route the agent sends to,
 * decompresses and decodes each payload (protobuf and JSON), stores it decoded as JSON lines
 * under a byte cap, answers queries about what arrived, and fails on purpose when told to.
 * `outpost intake` runs it alone; `outpost run --dev` starts it in the agent's process.
 *
 * @module
 */
import type { Runtime } from "../runtime/types.ts";
import type { Component } from "../component.ts";
import type { Registry } from "../telemetry/mod.ts";
import { createIntakeApp } from "./_app.ts";
import { FaultQueue } from "./_faults.ts";
import { IntakeStore } from "./_store.ts";

export { createIntakeApp, DATA_ROUTES, type IntakeAppOptions, maskApiKey } from "./_app.ts";
export { type Fault, FaultQueue, faultSchema } from "./_faults.ts";
export { IntakeStore, type StoredRecord, type StoreOptions, type StoreStats } from "./_store.ts";
export { DEV_API_KEY, devIntakeSettings, pointAtIntake, wantsDevIntake } from "./_dev.ts";
export { decodeMetricPayload, decodeSketchPayload, ProtobufError } from "./_protobuf.ts";

/** Settings of {@linkcode intakeComponent}. */
export interface IntakeSettings {
  /** @default "127.0.0.1" */
  host?: string;
  /** 0 picks a free port. @default 0 */
  port?: number;
  /** Directory of the stored payloads. */
  dataDir: string;
  /** Byte cap of the stored payloads. @default 64 MiB */
  maxBytes?: number;
  /** Valid API keys; empty accepts any. @default [] */
  apiKeys?: string[];
  /** @default a new registry */
  registry?: Registry;
}

/** The intake as a component; `url` is its base URL once started. */
export interface IntakeComponent extends Component {
  readonly port: number;
  readonly url: string;
}

/**
 * The intake as an agent component.
 *
 * @example Start on a free port
 * ```ts
 * import { mkdtempSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { runtime } from "../runtime/mod.ts";
 * import { intakeComponent } from "./mod.ts";
 * const intake = intakeComponent(runtime, { dataDir: mkdtempSync(join(tmpdir(), "intake-")) });
 * await intake.start();
 * console.log(intake.url); // http://127.0.0.1:<port>
 * await intake.stop();
 * ```
 */
export function intakeComponent(runtime: Runtime, settings: IntakeSettings): IntakeComponent {
  const host = settings.host ?? "127.0.0.1";
  let server: Awaited<ReturnType<Runtime["serve"]>> | undefined;
  return {
    name: "intake",
    async start() {
      // `outpost run --dev` starts the intake before the agent to learn its URL; the agent's
      // own start then finds it running.
      if (server) return;
      const store = new IntakeStore({ dir: settings.dataDir, maxBytes: settings.maxBytes });
      const app = createIntakeApp({
        runtime,
        store,
        apiKeys: settings.apiKeys,
        faults: new FaultQueue(),
        registry: settings.registry,
      });
      server = await runtime.serve({ hostname: host, port: settings.port ?? 0 }, app.fetch, {
        allowDrop: true,
      });
    },
    async stop() {
      await server?.close();
      server = undefined;
    },
    healthy: () => server !== undefined,
    get port() {
      return server?.port ?? 0;
    },
    get url() {
      const h = host.includes(":") ? `[${host}]` : host;
      return `http://${h}:${server?.port ?? 0}`;
    },
  };
}
