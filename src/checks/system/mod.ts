/**
 * The built-in system checks (the Datadog Agent's Go core checks, in TS): cpu, load, memory,
 * uptime, io, disk, network, file_handle and ntp, read from `procfs_path`.
 *
 * @module
 */
import type { Check, CheckConfig, CheckHost, InstanceConfig, Loader } from "../_types.ts";
import { DEFAULT_CHECK_INTERVAL_S } from "../_types.ts";
import { CORE_LOADER_NAME, type SystemCheck, type SystemCheckContext } from "./_base.ts";
import { Options } from "./_options.ts";
import { ProcFs } from "./_proc.ts";
import { CpuCheck } from "./_cpu.ts";
import { LoadCheck } from "./_load.ts";
import { MemoryCheck } from "./_memory.ts";
import { UptimeCheck } from "./_uptime.ts";
import { IoCheck } from "./_io.ts";
import { defaultStatFs, DiskCheck, type StatFs, type StatFsFn } from "./_disk.ts";
import { NetworkCheck } from "./_network.ts";
import { FileHandleCheck } from "./_file_handle.ts";
import { LOCAL_NTP_CONF_PATHS, NtpCheck } from "./_ntp.ts";

export { SYSTEM_DEFAULTS } from "./_defaults.ts";
export type { StatFs, StatFsFn };

/** Seconds between ntp runs when the config sets no `min_collection_interval`. */
const NTP_INTERVAL_S = 900;

/** Options of {@linkcode createSystemLoader}; tests replace the clock and the OS calls. */
export interface SystemLoaderOptions {
  /** Wall clock in Unix milliseconds (ntp). @default Date.now */
  now?: () => number;
  /** Monotonic milliseconds (the io check's time between runs). @default performance.now */
  monotonic?: () => number;
  /** `statfs` of a mount point (disk). @default node:fs/promises `statfs` */
  statfs?: StatFsFn;
  /** Where `disk/by-label` is looked up (disk labels). @default "/dev" */
  devDir?: string;
  /** The ntpd/chrony configs `use_local_defined_servers` reads. @default the usual /etc paths */
  ntpConfPaths?: string[];
}

type Build = (ctx: SystemCheckContext, options: Options, o: SystemLoaderOptions) => SystemCheck;

const CHECKS: Record<string, Build> = {
  cpu: (ctx, opts) => new CpuCheck(ctx, opts),
  load: (ctx) => new LoadCheck(ctx),
  memory: (ctx) => new MemoryCheck(ctx),
  uptime: (ctx) => new UptimeCheck(ctx),
  io: (ctx, opts) => new IoCheck(ctx, opts),
  disk: (ctx, opts, o) => new DiskCheck(ctx, opts, o.statfs ?? defaultStatFs, o.devDir),
  network: (ctx, opts) => new NetworkCheck(ctx, opts),
  file_handle: (ctx) => new FileHandleCheck(ctx),
  ntp: (ctx, opts, o) => new NtpCheck(ctx, opts, o.ntpConfPaths ?? LOCAL_NTP_CONF_PATHS),
};

/**
 * The "Core Check Loader" (key `core`, priority 30): builds the built-in check a config names,
 * and returns null for any other name. A bad option throws, naming the key.
 *
 * @example Load and run the uptime check
 * ```ts
 * import { createSystemLoader, SYSTEM_DEFAULTS } from "./mod.ts";
 * import type { CheckConfig, CheckHost, Sender } from "../_types.ts";
 * const seen: string[] = [];
 * const sender = { metric: (_t: string, name: string) => seen.push(name) } as unknown as Sender;
 * const host = { config: { procfs_path: "/proc" }, senderFor: () => sender } as unknown as CheckHost;
 * const instance = { index: 0, id: "uptime:c72f390abdefdf1a", raw: {}, bytes: "{}\n", tags: [],
 *   emptyDefaultHostname: false };
 * const config = { name: "uptime", source: "file:default", provider: "file", initConfig: {},
 *   initConfigBytes: "", instances: [instance], logs: null, isDefault: true, digest: "0" };
 * const check = await createSystemLoader().load(config as CheckConfig, instance, host);
 * await check!.run(new AbortController().signal);
 * // check.id === "uptime", seen includes "system.uptime" on Linux
 * void SYSTEM_DEFAULTS;
 * ```
 */
export function createSystemLoader(options: SystemLoaderOptions = {}): Loader {
  const now = options.now ?? Date.now;
  const monotonic = options.monotonic ?? (() => performance.now());
  return {
    name: CORE_LOADER_NAME,
    key: "core",
    priority: 30,
    async load(
      config: CheckConfig,
      instance: InstanceConfig,
      host: CheckHost,
    ): Promise<Check | null> {
      const build = Object.hasOwn(CHECKS, config.name) ? CHECKS[config.name] : undefined;
      if (!build) return null;
      const name = config.name;
      // Single-instance core checks keep the bare name as ID; ntp always hashes (spec §2.3).
      const id = name !== "ntp" && config.instances.length === 1 ? name : instance.id;
      const ctx: SystemCheckContext = {
        name,
        id,
        source: config.source,
        intervalS: instance.minCollectionInterval ??
          (name === "ntp" ? NTP_INTERVAL_S : DEFAULT_CHECK_INTERVAL_S),
        sender: () => host.senderFor(id),
        proc: new ProcFs(host.config.procfs_path || "/proc"),
        now,
        monotonic,
      };
      const check = build(ctx, new Options(name, instance.raw, config.initConfig), options);
      // The sender is made only once the options were accepted.
      void check.sender;
      return check;
    },
  };
}
