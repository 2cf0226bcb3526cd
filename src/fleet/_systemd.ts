/**
 * The systemd supervisor (`fleet.supervisor: systemd`): the agent runs as `outpost.service`
 * (stable slot) or `outpost-exp.service` (experiment slot, a oneshot unit with
 * `OnFailure=outpost.service` and `Conflicts=outpost.service`), as the units in `packaging/`
 * define them. The daemon only starts and stops units; systemd itself restarts stable when the
 * experiment exits, so a rollback also happens while the daemon is down. The daemon watches
 * the experiment (health, and the unit's state) and records a rollback as the built-in
 * supervisor does.
 *
 * @module
 */
import type { Runtime } from "../runtime/types.ts";
import type { Logger } from "../log/mod.ts";
import type { Repository } from "./_repository.ts";
import type { WatchState } from "./_state.ts";
import { watchExperiment } from "./_watch.ts";

/** The units of `packaging/`. */
export const UNITS = { stable: "outpost.service", experiment: "outpost-exp.service" } as const;

/** Options of {@linkcode SystemdSupervisor}. */
export interface SystemdSupervisorOptions {
  runtime: Runtime;
  repository: Repository;
  logger: Logger;
  health: () => Promise<boolean>;
  healthTimeoutMs: number;
  watchMs: number;
  onExperimentFailed: (reason: string) => Promise<void>;
  onWatch?: (state: WatchState) => void;
  /** Health and unit-state poll period. @default 500 */
  pollMs?: number;
}

/** Drives the stable and experiment units to match the slots. */
export class SystemdSupervisor {
  readonly #o: SystemdSupervisorOptions & { pollMs: number };
  readonly #log;
  #current: { version: string; slot: "stable" | "experiment" } | null = null;
  #cancelWatch: () => void = () => {};
  #unitTimer: ReturnType<typeof setTimeout> | undefined;
  #syncing: Promise<void> = Promise.resolve();
  #failing = false;

  constructor(options: SystemdSupervisorOptions) {
    this.#o = { pollMs: 500, ...options };
    this.#log = options.logger.for("supervisor");
  }

  /** What the daemon last asked systemd to run (pid 0: systemd owns the process). */
  get running(): { version: string; slot: "stable" | "experiment"; pid: number } | null {
    return this.#current ? { ...this.#current, pid: 0 } : null;
  }

  /** Starts the unit of the current slot. */
  start(): Promise<void> {
    return this.sync();
  }

  /** Makes the units match the slots. */
  sync(): Promise<void> {
    const next = this.#syncing.then(() => this.#sync());
    this.#syncing = next.catch((e) =>
      this.#log.error(`Cannot sync the units: ${(e as Error).message}`)
    );
    return next;
  }

  /** Stops watching; the units keep running (systemd owns them). */
  async stop(): Promise<void> {
    this.#stopWatch();
    await this.#syncing;
  }

  async #sync(): Promise<void> {
    const { stable, experiment } = this.#o.repository.slots();
    const cur = this.#current;
    if (experiment !== null) {
      if (cur?.slot === "experiment" && cur.version === experiment) return;
      this.#stopWatch();
      // Conflicts= stops stable; --no-block because the oneshot unit runs as long as the agent.
      await this.#systemctl("start", "--no-block", UNITS.experiment);
      this.#current = { version: experiment, slot: "experiment" };
      this.#watch(experiment);
      return;
    }
    this.#stopWatch();
    if (stable === null) {
      await this.#systemctl("stop", UNITS.experiment, UNITS.stable);
      this.#current = null;
      return;
    }
    if (cur?.slot === "experiment" && cur.version === stable) {
      // Promoted: restart stable so the stable unit (not the experiment unit) runs the version.
      await this.#systemctl("stop", UNITS.experiment);
      await this.#systemctl("restart", UNITS.stable);
    } else if (cur?.version !== stable || cur.slot !== "stable") {
      await this.#systemctl("stop", UNITS.experiment);
      await this.#systemctl("restart", UNITS.stable);
    }
    this.#current = { version: stable, slot: "stable" };
  }

  #watch(version: string): void {
    const { health, healthTimeoutMs, watchMs, pollMs, onWatch } = this.#o;
    const cancelHealth = watchExperiment({
      version,
      startedAt: Date.now(),
      health,
      healthTimeoutMs,
      watchMs,
      pollMs,
      onWatch,
      fail: (reason) => void this.#fail(reason),
    });
    // systemd restarts stable on its own when the experiment unit fails; notice it here too.
    let stopped = false;
    const checkUnit = async () => {
      const state = await this.#unitState(UNITS.experiment);
      if (stopped) return;
      if (state !== "active" && state !== "activating") {
        void this.#fail(`The experiment ${version} stopped (${UNITS.experiment} is ${state})`);
        return;
      }
      this.#unitTimer = setTimeout(checkUnit, pollMs);
    };
    this.#unitTimer = setTimeout(checkUnit, pollMs);
    this.#cancelWatch = () => {
      stopped = true;
      cancelHealth();
      clearTimeout(this.#unitTimer);
    };
  }

  #stopWatch(): void {
    this.#cancelWatch();
    this.#cancelWatch = () => {};
  }

  async #fail(reason: string): Promise<void> {
    if (this.#failing) return;
    this.#failing = true;
    this.#stopWatch();
    this.#log.warn(`${reason}: rolling back`);
    try {
      await this.#o.onExperimentFailed(reason);
    } catch (e) {
      this.#log.error(`Cannot roll back: ${(e as Error).message}`);
    } finally {
      this.#failing = false;
    }
  }

  async #unitState(unit: string): Promise<string> {
    const r = await this.#o.runtime.spawn(["systemctl", "is-active", unit], { timeoutMs: 10_000 });
    return new TextDecoder().decode(r.stdout).trim() || "unknown";
  }

  async #systemctl(...args: string[]): Promise<void> {
    const r = await this.#o.runtime.spawn(["systemctl", ...args], { timeoutMs: 60_000 });
    if (r.code !== 0) {
      throw new Error(
        `systemctl ${args.join(" ")} exited with ${r.code}: ${
          new TextDecoder().decode(r.stderr).trim()
        }`,
      );
    }
  }
}
