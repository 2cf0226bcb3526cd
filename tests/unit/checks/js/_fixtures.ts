/** A recording Sender, a CheckHost around it, and check files written on the fly. */
import { utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { CheckConfig, CheckHost, InstanceConfig } from "../../../../src/checks/_types.ts";
import { configDefaults } from "../../../../src/config/mod.ts";
import { createLogger } from "../../../../src/log/mod.ts";
import { directFetch, type HttpClient } from "../../../../src/http/mod.ts";
import { runtime } from "../../../../src/runtime/mod.ts";
import { RecordingSender } from "../_recording_sender.ts";

export { RecordingSender, type Submission } from "../_recording_sender.ts";

/** A host whose senders record, with its checks.d and run_path in `dir`. */
export function fakeHost(
  dir: string,
  { http, checksdPaths }: { http?: HttpClient; checksdPaths?: string[] } = {},
) {
  const senders = new Map<string, RecordingSender>();
  const logs: string[] = [];
  const logger = createLogger({ level: "trace", write: (line) => logs.push(line) });
  const host: CheckHost = {
    runtime,
    config: { ...configDefaults(), run_path: join(dir, "run"), api_key: "k" },
    hostname: "test-host",
    agentVersion: "7.99.0",
    checksdPaths: checksdPaths ?? [dir],
    log: (name) => logger.for(`check:${name}`),
    http: http ?? { clientFor: () => ({}), fetch: directFetch, timeoutMs: 5000 },
    senderFor(id) {
      let s = senders.get(id);
      if (!s) senders.set(id, s = new RecordingSender());
      return s;
    },
  };
  return { host, senders, logs, sender: (id: string) => host.senderFor(id) as RecordingSender };
}

/** The URL of the base class module, so fixtures work without `outpost:checks` (Deno). */
export const AGENT_CHECK_URL =
  pathToFileURL(join(import.meta.dirname!, "../../../../src/checks/js/agent_check.ts")).href;

let stamp = 1_700_000_000;

/**
 * Writes `<dir>/<name><ext>` with the import of AgentCheck prepended, and gives it a fresh
 * mtime, so a rewrite within the same millisecond still counts as an edit.
 */
export function writeCheck(dir: string, file: string, body: string): string {
  const path = join(dir, file);
  writeFileSync(path, `import { AgentCheck } from ${JSON.stringify(AGENT_CHECK_URL)};\n${body}`);
  stamp += 10;
  utimesSync(path, stamp, stamp);
  return path;
}

/** A one-instance config of check `name`, as confd would give it. */
export function checkConfig(
  name: string,
  raw: Record<string, unknown> = {},
  initConfig: Record<string, unknown> = {},
): { config: CheckConfig; instance: InstanceConfig } {
  const instance: InstanceConfig = {
    index: 0,
    id: `${name}:0123456789abcdef`,
    raw,
    bytes: "",
    tags: [],
    emptyDefaultHostname: false,
    minCollectionInterval: typeof raw.min_collection_interval === "number"
      ? raw.min_collection_interval
      : undefined,
  };
  const config: CheckConfig = {
    name,
    source: `file:/conf.d/${name}.d/conf.yaml`,
    provider: "file",
    initConfig,
    initConfigBytes: "",
    instances: [instance],
    logs: null,
    isDefault: false,
    digest: "0000000000000000",
  };
  return { config, instance };
}

/** A signal that never aborts. */
export const never = (): AbortSignal => new AbortController().signal;
