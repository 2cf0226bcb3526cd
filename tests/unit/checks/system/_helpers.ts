/** Test fixtures for the system checks: a recording Sender, a CheckHost, configs, fixture trees. */
import { cpSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type {
  CheckConfig,
  CheckEvent,
  CheckHost,
  CheckMetricType,
  InstanceConfig,
  Sender,
  ServiceCheckStatus,
} from "../../../../src/checks/_types.ts";
import { configDefaults } from "../../../../src/config/mod.ts";
import type { Log } from "../../../../src/log/mod.ts";

/** One metric submission. */
export interface Sample {
  type: CheckMetricType;
  name: string;
  value: number;
  tags: string[];
}

/** One service check submission. */
export interface ServiceCheckSample {
  name: string;
  status: ServiceCheckStatus;
  tags: string[];
  message?: string;
}

/** A Sender that records what it is given; `take()` returns and clears one run's submissions. */
export class RecordingSender implements Sender {
  samples: Sample[] = [];
  serviceChecks: ServiceCheckSample[] = [];
  events: CheckEvent[] = [];

  metric(type: CheckMetricType, name: string, value: number, tags: readonly string[] = []): void {
    this.samples.push({ type, name, value, tags: [...tags] });
  }
  histogramBucket(): void {
    throw new Error("system checks send no histogram buckets");
  }
  serviceCheck(
    name: string,
    status: ServiceCheckStatus,
    tags: readonly string[] = [],
    _hostname?: string,
    message?: string,
  ): void {
    this.serviceChecks.push({ name, status, tags: [...tags], message });
  }
  event(event: CheckEvent): void {
    this.events.push(event);
  }
  eventPlatformEvent(): void {}
  setMetadata(): void {}

  /** The samples of `name` (with `tag` among their tags, when given). */
  find(name: string, tag?: string): Sample[] {
    return this.samples.filter((s) =>
      s.name === name && (tag === undefined || s.tags.includes(tag))
    );
  }
  /** The single sample of `name` (and `tag`); throws unless there is exactly one. */
  one(name: string, tag?: string): Sample {
    const found = this.find(name, tag);
    if (found.length !== 1) {
      throw new Error(`expected one ${name}${tag ? ` {${tag}}` : ""}, got ${found.length}`);
    }
    return found[0]!;
  }
  /** name → value of the samples with `tag` (or all samples). */
  values(tag?: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.samples) {
      if (tag === undefined || s.tags.includes(tag)) out[s.name] = s.value;
    }
    return out;
  }
  clear(): void {
    this.samples = [];
    this.serviceChecks = [];
    this.events = [];
  }
}

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
