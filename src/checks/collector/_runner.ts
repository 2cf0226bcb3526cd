/**
 * The runner: a fixed number of slots (the agent's workers), one run at a time per check ID,
 * an optional hard timeout, and stats per ID.
 *
 * A hung check must not stop the others. The Datadog Agent lets a hung check hold its worker
 * forever, so four hung checks stop all checks. Here a run holds its slot only for as long as
 * it may honestly take: once it has run for longer than its interval (its next run is due,
 * and would be skipped as "already running" anyway), the slot goes back to the pool. The run
 * itself goes on: its ID stays in the running set until it settles, so it is never started
 * twice, and its stats are recorded when it ends. A long-running check (interval 0) runs
 * outside the pool altogether, since it is expected never to return.
 */
import type { Check, RunResult } from "../_types.ts";
import type { Log } from "../../log/mod.ts";
import { CheckStats, type CheckStatsJson, type SubmitCounts } from "./_stats.ts";
import { goDuration } from "./_format.ts";

/** `check_runners: 0`: workers by how many checks are scheduled (the agent's table). */
export function dynamicWorkers(checks: number): number {
  if (checks <= 10) return 4;
  if (checks <= 15) return 10;
  if (checks <= 20) return 15;
  if (checks <= 25) return 20;
  return 25;
}

/** What the runner commits after each run: the check's sender. */
export interface RunHooks {
  /** Commits the check's sender and returns what it counted since the last commit. */
  commit(check: Check): SubmitCounts;
  /** After each run, with its outcome; the `check_status` service check goes out here. */
  afterRun?(check: Check, result: RunResult): void;
  /** False when the check was unscheduled meanwhile: its stats are not kept. */
  isScheduled(id: string): boolean;
}

/** Options of {@linkcode Runner}. */
export interface RunnerOptions {
  /** Slots; 0 = from the number of scheduled checks. @default 4 */
  workers?: number;
  /** Seconds before a run is aborted and counted as an error; 0 = never. @default 0 */
  timeoutS?: number;
  log: Log;
  hooks: RunHooks;
  /** How many checks are scheduled (for `workers: 0`). @default () => 0 */
  scheduled?: () => number;
  /** Wall-clock ms. @default Date.now */
  now?: () => number;
  /** Monotonic ms, for run durations. @default performance.now */
  monotonic?: () => number;
  /** Timer for the slot release and the timeout (tests pass fake ones). @default setTimeout */
  setTimer?: (fn: () => void, ms: number) => () => void;
}

/** The expvar `runner` object. */
export interface RunnerStats {
  Checks: Record<string, Record<string, CheckStatsJson>>;
  Errors: number;
  Warnings: number;
  Runs: number;
  RunningChecks: number;
  /** ID → start, Unix seconds. */
  Running: Record<string, number>;
  Workers: { Count: number; Instances: Record<string, { Utilization: number }> };
}

/** Window over which a slot's utilization is measured (the agent's 5 minutes). */
export const UTILIZATION_WINDOW_MS = 5 * 60_000;

/** Busy time of one slot: finished stretches in the window, and the current one. */
class SlotUse {
  busySince: number | null = null;
  #done: Array<[number, number]> = [];

  begin(now: number): void {
    this.busySince = now;
  }

  end(now: number): void {
    if (this.busySince !== null) this.#done.push([this.busySince, now]);
    this.busySince = null;
  }

  /** Fraction of [from, now] this slot was busy. */
  utilization(from: number, now: number): number {
    this.#done = this.#done.filter(([, e]) => e > from);
    let busy = 0;
    for (const [s, e] of this.#done) busy += e - Math.max(s, from);
    if (this.busySince !== null) busy += now - Math.max(this.busySince, from);
    return now > from ? Math.min(1, busy / (now - from)) : 0;
  }
}

interface Pending {
  check: Check;
  scheduledMs: number;
  taken: () => void;
}

interface InFlight {
  controller: AbortController;
  startMs: number;
  done: Promise<void>;
}

/**
 * Runs checks under a bounded number of slots.
 *
 * @example Run a check once and read its stats
 * ```ts
 * import { Runner } from "./_runner.ts";
 * import { createLogger } from "../../log/mod.ts";
 * const none = { metricSamples: 0, events: 0, serviceChecks: 0, histogramBuckets: 0, eventPlatformEvents: {} };
 * const runner = new Runner({
 *   log: createLogger().for("collector"),
 *   hooks: { commit: () => none, isScheduled: () => true },
 * });
 * const check = { name: "demo", id: "demo", version: "", source: "file:demo.yaml", intervalS: 15,
 *   loader: "demo", run: async () => ({ warnings: [] }), cancel: async () => {} };
 * await runner.runNow(check);
 * runner.stats().Runs; // 1
 * ```
 */
export class Runner {
  readonly #o: Required<RunnerOptions>;
  readonly #pending: Pending[] = [];
  readonly #inFlight = new Map<string, InFlight>();
  readonly #stats = new Map<string, CheckStats>();
  #busy = 0;
  #runs = 0;
  #errors = 0;
  #warnings = 0;
  #stopped = false;
  readonly #slots: SlotUse[] = [];
  readonly #startedMs: number;

  constructor(options: RunnerOptions) {
    this.#o = {
      workers: 4,
      timeoutS: 0,
      scheduled: () => 0,
      now: Date.now,
      monotonic: () => performance.now(),
      setTimer: (fn, ms) => {
        const t = setTimeout(fn, ms);
        return () => clearTimeout(t);
      },
      ...definedOnly(options),
    };
    this.#startedMs = this.#o.now();
  }

  /** Slots in the pool now. */
  get workers(): number {
    return this.#o.workers > 0 ? this.#o.workers : dynamicWorkers(this.#o.scheduled());
  }

  /** True while a run of `id` has not settled. */
  isRunning(id: string): boolean {
    return this.#inFlight.has(id);
  }

  /**
   * Hands a due check to the pool; resolves once a slot took it (the run goes on after).
   * A check whose previous run has not settled is dropped with a log line.
   */
  submit(check: Check, scheduledMs: number): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (check.intervalS === 0) {
      this.#start(check, scheduledMs, false);
      return Promise.resolve();
    }
    return new Promise((taken) => {
      this.#pending.push({ check, scheduledMs, taken });
      this.#pump();
    });
  }

  /** Runs a check now, outside the pool, and resolves when it settled (`outpost check`). */
  async runNow(check: Check): Promise<CheckStatsJson | undefined> {
    const started = this.#start(check, this.#o.now(), false);
    if (started) await started;
    return this.#stats.get(check.id)?.toJSON();
  }

  #pump(): void {
    while (this.#busy < this.workers && this.#pending.length > 0) {
      const { check, scheduledMs, taken } = this.#pending.shift()!;
      taken();
      this.#start(check, scheduledMs, true);
    }
  }

  /** Starts one run; returns when it settles, or null when it was dropped. */
  #start(check: Check, scheduledMs: number, pooled: boolean): Promise<void> | null {
    if (this.#inFlight.has(check.id)) {
      this.#o.log.debug(`Check ${check.id} is already running, skipping execution...`);
      return null;
    }
    let holding = pooled;
    let slot: SlotUse | undefined;
    if (pooled) {
      this.#busy++;
      slot = this.#slots.find((s) => s.busySince === null);
      if (!slot) this.#slots.push(slot = new SlotUse());
      slot.begin(this.#o.now());
    }
    const release = () => {
      if (!holding) return;
      holding = false;
      slot?.end(this.#o.now());
      this.#busy--;
      this.#pump();
    };
    const controller = new AbortController();
    const startMs = this.#o.now();
    const t0 = this.#o.monotonic();
    const cancelRelease = pooled && check.intervalS > 0
      ? this.#o.setTimer(() => {
        this.#o.log.warn(
          `Check ${check.id} has run for longer than its interval (${check.intervalS}s): ` +
            "its runner slot is given back; its next runs are skipped until it returns",
        );
        if (this.#o.hooks.isScheduled(check.id)) this.#statsFor(check).overrunSince(startMs);
        release();
      }, check.intervalS * 1000)
      : () => {};
    const timeoutS = this.#o.timeoutS;
    let timedOut: (r: RunResult) => void = () => {};
    const timeout = new Promise<RunResult>((resolve) => (timedOut = resolve));
    const cancelTimeout = timeoutS > 0
      ? this.#o.setTimer(() => {
        const message = `check run exceeded ${goDuration(timeoutS * 1000)}`;
        controller.abort(new Error(message));
        timedOut({ error: { message, traceback: "" }, warnings: [] });
      }, timeoutS * 1000)
      : () => {};
    const running = Promise.resolve()
      .then(() => check.run(controller.signal))
      .then(
        (r) => normalize(r),
        (e) => ({
          error: {
            message: e instanceof Error ? e.message : String(e),
            traceback: e instanceof Error ? (e.stack ?? "") : "",
          },
          warnings: [],
        }),
      );
    const done = (async () => {
      // The timeout wins the race; the run itself is still awaited before its ID is freed.
      const result = await Promise.race([running, timeout]);
      cancelTimeout();
      cancelRelease();
      this.#record(check, result, scheduledMs, t0);
      release();
      await running;
      this.#inFlight.delete(check.id);
    })();
    this.#inFlight.set(check.id, { controller, startMs, done });
    return done;
  }

  #record(check: Check, result: RunResult, scheduledMs: number, t0: number): void {
    const { hooks, log } = this.#o;
    let counts: SubmitCounts;
    try {
      counts = hooks.commit(check);
    } catch (e) {
      log.error(`Cannot commit the samples of check ${check.id}: ${(e as Error).message}`);
      counts = {
        metricSamples: 0,
        events: 0,
        serviceChecks: 0,
        histogramBuckets: 0,
        eventPlatformEvents: {},
      };
    }
    this.#runs++;
    if (result.error) {
      this.#errors++;
      log.error(`Error running check ${check.id}: ${result.error.message}`);
    }
    if (result.warnings.length > 0) this.#warnings += result.warnings.length;
    try {
      hooks.afterRun?.(check, result);
    } catch (e) {
      log.error(`Cannot report the status of check ${check.id}: ${(e as Error).message}`);
    }
    // As the agent's shouldAddCheckStats: an unscheduled check leaves no stats behind.
    if (!hooks.isScheduled(check.id)) return;
    const endMs = this.#o.now();
    this.#statsFor(check).add({
      result,
      durationMs: this.#o.monotonic() - t0,
      delayS: (endMs - (this.#o.monotonic() - t0) - scheduledMs) / 1000,
      endMs,
      counts,
    });
  }

  #statsFor(check: Check): CheckStats {
    let s = this.#stats.get(check.id);
    if (!s) {
      s = new CheckStats({
        name: check.name,
        id: check.id,
        version: check.version,
        source: check.source,
        loader: check.loader,
        intervalS: check.intervalS,
      });
      this.#stats.set(check.id, s);
    }
    return s;
  }

  /** The stats of one ID. */
  statsOf(id: string): CheckStatsJson | undefined {
    return this.#stats.get(id)?.toJSON();
  }

  /** Forgets the stats of an unscheduled check. */
  forget(id: string): void {
    this.#stats.delete(id);
    const i = this.#pending.findIndex((p) => p.check.id === id);
    if (i >= 0) this.#pending.splice(i, 1)[0].taken();
  }

  /**
   * Cancels a check: aborts its run, calls `cancel()`, and waits for the run to settle,
   * up to `ms`.
   */
  async cancel(check: Check, ms = 500): Promise<void> {
    const s = this.#stats.get(check.id);
    if (s) s.cancelling = true;
    const inFlight = this.#inFlight.get(check.id);
    inFlight?.controller.abort(new Error(`check ${check.id} was unscheduled`));
    let stopWait: () => void = () => {};
    const waited = new Promise<void>((resolve) => (stopWait = this.#o.setTimer(resolve, ms)));
    await Promise.race([
      Promise.allSettled([check.cancel(), inFlight?.done]).then(() => {}),
      waited,
    ]);
    stopWait();
    if (s) s.cancelling = false;
  }

  /** Refuses new runs and drops pending ones. */
  stop(): void {
    this.#stopped = true;
    for (const p of this.#pending.splice(0)) p.taken();
  }

  /**
   * Utilization of each slot over the last 5 minutes (or since the start), as
   * `[worker_<n>, fraction]`; empty before the runner has been up for a moment.
   */
  utilization(): Array<[string, number]> {
    const now = this.#o.now();
    const from = Math.max(this.#startedMs, now - UTILIZATION_WINDOW_MS);
    if (now <= from) return [];
    const out: Array<[string, number]> = [];
    for (let i = 0; i < this.workers; i++) {
      const u = this.#slots[i]?.utilization(from, now) ?? 0;
      out.push([`worker_${i + 1}`, Math.round(u * 1000) / 1000]);
    }
    return out;
  }

  /** The expvar `runner` object. */
  stats(): RunnerStats {
    const checks: RunnerStats["Checks"] = {};
    for (const s of this.#stats.values()) {
      const j = s.toJSON();
      (checks[j.CheckName] ??= {})[j.CheckID] = j;
    }
    const running: Record<string, number> = {};
    for (const [id, f] of this.#inFlight) running[id] = Math.floor(f.startMs / 1000);
    const instances: Record<string, { Utilization: number }> = {};
    for (const [name, u] of this.utilization()) instances[name] = { Utilization: u };
    return {
      Checks: checks,
      Errors: this.#errors,
      Warnings: this.#warnings,
      Runs: this.#runs,
      RunningChecks: this.#inFlight.size,
      Running: running,
      Workers: { Count: this.workers, Instances: instances },
    };
  }
}

/** A check's answer made safe to record: warnings always a list of strings. */
function normalize(r: RunResult | undefined): RunResult {
  const warnings = Array.isArray(r?.warnings) ? r.warnings.map(String) : [];
  return { ...r, warnings };
}

/** The options that are set: an explicit `undefined` keeps the default. */
function definedOnly<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
