import * as v from "valibot";
import { resolve } from "node:path";
import { type Command, UsageError } from "./_command.ts";
import { runtime } from "../src/runtime/mod.ts";
import { buildIntake } from "../src/intake/mod.ts";
import { size } from "../src/config/_kinds.ts";
import { configDefaults } from "../src/config/mod.ts";

/** Where `outpost intake` stores payloads unless told otherwise: beside the working directory. */
const DEFAULT_DATA_DIR = ".outpost/intake";

export const intake: Command = {
  name: "intake",
  usage: [
    "outpost intake [--host HOST] [--port PORT] [--data-dir DIR] [--max-bytes N] [--api-key KEY]...",
    "",
    "  --host HOST       address to listen on (default: 127.0.0.1)",
    "  --port PORT       TCP port, 0 for a free one (default: 8080)",
    `  --data-dir DIR    where payloads are stored as JSON lines (default: ./${DEFAULT_DATA_DIR})`,
    "  --max-bytes N     byte cap of the stored files, e.g. 64mb; oldest removed first (default: 64mb)",
    "  --api-key KEY     an accepted API key (repeatable); without one, any key is accepted",
    "",
    "Queries: GET /outpost/intake/{series,sketches,check_runs,events,payloads,flares,stats}",
    "Faults:  POST /outpost/intake/faults, DELETE /outpost/intake/faults",
  ].join("\n"),
  flags: {
    host: { type: "string" },
    port: { type: "string" },
    "data-dir": { type: "string" },
    "max-bytes": { type: "string" },
    "api-key": { type: "string", multiple: true },
  },
  async main(values) {
    const port = Number(values.port ?? 8080);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new UsageError(`Cannot parse flag "--port": expected an integer from 0 to 65535`);
    }
    const maxBytes = v.safeParse(
      size(configDefaults().local_intake.max_bytes),
      values["max-bytes"],
    );
    if (!maxBytes.success) {
      throw new UsageError(`Cannot parse flag "--max-bytes": ${maxBytes.issues[0].message}`);
    }
    const dataDir = resolve((values["data-dir"] as string | undefined) ?? DEFAULT_DATA_DIR);
    const { component: server } = buildIntake({
      host: values.host as string | undefined,
      port,
      dataDir,
      maxBytes: maxBytes.output,
      apiKeys: values["api-key"] as string[] | undefined,
    }, { runtime });
    try {
      await server.start();
    } catch (e) {
      console.error(`Cannot start the intake: ${(e as Error).message}`);
      return 1;
    }
    console.log(
      `Outpost intake listening on ${server.url} (data: ${dataDir}, cap ${maxBytes.output} bytes)`,
    );
    const { promise: stopped, resolve: stop } = Promise.withResolvers<void>();
    const offs = (["SIGTERM", "SIGINT"] as const).map((s) => runtime.onSignal(s, () => stop()));
    await stopped;
    for (const off of offs) off();
    await server.stop();
    return 0;
  },
};
