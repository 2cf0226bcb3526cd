/**
 * The supervisor: runs the agent package's binary (`<version>/bin/<package> run`) from the
 * experiment slot when there is one, else from stable. Stable is restarted on exit with an
 * exponential backoff. The experiment is watched: it must answer its health route as healthy
 * within the health timeout and keep running for the watch window; any exit, or no health in
 * time, is reported through `onExperimentFailed` (which rolls back).
 *
 * @module
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { ProcessHandle, Runtime } from "../runtime/types.ts";
import type { Logger } from "../log/mod.ts";
import type { Repository } from "./_repository.ts";
import type { WatchState } from "./_state.ts";
import { alive } from "./_lock.ts";
import { writeFileAtomic } from "../fs/mod.ts";
import { watchExperiment } from "./_watch.ts";

/** Options of {@linkcode Supervisor}. */
export interface SupervisorOptions {
  runtime: Runtime;
  repository: Repository;
  logger: Logger;
  /** Arguments after the binary. @default ["run"] */
  args?: string[];
  /** Where the running child's pid is kept, to stop an orphan after a daemon crash. */
  pidFile: string;
  /** Whether the agent answers its health route as healthy. */
  health: () => Promise<boolean>;
  /** `fleet.experiment_health_timeout` in ms. */
  healthTimeoutMs: number;
  /** `fleet.experiment_watch` in ms. */
  watchMs: number;
  /** Rolls the experiment back; called at most once per experiment. */
  onExperimentFailed: (reason: string) => Promise<void>;
  /** Told how the watch goes. */
  onWatch?: (state: WatchState) => void;
  /** First restart delay; doubles up to 60 s and resets after a minute of running. @default 1000 */
  backoffMs?: number;
  /** Grace before SIGKILL when stopping. @default 10000 */
  stopTimeoutMs?: number;
  /** Health poll period. @default 500 */
  pollMs?: number;
}

interface Child {
  version: string;
  slot: "stable" | "experiment";
  handle: ProcessHandle;
  startedAt: number;
  /** Set when the supervisor itself stops it, so the exit is not a crash. */
  stopping: boolean;
}

/** Keeps the right version of the agent running. */
export class Supervisor {
  readonly #o: SupervisorOptions & {
    backoffMs: number;
    stopTimeoutMs: number;
    pollMs: number;
    args: string[];
  };
  readonly #log;
  #child: Child | null = null;
  #stopped = false;
  #backoff: number;
  #restartTimer: ReturnType<typeof setTimeout> | undefined;
  #cancelWatch: () => void = () => {};
  #syncing: Promise<void> = Promise.resolve();

  constructor(options: SupervisorOptions) {
    this.#o = { backoffMs: 1000, stopTimeoutMs: 10_000, pollMs: 500, args: ["run"], ...options };
    this.#backoff = this.#o.backoffMs;
    this.#log = options.logger.for("supervisor");
  }

  /** The version and slot running now, or null. */
  get running(): { version: string; slot: "stable" | "experiment"; pid: number } | null {
    const c = this.#child;
    return c ? { version: c.version, slot: c.slot, pid: c.handle.pid } : null;
  }

  /** Stops an orphan left by a crashed daemon, then runs the right slot. */
  async start(): Promise<void> {
    await this.#killOrphan();
    await this.sync();
  }

  /** Makes the running process match the slots (call after every slot change). */
  sync(): Promise<void> {
    const next = this.#syncing.then(() => this.#sync());
    this.#syncing = next.catch((e) =>
      this.#log.error(`Cannot sync the agent: ${(e as Error).message}`)
    );
    return next;
  }

  /** Stops the agent and the supervision. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#restartTimer);
    this.#clearWatch();
    await this.#syncing;
    await this.#stopChild();
  }

  async #sync(): Promise<void> {
    if (this.#stopped) return;
    const { stable, experiment } = this.#o.repository.slots();
    const want = experiment !== null
      ? { version: experiment, slot: "experiment" as const }
      : stable !== null
      ? { version: stable, slot: "stable" as const }
      : null;
    const c = this.#child;
    if (c && want && c.version === want.version) {
      if (c.slot !== want.slot) {
        // Promoted: the process already runs the new stable version; the watch is over.
        c.slot = want.slot;
        this.#clearWatch();
      }
      return;
    }
    clearTimeout(this.#restartTimer);
    this.#clearWatch();
    await this.#stopChild();
    if (want) this.#spawn(want.version, want.slot);
  }

  #spawn(version: string, slot: "stable" | "experiment"): void {
    const repo = this.#o.repository;
    const bin = join(repo.path(version), "bin", repo.name);
    this.#log.info(`Starting ${repo.name} ${version} (${slot}): ${bin} ${this.#o.args.join(" ")}`);
    let handle: ProcessHandle;
    try {
      handle = this.#o.runtime.start([bin, ...this.#o.args]);
    } catch (e) {
      this.#log.error(`Cannot start ${bin}: ${(e as Error).message}`);
      if (slot === "experiment") {
        void this.#fail(`The experiment could not start: ${(e as Error).message}`);
      } else this.#scheduleRestart();
      return;
    }
    const child: Child = { version, slot, handle, startedAt: Date.now(), stopping: false };
    this.#child = child;
    writeFileAtomic(this.#o.pidFile, String(handle.pid), { mode: 0o644 });
    handle.exited.then((code) => this.#exited(child, code));
    if (slot === "experiment") this.#watch(child);
  }

  #exited(child: Child, code: number): void {
    if (this.#child !== child) return;
    this.#child = null;
    rmSync(this.#o.pidFile, { force: true });
    if (child.stopping || this.#stopped) return;
    if (child.slot === "experiment") {
      void this.#fail(`The experiment ${child.version} exited with code ${code}`);
      return;
    }
    this.#log.warn(`${this.#o.repository.name} ${child.version} exited with code ${code}`);
    if (Date.now() - child.startedAt > 60_000) this.#backoff = this.#o.backoffMs;
    this.#scheduleRestart();
  }

  #scheduleRestart(): void {
    const delay = this.#backoff;
    this.#backoff = Math.min(this.#backoff * 2, 60_000);
    this.#log.info(`Restarting in ${delay} ms`);
    this.#restartTimer = setTimeout(() => void this.sync(), delay);
  }

  #watch(child: Child): void {
    const { healthTimeoutMs, watchMs, pollMs, health, onWatch } = this.#o;
    this.#cancelWatch = watchExperiment({
      version: child.version,
      startedAt: child.startedAt,
      health,
      healthTimeoutMs,
      watchMs,
      pollMs,
      onWatch: (state) => {
        if (state === "watching") {
          this.#log.info(`The experiment ${child.version} is healthy; watching it`);
        }
        if (state === "passed") this.#log.info(`The experiment ${child.version} passed its watch`);
        onWatch?.(state);
      },
      fail: (reason) => void this.#fail(reason),
    });
  }

  #clearWatch(): void {
    this.#cancelWatch();
    this.#cancelWatch = () => {};
  }

  #failing = false;
  async #fail(reason: string): Promise<void> {
    if (this.#failing || this.#stopped) return;
    this.#failing = true;
    this.#clearWatch();
    this.#log.warn(`${reason}: rolling back`);
    try {
      await this.#o.onExperimentFailed(reason);
    } catch (e) {
      this.#log.error(`Cannot roll back: ${(e as Error).message}`);
    } finally {
      this.#failing = false;
    }
  }

  async #stopChild(): Promise<void> {
    const c = this.#child;
    if (!c) return;
    c.stopping = true;
    await this.#terminate(c.handle.pid, c.handle.exited, (s) => c.handle.kill(s));
    if (this.#child === c) this.#child = null;
    rmSync(this.#o.pidFile, { force: true });
  }

  async #terminate(
    pid: number,
    exited: Promise<unknown>,
    kill: (s: "SIGTERM" | "SIGKILL") => void,
  ) {
    kill("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((
      r,
    ) => (timer = setTimeout(() => r("late"), this.#o.stopTimeoutMs)));
    if (await Promise.race([exited, late]) === "late") {
      this.#log.warn(`Process ${pid} did not stop in ${this.#o.stopTimeoutMs} ms: killing it`);
      kill("SIGKILL");
      await exited;
    }
    clearTimeout(timer);
  }

  /** A child left running by a daemon that was killed: stop it so the new one owns the agent. */
  async #killOrphan(): Promise<void> {
    let pid: number;
    try {
      pid = Number(readFileSync(this.#o.pidFile, "utf8").trim());
    } catch {
      return;
    }
    rmSync(this.#o.pidFile, { force: true });
    if (!Number.isInteger(pid) || pid <= 1 || !alive(pid) || !this.#isOurChild(pid)) return;
    this.#log.warn(`Stopping the agent process ${pid} left by a previous daemon`);
    const exited = (async () => {
      while (alive(pid) && !zombie(pid)) await new Promise((r) => setTimeout(r, 50));
    })();
    await this.#terminate(pid, exited, (s) => {
      try {
        process.kill(pid, s);
      } catch { /* gone */ }
    });
  }

  /** Guards against a recycled pid: the process must run a binary of this package. */
  #isOurChild(pid: number): boolean {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      return cmdline.includes(this.#o.repository.dir);
    } catch {
      return false;
    }
  }
}

/** A dead process its parent has not reaped yet still answers kill(pid, 0). */
function zombie(pid: number): boolean {
  try {
    return / Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\)/, ""));
  } catch {
    return true;
  }
}
