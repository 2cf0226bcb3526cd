/**
 * The `disk` check (the Datadog Agent's Python `disk` check, in TS): usage and inodes of each
 * mounted filesystem in kB, plus per-device read/write time from `/proc/diskstats`.
 */
import { readdirSync, readlinkSync } from "node:fs";
import { statfs as statfsAsync } from "node:fs/promises";
import { basename, join, relative, resolve } from "node:path";
import { SystemCheck, type SystemCheckContext } from "./_base.ts";
import { fields } from "./_proc.ts";
import { matchesFromStart, type Options } from "./_options.ts";
import { parseDiskstats } from "./_io.ts";

/** The `statfs(2)` numbers the check uses (node:fs `StatsFs`). */
export interface StatFs {
  /** Fragment size, the unit of the block counts; `bsize` where the runtime has no `frsize`. */
  bsize: number;
  frsize?: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
}

/** `statfs` of a mount point. */
export type StatFsFn = (path: string) => Promise<StatFs>;

/** node:fs `statfs` (present in both Bun and Deno). */
export const defaultStatFs: StatFsFn = (path) => statfsAsync(path) as Promise<StatFs>;

/** One line of the mount table. */
export interface Mount {
  device: string;
  mountPoint: string;
  fsType: string;
  options: string[];
}

/** Undoes the octal escapes (`\040` for a space) of the mount table. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parses `/proc/self/mounts`. */
export function parseMounts(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split("\n")) {
    const f = fields(line);
    if (f.length < 4) continue;
    out.push({
      device: unescapeMount(f[0]!),
      mountPoint: unescapeMount(f[1]!),
      fsType: f[2]!,
      options: f[3]!.split(","),
    });
  }
  return out;
}

/**
 * The usage gauges of one filesystem, as psutil's `disk_usage` and the disk check compute
 * them: kB, the percent of the space non-root users can reach (rounded to 1 decimal), inodes.
 * @example Usage of a 1000-block filesystem
 * ```ts
 * import { diskGauges } from "./_disk.ts";
 * const g = diskGauges({ bsize: 4096, blocks: 1000, bfree: 500, bavail: 400, files: 0, ffree: 0 });
 * // g["system.disk.total"] === 4000, g["system.disk.used"] === 2000, g["system.disk.free"] === 1600
 * ```
 */
export function diskGauges(st: StatFs): Record<string, number> {
  const unit = st.frsize || st.bsize;
  const total = st.blocks * unit;
  const used = (st.blocks - st.bfree) * unit;
  const free = st.bavail * unit;
  const reachable = used + free;
  const percent = reachable > 0 ? Math.round(used / reachable * 100 * 10) / 10 : 0;
  const g: Record<string, number> = {
    "system.disk.total": total / 1024,
    "system.disk.used": used / 1024,
    "system.disk.free": free / 1024,
    "system.disk.utilized": percent,
    "system.disk.in_use": percent / 100,
  };
  if (st.files !== 0) {
    const iused = st.files - st.ffree;
    g["system.fs.inodes.total"] = st.files;
    g["system.fs.inodes.used"] = iused;
    g["system.fs.inodes.free"] = st.ffree;
    g["system.fs.inodes.utilized"] = iused / st.files * 100;
    g["system.fs.inodes.in_use"] = iused / st.files;
  }
  return g;
}

/** Excluded unless init_config sets its own `*_global_exclude` list (old name `*_global_blacklist`). */
const GLOBAL_EXCLUDES = {
  file_system: ["iso9660$", "tracefs$"],
  device: [] as string[],
  mount_point: ["(/host)?/proc/sys/fs/binfmt_misc$"],
};

/** Options of the disk check. */
interface DiskSettings {
  fsExclude: RegExp[];
  fsInclude: RegExp[];
  mountExclude: RegExp[];
  mountInclude: RegExp[];
  deviceExclude: RegExp[];
  deviceInclude: RegExp[];
  tagByFilesystem: boolean;
  tagByLabel: boolean;
  serviceCheckRw: boolean;
  includeAllDevices: boolean;
  allPartitions: boolean;
  useMount: boolean;
  lowercaseDeviceTag: boolean;
  /** Bytes; filesystems of this size or smaller are skipped. */
  minDiskSize: number;
  deviceTagRe: Array<{ re: RegExp; tags: string[] }>;
  timeoutMs: number;
  devDir: string;
}

/**
 * The patterns of one filter: the new key or its old name, the global defaults (or their
 * init_config override) and, for excludes, the oldest keys (`excluded_*`).
 */
function patterns(
  options: Options,
  keys: string[],
  { global, extra = [], flags = "" }: { global?: string[]; extra?: RegExp[]; flags?: string } = {},
): RegExp[] {
  const own = options.regexes(...keys);
  const globals = global === undefined ? [] : (() => {
    const kind = keys[0]!.replace(/_(exclude|include)$/, "");
    const set = options.initStrings(`${kind}_global_exclude`, `${kind}_global_blacklist`);
    return (set ?? global).map((p) => options.compile(`${kind}_global_exclude`, p));
  })();
  return [...own, ...globals, ...extra].filter((r) => r.source !== "(?:)")
    .map((r) => flags ? new RegExp(r.source, flags) : r);
}

/** The `disk` check. */
export class DiskCheck extends SystemCheck {
  readonly #o: DiskSettings;
  readonly #statfs: StatFsFn;
  /**
   * Mount points whose statfs has not returned yet. Each hung call holds one of the runtime's
   * few file-system threads, so a dead network mount is not asked again until it answers.
   */
  readonly #pending = new Set<string>();

  constructor(ctx: SystemCheckContext, options: Options, statfs: StatFsFn, devDir = "/dev") {
    super(ctx);
    this.#statfs = statfs;
    // The oldest names: lists of whole names (`$` appended) and single patterns.
    const suffixed = (key: string) =>
      options.strings(key).filter((p) => p !== "").map((p) => options.compile(key, `${p}$`));
    const single = (key: string) => {
      const re = options.regex(key);
      return re ? [re] : [];
    };
    this.#o = {
      fsExclude: patterns(options, ["file_system_exclude", "file_system_blacklist"], {
        global: GLOBAL_EXCLUDES.file_system,
        extra: suffixed("excluded_filesystems"),
        flags: "i",
      }),
      fsInclude: patterns(options, ["file_system_include", "file_system_whitelist"], {
        flags: "i",
      }),
      mountExclude: patterns(options, ["mount_point_exclude", "mount_point_blacklist"], {
        global: GLOBAL_EXCLUDES.mount_point,
        extra: single("excluded_mountpoint_re"),
      }),
      mountInclude: patterns(options, ["mount_point_include", "mount_point_whitelist"]),
      deviceExclude: patterns(options, ["device_exclude", "device_blacklist"], {
        global: GLOBAL_EXCLUDES.device,
        extra: [...suffixed("excluded_disks"), ...single("excluded_disk_re")],
      }),
      deviceInclude: patterns(options, ["device_include", "device_whitelist"]),
      tagByFilesystem: options.bool("tag_by_filesystem", false),
      tagByLabel: options.bool("tag_by_label", true),
      serviceCheckRw: options.bool("service_check_rw", false),
      includeAllDevices: options.bool("include_all_devices", true),
      allPartitions: options.bool("all_partitions", false),
      useMount: options.bool("use_mount", false),
      lowercaseDeviceTag: options.bool("lowercase_device_tag", false),
      minDiskSize: options.number("min_disk_size", 0, { min: 0 }) * 1024 * 1024,
      deviceTagRe: parseDeviceTagRe(options.deviceTagRe()),
      timeoutMs: options.number("timeout", 5, { min: 0 }) * 1000,
      devDir,
    };
  }

  #excluded(m: Mount, nodev: Set<string>): boolean {
    const o = this.#o;
    if (!o.includeAllDevices && nodev.has(m.fsType)) return true;
    const device = m.device === "" || m.device === "none" ? undefined : m.device;
    if (device === undefined && !o.allPartitions) return true;
    // NFS secure mounts can read `/path (deleted)`: the Python check drops the last word
    // after a blank (which also cuts a mount point that has a blank in it; kept for parity).
    const blank = m.mountPoint.lastIndexOf(" ");
    const mountPoint = blank < 0 ? m.mountPoint : m.mountPoint.slice(0, blank);
    if (matchesFromStart(o.fsExclude, m.fsType) || matchesFromStart(o.mountExclude, mountPoint)) {
      return true;
    }
    if (device !== undefined && matchesFromStart(o.deviceExclude, device)) return true;
    if (o.fsInclude.length && !matchesFromStart(o.fsInclude, m.fsType)) return true;
    if (o.mountInclude.length && !matchesFromStart(o.mountInclude, mountPoint)) return true;
    if (
      o.deviceInclude.length && (device === undefined || !matchesFromStart(o.deviceInclude, device))
    ) {
      return true;
    }
    return false;
  }

  #deviceTags(device: string): string[] {
    const tags: string[] = [];
    for (const { re, tags: t } of this.#o.deviceTagRe) {
      if (matchesFromStart([re], device)) tags.push(...t);
    }
    return tags;
  }

  #track(mountPoint: string): Promise<StatFs> {
    this.#pending.add(mountPoint);
    const call = this.#statfs(mountPoint);
    call.then(() => this.#pending.delete(mountPoint), () => this.#pending.delete(mountPoint));
    return call;
  }

  #deviceTag(device: string): string {
    return this.#o.lowercaseDeviceTag ? device.toLowerCase() : device;
  }

  /** Device path → `label:` and `device_label:` tags, from the `/dev/disk/by-label` links. */
  #labels(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    if (!this.#o.tagByLabel) return out;
    const dir = join(this.#o.devDir, "disk", "by-label");
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return out;
    }
    for (const name of names) {
      try {
        // udev escapes blanks and slashes in link names as `\xNN`.
        const label = name.replace(
          /\\x([0-9a-f]{2})/gi,
          (_, h: string) => String.fromCharCode(parseInt(h, 16)),
        );
        // Keyed by the device path as the mount table names it, whatever devDir is.
        const target = relative(this.#o.devDir, resolve(dir, readlinkSync(join(dir, name))));
        out.set(`/dev/${target}`, [`label:${label}`, `device_label:${label}`]);
      } catch {
        // Not a link: it names no device.
      }
    }
    return out;
  }

  protected async collect(signal: AbortSignal): Promise<void> {
    const o = this.#o;
    const s = this.sender;
    const nodev = new Set(
      (this.proc.tryRead("filesystems") ?? "").split("\n")
        .filter((l) => l.startsWith("nodev")).map((l) => fields(l)[1]!),
    );
    const labels = this.#labels();
    for (const m of parseMounts(this.proc.read("self/mounts"))) {
      if (signal.aborted) return;
      if (this.#excluded(m, nodev)) continue;
      if (this.#pending.has(m.mountPoint)) {
        this.warn(`Skipping ${m.mountPoint}: its last statfs has not returned yet`);
        continue;
      }
      let st: StatFs;
      try {
        st = await withTimeout(this.#track(m.mountPoint), o.timeoutMs, m.mountPoint);
      } catch (error) {
        this.warn(`Unable to get disk metrics for ${m.mountPoint}: ${(error as Error).message}`);
        continue;
      }
      if (st.blocks * (st.frsize || st.bsize) <= o.minDiskSize) continue;
      const device = o.useMount ? m.mountPoint : m.device;
      // The Python check also adds the bare filesystem type as a tag.
      const tags = o.tagByFilesystem ? [m.fsType, `filesystem:${m.fsType}`] : [];
      tags.push(...this.#deviceTags(device), ...labels.get(m.device) ?? []);
      tags.push(`device:${this.#deviceTag(device)}`, `device_name:${basename(m.device)}`);
      for (const [name, value] of Object.entries(diskGauges(st))) {
        s.metric("gauge", name, value, tags);
      }
      if (o.serviceCheckRw) {
        const rwro = m.options.filter((x) => x === "rw" || x === "ro");
        const status = rwro.length !== 1 ? 3 : rwro[0] === "rw" ? 0 : 2;
        s.serviceCheck("disk.read_write", status, tags);
      }
    }
    const diskstats = this.proc.tryRead("diskstats");
    if (diskstats === undefined) return;
    for (const [name, st] of parseDiskstats(diskstats)) {
      const tags = [
        ...this.#deviceTags(name),
        `device:${this.#deviceTag(name)}`,
        `device_name:${basename(name)}`,
      ];
      s.metric("monotonic_count", "system.disk.read_time", st.readMs, tags);
      s.metric("monotonic_count", "system.disk.write_time", st.writeMs, tags);
      s.metric("rate", "system.disk.read_time_pct", st.readMs * 100 / 1000, tags);
      s.metric("rate", "system.disk.write_time_pct", st.writeMs * 100 / 1000, tags);
    }
  }
}

/** `device_tag_re`: `{ <regex>: "k:v,k2:v2" }`. */
function parseDeviceTagRe(raw: Record<string, string>): Array<{ re: RegExp; tags: string[] }> {
  return Object.entries(raw).map(([pattern, tags]) => ({
    re: new RegExp(pattern),
    tags: tags.split(",").map((t) => t.trim()).filter((t) => t !== ""),
  }));
}

/** Rejects when `p` takes longer than `ms` (a hung network mount must not stall the check). */
function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  if (ms <= 0) return p;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`statfs of ${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
