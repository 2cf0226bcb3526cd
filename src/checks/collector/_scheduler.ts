/**
 * The check scheduler: one queue per distinct interval, each with one bucket per second of
 * its interval, checks spread over the buckets by a fixed step, one bucket sent to the runner
 * per second. No jitter: where a check runs within its interval depends only on the order
 * checks were added.
 */
import type { Check } from "../_types.ts";
import type { Log } from "../../log/mod.ts";

/** Calls `fn` every `ms` until the returned function is called. */
export type Ticker = (ms: number, fn: () => void) => () => void;

/** The real ticker: `setInterval`. */
export const realTicker: Ticker = (ms, fn) => {
  const t = setInterval(fn, ms);
  return () => clearInterval(t);
};

/**
 * Where a due check goes. It resolves once a runner slot took the check (or dropped it);
 * until then the queue sends nothing else, as the agent's unbuffered channel blocks.
 */
export type Dispatch = (check: Check, scheduledMs: number) => Promise<void>;

/** Options of {@linkcode Scheduler}. */
export interface SchedulerOptions {
  dispatch: Dispatch;
  log: Log;
  /** @default realTicker */
  ticker?: Ticker;
  /** Monotonic milliseconds, for the "running behind" line. @default performance.now */
  monotonic?: () => number;
  /** Wall-clock milliseconds, the scheduled time handed to dispatch. @default Date.now */
  now?: () => number;
}

/** The expvar `scheduler` object. */
export interface SchedulerStats {
  QueuesCount: number;
  ChecksEntered: number;
  Queues: Array<{ Interval: number; Buckets: number; Size: number }>;
}

/**
 * The step between the buckets of consecutive checks in a queue of `n` buckets: about half
 * the interval, and coprime with it for the intervals checks use, so the first checks land far
 * apart and every bucket fills before any gets a second check.
 *
 * @example
 * ```ts
 * import { sparseStep } from "./_scheduler.ts";
 * sparseStep(15); // 7
 * ```
 */
export function sparseStep(n: number): number {
  if (n <= 2) return 1;
  if (n % 2 === 1) return Math.floor(n / 2);
  const s = n / 2;
  return s % 2 === 0 ? s - 1 : s - 2;
}

/** The checks of one interval. */
class JobQueue {
  readonly intervalS: number;
  readonly buckets: Check[][];
  readonly #step: number;
  #added = 0;
  #index = 0;
  #busy = false;
  #lastTick = -1;
  #stop: () => void = () => {};

  constructor(intervalS: number) {
    this.intervalS = intervalS;
    const n = Math.max(1, Math.trunc(intervalS));
    this.buckets = Array.from({ length: n }, () => []);
    this.#step = sparseStep(n);
  }

  get size(): number {
    return this.buckets.reduce((n, b) => n + b.length, 0);
  }

  /** Puts a check in the bucket its arrival order gives; returns the bucket index. */
  add(check: Check): number {
    const i = (this.#added * this.#step) % this.buckets.length;
    this.#added++;
    this.buckets[i].push(check);
    return i;
  }

  remove(id: string): boolean {
    for (const b of this.buckets) {
      const at = b.findIndex((c) => c.id === id);
      if (at >= 0) {
        b.splice(at, 1);
        return true;
      }
    }
    return false;
  }

  start(o: Required<SchedulerOptions>): void {
    this.#stop = o.ticker(1000, () => void this.#tick(o));
  }

  stop(): void {
    this.#stop();
  }

  /** Sends the current bucket's checks, one after another; a tick during a send is skipped. */
  async #tick(o: Required<SchedulerOptions>): Promise<void> {
    if (this.#busy) return;
    const t = o.monotonic();
    if (this.#lastTick >= 0 && t - this.#lastTick > 2000) {
      o.log.debug(
        `Previous bucket took over ${
          Math.round((t - this.#lastTick) / 1000)
        }s to schedule. Next checks will be running behind the schedule.`,
      );
    }
    this.#lastTick = t;
    const bucket = [...this.buckets[this.#index]];
    this.#index = (this.#index + 1) % this.buckets.length;
    if (bucket.length === 0) return;
    this.#busy = true;
    try {
      const scheduled = o.now();
      for (const check of bucket) {
        // Unscheduled while the bucket was being sent: skip it.
        if (!this.buckets.some((b) => b.includes(check))) continue;
        await o.dispatch(check, scheduled);
      }
    } finally {
      this.#busy = false;
    }
  }
}

/**
 * Schedules checks by interval.
 *
 * @example Fifteen checks of interval 15 take one bucket each
 * ```ts
 * import { Scheduler } from "./_scheduler.ts";
 * import { createLogger } from "../../log/mod.ts";
 * const s = new Scheduler({ dispatch: async () => {}, log: createLogger().for("collector"), ticker: () => () => {} });
 * for (let i = 0; i < 2; i++) {
 *   s.schedule({ id: `c${i}`, intervalS: 15 } as never);
 * }
 * s.bucketOf("c1"); // 7
 * s.stop();
 * ```
 */
export class Scheduler {
  readonly #o: Required<SchedulerOptions>;
  readonly #queues = new Map<number, JobQueue>();
  readonly #byId = new Map<string, JobQueue | null>();
  #entered = 0;
  #running = true;

  constructor(options: SchedulerOptions) {
    this.#o = {
      ticker: realTicker,
      monotonic: () => performance.now(),
      now: Date.now,
      ...definedOnly(options),
    };
  }

  /**
   * Schedules a check. Interval 0 runs it once, now; 0 < interval < 1 s is refused. A check
   * already scheduled under its ID is refused too.
   */
  schedule(check: Check): void {
    const interval = check.intervalS;
    if (!(interval >= 0) || (interval > 0 && interval < 1)) {
      throw new RangeError("Schedule interval must be greater than 1s or 0");
    }
    if (this.#byId.has(check.id)) {
      throw new Error(`Cannot schedule check "${check.id}": it is already scheduled`);
    }
    this.#entered++;
    if (interval === 0) {
      this.#byId.set(check.id, null);
      void this.#o.dispatch(check, this.#o.now());
      return;
    }
    const key = Math.trunc(interval);
    let q = this.#queues.get(key);
    if (!q) {
      q = new JobQueue(key);
      this.#queues.set(key, q);
      if (this.#running) q.start(this.#o);
    }
    q.add(check);
    this.#byId.set(check.id, q);
  }

  /** Removes a check; its bucket skips it from now on. False when it was not scheduled. */
  unschedule(id: string): boolean {
    if (!this.#byId.has(id)) return false;
    const q = this.#byId.get(id);
    this.#byId.delete(id);
    if (q) q.remove(id);
    this.#entered = Math.max(0, this.#entered - 1);
    return true;
  }

  /** True while `id` is scheduled. */
  has(id: string): boolean {
    return this.#byId.has(id);
  }

  /** How many checks are scheduled. */
  get size(): number {
    return this.#byId.size;
  }

  /** The bucket index of a scheduled check, or -1 (not scheduled, or interval 0). */
  bucketOf(id: string): number {
    const q = this.#byId.get(id);
    if (!q) return -1;
    return q.buckets.findIndex((b) => b.some((c) => c.id === id));
  }

  /** Stops every queue's ticker; scheduled checks stay listed until unscheduled. */
  stop(): void {
    this.#running = false;
    for (const q of this.#queues.values()) q.stop();
  }

  /** The expvar `scheduler` object. */
  stats(): SchedulerStats {
    return {
      QueuesCount: this.#queues.size,
      ChecksEntered: this.#entered,
      Queues: [...this.#queues.values()].map((q) => ({
        Interval: q.intervalS,
        Buckets: q.buckets.length,
        Size: q.size,
      })),
    };
  }
}

/** The options that are set: an explicit `undefined` keeps the default. */
function definedOnly<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
