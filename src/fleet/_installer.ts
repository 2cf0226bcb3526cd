/**
 * The installer: catalog, repositories, downloads and tasks behind one lock. The local API,
 * the CLI, pull mode and the supervisor all act through it.
 *
 * @module
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statfsSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import type { Runtime } from "../runtime/types.ts";
import type { Logger } from "../log/mod.ts";
import { type Catalog, findEntry, HOST_PLATFORM, parseCatalog } from "./_catalog.ts";
import { FleetError } from "./_errors.ts";
import { checkPackageName, checkVersionName, Repository } from "./_repository.ts";
import { type DownloadOptions, fetchPackage } from "./_download.ts";
import { FleetLock } from "./_lock.ts";
import { DEFAULT_MAX_ENTRIES } from "./_unpack.ts";
import {
  type FleetState,
  loadState,
  type PackageState,
  saveState,
  type Task,
  type WatchState,
} from "./_state.ts";
import type { RegistryAuth } from "./_oci.ts";
import { BUILD } from "../version.ts";

/** What changed in a package, told to the listener (the supervisor) inside the lock. */
export type ChangeEvent = "install" | "remove" | "experiment_start" | "experiment_stop" | "promote";

/** The default of `fleet.max_catalog_size`: thousands of entries. */
export const DEFAULT_MAX_CATALOG_BYTES = 4 * 1024 * 1024;

/** The error of a catalog over `maxBytes`, wherever it is noticed. */
export function catalogTooLarge(maxBytes: number): FleetError {
  return new FleetError(
    "too_large",
    `Catalog refused: it is over the cap of ${maxBytes} bytes (fleet.max_catalog_size)`,
  );
}

/** Options of {@linkcode Installer}. */
export interface InstallerOptions {
  runtime: Runtime;
  /** `fleet.root`. */
  root: string;
  logger: Logger;
  /** `fleet.catalog_public_key`; empty accepts unsigned catalogs. @default "" */
  publicKey?: string;
  /** `fleet.max_package_size`. @default 3 GiB */
  maxBytes?: number;
  /** `fleet.max_package_entries`. @default 10000 */
  maxEntries?: number;
  /** `fleet.max_catalog_size`: a larger catalog is refused, never stored. @default 4 MiB */
  maxCatalogBytes?: number;
  /** `fleet.file_roots`: where `file://` URLs may point. @default none (file:// refused) */
  fileRoots?: readonly string[];
  auth?: RegistryAuth;
  /** Download tuning and test seams (retry delay, free-space probe, fetch, progress). */
  download?: Partial<Omit<DownloadOptions, "runtime" | "tmpDir" | "maxBytes" | "auth">>;
  /** Called after a package's slots changed, inside the lock. */
  onChange?: (pkg: string, event: ChangeEvent) => void | Promise<void>;
  now?: () => Date;
}

/** One package in `/status`. */
export interface PackageStatus {
  /** The Go daemon's `repository.State` fields, `""` when empty, for its `LocalAPIClient`. */
  stable: string;
  experiment: string;
  stable_version: string | null;
  experiment_version: string | null;
  experiment_started_at: string | null;
  watch: PackageState["watch"] | null;
  task: Task | { state: "idle" };
  rollback: PackageState["rollback"] | null;
}

/** The `/status` answer. */
export interface InstallerStatus {
  /** The daemon's version (Go: the agent version of the installer). */
  version: string;
  /** Outpost never instruments applications: always false, the fields a Go client reads. */
  apm_injection_status: {
    host_instrumented: boolean;
    docker_installed: boolean;
    docker_instrumented: boolean;
  };
  /** The newer Go daemon's list form of the packages (versions omitted when empty). */
  remote_config_state: Array<
    { package: string; stable_version?: string; experiment_version?: string }
  >;
  catalog_version: string | number | null;
  platform: string;
  available_disk_space: number | null;
  packages: Record<string, PackageStatus>;
  /** Catalogs and tasks refused since the daemon started, by error code. */
  refused: Record<string, number>;
}

/** Fleet operations, serialized by an advisory lock and recorded as tasks. */
export class Installer {
  readonly #o:
    & Required<
      Pick<
        InstallerOptions,
        "publicKey" | "maxBytes" | "maxEntries" | "maxCatalogBytes" | "fileRoots" | "now"
      >
    >
    & InstallerOptions;
  readonly #lock: FleetLock;
  readonly #statePath: string;
  readonly #tmp: string;
  #state: FleetState;
  readonly #log;
  readonly #refused: Record<string, number> = {};

  constructor(options: InstallerOptions) {
    this.#o = {
      publicKey: "",
      maxBytes: 3 * 1024 ** 3,
      maxEntries: DEFAULT_MAX_ENTRIES,
      maxCatalogBytes: DEFAULT_MAX_CATALOG_BYTES,
      fileRoots: [],
      now: () => new Date(),
      ...options,
    };
    mkdirSync(join(options.root, "packages"), { recursive: true, mode: 0o755 });
    this.#lock = new FleetLock(join(options.root, "lock"));
    this.#statePath = join(options.root, "state.json");
    this.#tmp = join(options.root, "tmp");
    this.#state = loadState(this.#statePath);
    this.#log = options.logger.for("fleet");
  }

  /** Sets the listener told about slot changes (the daemon wires the supervisor here). */
  set onChange(fn: InstallerOptions["onChange"]) {
    this.#o.onChange = fn;
  }

  /** The repository of a package. */
  repository(pkg: string): Repository {
    return new Repository(this.#o.root, pkg);
  }

  /** The largest catalog accepted, in bytes of JSON. */
  get maxCatalogBytes(): number {
    return this.#o.maxCatalogBytes;
  }

  /** The catalog in force. */
  get catalog(): Catalog | null {
    return this.#state.catalog;
  }

  /** A copy of a package's recorded state. */
  packageState(pkg: string): PackageState {
    return structuredClone(this.#state.packages[pkg] ?? {});
  }

  /**
   * Brings the disk back to a consistent state after a crash: drops scratch files and
   * unreferenced versions, marks an interrupted task as failed, and rolls back an experiment
   * of `agentPackage` that was running when the daemon died (as a reboot does under systemd).
   */
  recover(agentPackage: string): Promise<void> {
    return this.#lock.run(async () => {
      rmSync(this.#tmp, { recursive: true, force: true });
      for (const pkg of this.#packages()) {
        const repo = this.repository(pkg);
        repo.cleanup();
        const st = this.#pkg(pkg);
        if (st.last_task?.state === "running") {
          st.last_task = {
            ...st.last_task,
            state: "error",
            finished_at: this.#now(),
            error: { code: "interrupted", message: "The daemon stopped while the task ran" },
          };
        }
        const { experiment } = repo.slots();
        if (pkg === agentPackage && experiment !== null) {
          repo.deleteExperiment();
          this.#recordRollback(
            pkg,
            experiment,
            "The daemon restarted while the experiment ran; rolled back to stable",
          );
        } else if (experiment === null && st.experiment_started_at) {
          delete st.experiment_started_at;
        }
      }
      this.#save();
    });
  }

  /**
   * Replaces the catalog (checking its signature when a key is configured). A catalog over
   * `maxCatalogBytes` is refused: it would be kept in the state file and rewritten by every task.
   */
  async setCatalog(body: unknown, from = "the local API"): Promise<Catalog> {
    let catalog: Catalog;
    try {
      const size = new TextEncoder().encode(JSON.stringify(body) ?? "").length;
      if (size > this.#o.maxCatalogBytes) throw catalogTooLarge(this.#o.maxCatalogBytes);
      catalog = await parseCatalog(body, this.#o.publicKey);
    } catch (e) {
      throw this.#refuse(`Refused a catalog from ${from}`, e);
    }
    return this.#lock.run(async () => {
      this.#state.catalog = catalog;
      this.#save();
      this.#log.info(
        `Catalog ${catalog.version ?? "(no version)"} set: ${catalog.packages.length} packages`,
      );
      return catalog;
    });
  }

  /** Installs `version` (default: the catalog's last entry for the package) as stable. */
  install(pkg: string, version?: string): Promise<void> {
    return this.#task(pkg, "install", version, async () => {
      const v = version ?? this.#latest(pkg);
      const repo = this.repository(pkg);
      if (repo.slots().experiment !== null) {
        throw new FleetError(
          "conflict",
          `Cannot install ${pkg} ${v}: an experiment (${repo.slots().experiment}) is running`,
        );
      }
      if (repo.slots().stable === v) return;
      const dir = await this.#download(pkg, v);
      repo.create(v, dir);
      this.#log.info(`Installed ${pkg} ${v} as stable`);
      await this.#o.onChange?.(pkg, "install");
    });
  }

  /** Removes a package and all its versions. */
  remove(pkg: string): Promise<void> {
    return this.#task(pkg, "remove", undefined, async () => {
      const repo = this.repository(pkg);
      if (!existsSync(repo.dir)) {
        throw new FleetError("not_found", `Package ${pkg} is not installed`);
      }
      repo.delete();
      delete this.#state.packages[pkg].experiment_started_at;
      this.#log.info(`Removed ${pkg}`);
      await this.#o.onChange?.(pkg, "remove");
    });
  }

  /** Downloads `version` and makes it the experiment. */
  startExperiment(pkg: string, version: string): Promise<void> {
    return this.#task(pkg, "start_experiment", version, async () => {
      checkVersionName(version);
      const repo = this.repository(pkg);
      const { stable, experiment } = repo.slots();
      if (experiment !== null) {
        throw new FleetError(
          "conflict",
          `Cannot start an experiment of ${pkg}: ${experiment} is already running`,
        );
      }
      if (stable === null) {
        throw new FleetError(
          "conflict",
          `Cannot start an experiment of ${pkg}: no stable version is installed`,
        );
      }
      const dir = await this.#download(pkg, version);
      repo.setExperiment(version, dir);
      const st = this.#pkg(pkg);
      st.experiment_started_at = this.#now();
      st.watch = { state: "starting", since: st.experiment_started_at };
      this.#save();
      this.#log.info(`Started the experiment ${pkg} ${version}`);
      await this.#o.onChange?.(pkg, "experiment_start");
    });
  }

  /**
   * Drops the experiment and goes back to stable. With a `reason` it is an automatic
   * rollback: the reason is kept for `/status` and pull mode will not retry that version.
   */
  stopExperiment(pkg: string, reason?: string): Promise<void> {
    return this.#task(
      pkg,
      reason ? "rollback_experiment" : "stop_experiment",
      undefined,
      async () => {
        const repo = this.repository(pkg);
        const version = repo.slots().experiment;
        if (version === null) throw new FleetError("conflict", `No experiment of ${pkg} to stop`);
        repo.deleteExperiment();
        const st = this.#pkg(pkg);
        delete st.experiment_started_at;
        if (reason) this.#recordRollback(pkg, version, reason);
        else st.watch = { state: "stopped", since: this.#now() };
        this.#save();
        this.#log.info(`Stopped the experiment ${pkg} ${version}${reason ? `: ${reason}` : ""}`);
        await this.#o.onChange?.(pkg, "experiment_stop");
      },
    );
  }

  /** Makes the experiment stable. */
  promote(pkg: string): Promise<void> {
    return this.#task(pkg, "promote_experiment", undefined, async () => {
      const version = this.repository(pkg).promote();
      const st = this.#pkg(pkg);
      delete st.experiment_started_at;
      st.watch = { state: "promoted", since: this.#now() };
      this.#save();
      this.#log.info(`Promoted ${pkg} ${version} to stable`);
      await this.#o.onChange?.(pkg, "promote");
    });
  }

  /** Records how the experiment fares (called by the supervisor). */
  setWatch(pkg: string, state: WatchState, reason?: string): void {
    const st = this.#pkg(pkg);
    st.watch = { state, since: this.#now(), ...(reason ? { reason } : {}) };
    this.#save();
  }

  /**
   * Counts and logs a refusal, for `/status` and the log; the API and pull mode tell here a
   * catalog over its cap that they stopped reading. Returns the error as a `FleetError`.
   */
  refused(what: string, e: unknown): FleetError {
    return this.#refuse(what, e);
  }

  #refuse(what: string, e: unknown): FleetError {
    const err = e instanceof FleetError
      ? e
      : new FleetError("internal", (e as Error).message, { cause: e });
    this.#refused[err.code] = (this.#refused[err.code] ?? 0) + 1;
    this.#log.warn(`${what}: ${err.message}`);
    return err;
  }

  /** Everything `/status` shows. */
  status(): InstallerStatus {
    const packages: Record<string, PackageStatus> = {};
    for (const pkg of this.#packages()) {
      const { stable, experiment } = this.repository(pkg).slots();
      const st = this.#state.packages[pkg] ?? {};
      packages[pkg] = {
        stable: stable ?? "",
        experiment: experiment ?? "",
        stable_version: stable,
        experiment_version: experiment,
        experiment_started_at: experiment ? st.experiment_started_at ?? null : null,
        watch: st.watch ?? null,
        task: st.last_task ?? { state: "idle" },
        rollback: st.rollback ?? null,
      };
    }
    let free: number | null = null;
    try {
      const s = statfsSync(this.#o.root);
      free = s.bavail * s.bsize;
    } catch { /* not every filesystem answers */ }
    return {
      version: BUILD.version,
      apm_injection_status: {
        host_instrumented: false,
        docker_installed: false,
        docker_instrumented: false,
      },
      remote_config_state: Object.entries(packages).map(([name, p]) => ({
        package: name,
        ...(p.stable ? { stable_version: p.stable } : {}),
        ...(p.experiment ? { experiment_version: p.experiment } : {}),
      })),
      catalog_version: this.#state.catalog?.version ?? null,
      platform: `${HOST_PLATFORM.os}/${HOST_PLATFORM.arch}`,
      available_disk_space: free,
      packages,
      refused: { ...this.#refused },
    };
  }

  #packages(): string[] {
    let dirs: string[] = [];
    try {
      dirs = readdirSync(join(this.#o.root, "packages"));
    } catch { /* none yet */ }
    return [...new Set([...dirs, ...Object.keys(this.#state.packages)])].sort();
  }

  #pkg(pkg: string): PackageState {
    return (this.#state.packages[pkg] ??= {});
  }

  #now(): string {
    return this.#o.now().toISOString();
  }

  #save(): void {
    saveState(this.#statePath, this.#state);
  }

  #recordRollback(pkg: string, version: string, reason: string): void {
    const st = this.#pkg(pkg);
    const at = this.#now();
    delete st.experiment_started_at;
    st.rollback = { version, reason, at };
    st.watch = { state: "rolled_back", since: at, reason };
    st.failed_versions = [...new Set([...(st.failed_versions ?? []), version])].slice(-20);
    this.#save();
    this.#log.warn(`Rolled back the experiment ${pkg} ${version}: ${reason}`);
  }

  #latest(pkg: string): string {
    const entries = (this.#state.catalog?.packages ?? []).filter((e) =>
      e.package === pkg && findEntry(this.#state.catalog, pkg, e.version)
    );
    if (entries.length === 0) {
      throw new FleetError("not_found", `Package ${pkg} is not in the catalog`);
    }
    return entries[entries.length - 1].version;
  }

  async #download(pkg: string, version: string): Promise<string> {
    const entry = findEntry(this.#state.catalog, pkg, version);
    if (!entry) {
      throw new FleetError(
        "not_found",
        `Package ${pkg} version ${version} is not in the catalog for ${HOST_PLATFORM.os}/${HOST_PLATFORM.arch}`,
      );
    }
    checkVersionName(version); // it names the scratch directory below
    const dest = join(this.#tmp, `${pkg}-${version}-${randomBytes(4).toString("hex")}`);
    await fetchPackage(entry, dest, {
      runtime: this.#o.runtime,
      tmpDir: this.#tmp,
      maxBytes: this.#o.maxBytes,
      maxEntries: this.#o.maxEntries,
      fileRoots: this.#o.fileRoots,
      auth: this.#o.auth,
      ...this.#o.download,
    });
    return dest;
  }

  /** Runs `fn` under the lock, recording it as the package's last task. */
  async #task(
    pkg: string,
    method: string,
    version: string | undefined,
    fn: () => Promise<void>,
  ): Promise<void> {
    checkPackageName(pkg);
    return await this.#lock.run(async () => {
      const st = this.#pkg(pkg);
      const task: Task = {
        id: randomBytes(8).toString("hex"),
        method,
        ...(version ? { version } : {}),
        state: "running",
        started_at: this.#now(),
      };
      st.last_task = task;
      this.#save();
      try {
        await fn();
        task.state = "done";
      } catch (e) {
        const err = this.#refuse(
          `Task ${method} of ${pkg}${version ? ` ${version}` : ""} failed`,
          e,
        );
        task.state = "error";
        task.error = { code: err.code, message: err.message };
        throw err;
      } finally {
        task.finished_at = this.#now();
        // remove() may have dropped the package's record; keep the task visible anyway.
        this.#pkg(pkg).last_task = task;
        this.#save();
      }
    });
  }
}
