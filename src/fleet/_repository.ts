/**
 * One package's versions on disk: `<root>/packages/<package>/<version>/` with the symlinks
 * `stable` and `experiment` naming the slots.
 *
 * Every change is a sequence of atomic steps (a rename of a fully unpacked directory, a new
 * symlink renamed over the old) ordered so that a kill at any point leaves `stable` pointing
 * at a complete version. No experiment is written as no `experiment` link; a link that points
 * where `stable` points (the Datadog installer's way) reads as no experiment too.
 *
 * @module
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { FleetError } from "./_errors.ts";
import { PACKAGE_NAME } from "../config/keys/fleet.ts";
import { syncDir } from "../fs/mod.ts";
import { readLink, switchLink } from "./_fsutil.ts";

const STABLE = "stable";
const EXPERIMENT = "experiment";
const VERSION_RE = /^[A-Za-z0-9][A-Za-z0-9._+~-]{0,127}$/;

/** What a version may look like; the text ends the messages of a refused one. */
export const VERSION_RULE =
  'expected a version of letters, digits and . _ + ~ - (at most 128, not "stable" or "experiment")';
/** What a package name may look like. */
export const PACKAGE_RULE =
  "expected a package name of lower-case letters, digits and . _ - (at most 64)";

/** Whether `version` can name a directory of the repository (no `/`, no leading `.`). */
export function isVersionName(version: string): boolean {
  return version !== STABLE && version !== EXPERIMENT && VERSION_RE.test(version);
}

/** Whether `name` can name a package directory. */
export function isPackageName(name: string): boolean {
  return PACKAGE_NAME.test(name);
}

/** Throws unless `version` can name a directory of the repository. */
export function checkVersionName(version: string): void {
  if (!isVersionName(version)) {
    throw new FleetError(
      "bad_request",
      `Cannot use ${quote(version)} as a version: ${VERSION_RULE}`,
    );
  }
}

/** Throws unless `name` can name a package. */
export function checkPackageName(name: string): void {
  if (!isPackageName(name)) {
    throw new FleetError(
      "bad_request",
      `Cannot use ${quote(name)} as a package name: ${PACKAGE_RULE}`,
    );
  }
}

/** A refused name, shortened: it may be anything a caller sent. */
function quote(name: string): string {
  return JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
}

/** The versions a package's slots point at. */
export interface Slots {
  stable: string | null;
  experiment: string | null;
}

/** Options of {@linkcode Repository}. */
export interface RepositoryOptions {
  /**
   * Called after each atomic step of an operation, with its name. Crash tests throw from it
   * to stop an operation exactly where a kill -9 could. @default none
   */
  afterStep?: (step: string) => void;
}

/** The directory tree of one package. Callers serialize operations (see `_lock.ts`). */
export class Repository {
  /** `<root>/packages/<package>`. */
  readonly dir: string;
  readonly #step: (step: string) => void;

  constructor(root: string, readonly name: string, { afterStep }: RepositoryOptions = {}) {
    checkPackageName(name);
    this.dir = join(root, "packages", name);
    this.#step = afterStep ?? (() => {});
  }

  /** Where stable and experiment point now. */
  slots(): Slots {
    const stable = readLink(join(this.dir, STABLE));
    const exp = readLink(join(this.dir, EXPERIMENT));
    return { stable, experiment: exp !== null && exp !== stable ? exp : null };
  }

  /** The directory of a version. */
  path(version: string): string {
    return join(this.dir, version);
  }

  /**
   * Moves the unpacked `source` in as `version` and makes it stable. `source` must be on the
   * same filesystem. Installing the current stable version again only drops `source`.
   */
  create(version: string, source: string): void {
    checkVersionName(version);
    const { stable, experiment } = this.slots();
    if (experiment !== null) {
      throw new FleetError(
        "conflict",
        `Cannot install ${this.name} ${version}: an experiment (${experiment}) is running`,
      );
    }
    if (stable === version) {
      rmSync(source, { recursive: true, force: true });
      return;
    }
    this.#moveIn(version, source);
    // An experiment link equal to stable means "none"; drop it first so that switching
    // stable never makes the old stable look like an experiment.
    rmSync(join(this.dir, EXPERIMENT), { force: true });
    this.#step("experiment_link_removed");
    switchLink(join(this.dir, STABLE), version);
    this.#step("stable_switched");
    this.cleanup();
  }

  /** Moves `source` in as `version` and points `experiment` at it. */
  setExperiment(version: string, source: string): void {
    checkVersionName(version);
    const { stable, experiment } = this.slots();
    if (stable === null) {
      throw new FleetError(
        "conflict",
        `Cannot start an experiment of ${this.name}: no stable version is installed`,
      );
    }
    if (experiment !== null) {
      throw new FleetError(
        "conflict",
        `Cannot start an experiment of ${this.name}: ${experiment} is already running`,
      );
    }
    if (version === stable) {
      throw new FleetError(
        "conflict",
        `Cannot start an experiment of ${this.name}: ${version} is already stable`,
      );
    }
    this.cleanup();
    this.#moveIn(version, source);
    switchLink(join(this.dir, EXPERIMENT), version);
    this.#step("experiment_switched");
  }

  /** Makes the experiment stable. */
  promote(): string {
    const { experiment } = this.slots();
    if (experiment === null) {
      throw new FleetError("conflict", `No experiment of ${this.name} to promote`);
    }
    switchLink(join(this.dir, STABLE), experiment);
    this.#step("stable_switched");
    rmSync(join(this.dir, EXPERIMENT), { force: true });
    this.#step("experiment_link_removed");
    this.cleanup();
    return experiment;
  }

  /** Drops the experiment; stable is untouched. Returns the version dropped, or null. */
  deleteExperiment(): string | null {
    const { experiment } = this.slots();
    rmSync(join(this.dir, EXPERIMENT), { force: true });
    syncDir(this.dir);
    this.#step("experiment_link_removed");
    this.cleanup();
    return experiment;
  }

  /** Deletes every version directory and leftover that no slot points at. */
  cleanup(): string[] {
    if (!existsSync(this.dir)) return [];
    const { stable, experiment } = this.slots();
    const removed: string[] = [];
    for (const entry of readdirSync(this.dir)) {
      if (entry === STABLE || entry === EXPERIMENT || entry === stable || entry === experiment) {
        continue;
      }
      rmSync(join(this.dir, entry), { recursive: true, force: true });
      this.#step("removed");
      removed.push(entry);
    }
    return removed;
  }

  /** Removes the package: links first, so that a crash midway leaves nothing that looks installed. */
  delete(): void {
    rmSync(join(this.dir, EXPERIMENT), { force: true });
    rmSync(join(this.dir, STABLE), { force: true });
    syncDir(this.dir);
    this.#step("links_removed");
    rmSync(this.dir, { recursive: true, force: true });
  }

  #moveIn(version: string, source: string): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    const dest = this.path(version);
    // A directory of that name that no slot points at is a leftover of an interrupted run.
    rmSync(dest, { recursive: true, force: true });
    this.#step("leftover_removed");
    chmodSync(source, 0o755);
    renameSync(source, dest);
    syncDir(this.dir);
    this.#step("moved_in");
  }
}
