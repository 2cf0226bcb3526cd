/** Test fixtures for the system checks: a recording Sender, a CheckHost, configs, fixture trees. */
import { cpSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CheckConfig, CheckHost, InstanceConfig } from "../../../../src/checks/_types.ts";
import { configDefaults } from "../../../../src/config/mod.ts";
import type { Log } from "../../../../src/log/mod.ts";
import { RecordingSender } from "../_recording_sender.ts";

export { RecordingSender, type Sample } from "../_recording_sender.ts";

const silent: Log = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  critical() {},
  enabled: () => false,
};

/** A CheckHost whose senders are recorded per check ID. */
export function fakeHost(
  procfsPath: string,
): CheckHost & { senders: Map<string, RecordingSender> } {
  const senders = new Map<string, RecordingSender>();
  return {
    runtime: undefined as never,
    config: { ...configDefaults(), procfs_path: procfsPath },
    hostname: "test-host",
    agentVersion: "7.60.0",
    checksdPaths: [],
    log: () => silent,
    http: undefined as never,
    senderFor(id: string) {
      let s = senders.get(id);
      if (!s) senders.set(id, s = new RecordingSender());
      return s;
    },
    senders,
  };
}

/** A config of `name` with the given instances (IDs are made up: `<name>:<index>hash`). */
export function configFor(
  name: string,
  instances: Array<Record<string, unknown>> = [{}],
  initConfig: Record<string, unknown> = {},
): CheckConfig {
  const list: InstanceConfig[] = instances.map((raw, index) => ({
    index,
    id: `${name}:${index}abc`,
    raw,
    bytes: "{}\n",
    tags: [],
    emptyDefaultHostname: false,
    minCollectionInterval: typeof raw.min_collection_interval === "number" &&
        raw.min_collection_interval > 0
      ? raw.min_collection_interval
      : undefined,
  }));
  return {
    name,
    source: `file:/etc/outpost/conf.d/${name}.d/conf.yaml`,
    provider: "file",
    initConfig,
    initConfigBytes: "",
    instances: list,
    logs: null,
    isDefault: false,
    digest: "0000000000000000",
  };
}

/** tests/fixtures/proc/<moment>. */
export function fixtureProc(moment: "t0" | "t1"): string {
  return join(dirname(fileURLToPath(import.meta.url)), "../../../fixtures/proc", moment);
}

/** Copies fixture moment `moment` over the tree at `dir` (a check's procfs_path between runs). */
export function useMoment(dir: string, moment: "t0" | "t1"): void {
  mkdirSync(dir, { recursive: true });
  cpSync(fixtureProc(moment), dir, { recursive: true });
}

/** A never-aborted signal. */
export const NO_ABORT: AbortSignal = new AbortController().signal;
