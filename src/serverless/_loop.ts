/**
 * The invocation loop: wait for the next event, and hand on what the function produced as
 * the flush strategy (`_strategy.ts`) decides when each invocation starts.
 *
 * An `end` flush runs once the runtime is done with the invocation, which the Telemetry API's
 * `platform.runtimeDone` or the daemon's `/lambda/end-invocation` tell ({@linkcode
 * InvocationDone}), and before the extension calls `next` again: that is what lets the sandbox
 * freeze. When nothing will tell (no telemetry, no library calling end-invocation), the end
 * of invocation N is known only when the next event arrives, and N's data is flushed then.
 * Every wait and flush is bounded by the invocation's deadline. SHUTDOWN always gets the final
 * flush, bounded by its deadline.
 *
 * On Lambda Managed Instances the extension registers for SHUTDOWN only (invocations run
 * concurrently and are known from telemetry): {@linkcode runManagedLoop} flushes in the
 * background every interval instead.
 */
import type { Log } from "../log/mod.ts";
import type {
  ExtensionEvent,
  ExtensionsClient,
  InvokeEvent,
  ShutdownEvent,
} from "./_extensions_api.ts";
import { type FlushDecision, FlushPlanner } from "./_strategy.ts";

/** Kept off the deadline so the platform still has time to read our `next` or our exit. */
export const DEADLINE_MARGIN_MS = 20;

/**
 * Kept free after SHUTDOWN's final flush for stopping the components and the daemon, so the
 * exit still comes inside the 2 s before the platform's SIGKILL on a loaded machine.
 */
export const STOP_RESERVE_MS = 300;

/** A flush never takes longer than this, whatever the deadline (the Go agent's FlushTimeout). */
export const FLUSH_TIMEOUT_MS = 5_000;

/** Flushes metrics, traces and logs; resolves once what was buffered is delivered or stored. */
export type Flush = () => Promise<void>;

/** What the loop counts, for logs and tests. */
export interface LoopStats {
  invocations: number;
  flushes: number;
  /** Flushes that failed or ran past their deadline. */
  failedFlushes: number;
  /** The decision made at each invocation's start. */
  decisions: Record<FlushDecision, number>;
  /** `end` flushes that ran as soon as the runtime was done (not at the next event). */
  doneFlushes: number;
  /** Flushes of the race timer, in a long invocation or while waiting. */
  raceFlushes: number;
}

/** Zeroed {@linkcode LoopStats}. */
export function newLoopStats(): LoopStats {
  return {
    invocations: 0,
    flushes: 0,
    failedFlushes: 0,
    decisions: { end: 0, periodic: 0, continuous: 0, dont: 0 },
    doneFlushes: 0,
    raceFlushes: 0,
  };
}

const TIMEOUT = Symbol("timeout");

/** `promise`, or {@linkcode TIMEOUT} after `ms`; the timer does not outlive the race. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof TIMEOUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMEOUT), Math.max(ms, 0));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `flush` for at most `budgetMs`; resolves with false when it failed or ran out of time
 * (the flush keeps going in the background: what it still delivers is not lost).
 */
export async function boundedFlush(flush: Flush, budgetMs: number, log: Log): Promise<boolean> {
  if (budgetMs <= 0) {
    log.warn("No time left before the deadline: flush skipped");
    return false;
  }
  try {
    const outcome = await within(flush(), budgetMs);
    if (outcome === TIMEOUT) log.warn(`Flush still running after ${budgetMs} ms: moving on`);
    return outcome !== TIMEOUT;
  } catch (e) {
    log.error(`Flush failed: ${(e as Error).message}`);
    return false;
  }
}

/** The time a flush may take before `event`'s deadline (SHUTDOWN's leaves time to stop). */
export function flushBudget(event: ExtensionEvent, now: number): number {
  const reserve = event.eventType === "SHUTDOWN" ? STOP_RESERVE_MS : 0;
  return Math.min(event.deadlineMs - now - DEADLINE_MARGIN_MS - reserve, FLUSH_TIMEOUT_MS);
}

/** Request ids remembered as done before their INVOKE was handled (a fast function). */
const EARLY_DONE_KEPT = 8;

/**
 * Invocations in a row whose end was not told before their deadline, after which the loop stops
 * waiting for it (a subscription that delivers nothing must not hold every invocation to its
 * deadline) and flushes at the next event; any end told makes it wait again.
 */
export const MISSED_ENDS_TOLERATED = 2;

/**
 * The "invocation done" hook: the telemetry listener (`platform.runtimeDone`) and the daemon
 * (`/lambda/end-invocation`) call {@linkcode InvocationDone.done}; the loop waits on it.
 */
export class InvocationDone {
  /** Set once the Telemetry API subscription succeeded: every invocation's end is told. */
  telemetry = false;
  /** Set by the first end-invocation: a tracer tells the end of every invocation. */
  #library = false;
  #missed = 0;
  #current = "";
  #currentDone = false;
  readonly #early: string[] = [];
  #wake: (() => void) | null = null;

  /** Whether something will tell the end of the current invocation. */
  get expected(): boolean {
    return (this.telemetry || this.#library) && this.#missed < MISSED_ENDS_TOLERATED;
  }

  /** The current invocation reached its deadline without a told end. */
  missed(): void {
    this.#missed++;
  }

  /** The runtime is done with `requestId` (null: the current invocation). */
  done(requestId: string | null, from: "telemetry" | "library"): void {
    if (from === "library") this.#library = true;
    this.#missed = 0;
    if (requestId && requestId !== this.#current) {
      this.#early.push(requestId);
      if (this.#early.length > EARLY_DONE_KEPT) this.#early.shift();
      return;
    }
    this.#currentDone = true;
    this.#wake?.();
  }

  /** An invocation starts: the loop calls it for each INVOKE. */
  started(requestId: string): void {
    this.#current = requestId;
    const i = this.#early.indexOf(requestId);
    this.#currentDone = i >= 0;
    if (i >= 0) this.#early.splice(i, 1);
  }

  /** Resolves true once the current invocation is done, false after `ms` or an abort. */
  async wait(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (this.#currentDone) return true;
    let aborted = () => {};
    const woken = new Promise<boolean>((resolve) => {
      this.#wake = () => resolve(true);
      aborted = () => resolve(false);
      signal?.addEventListener("abort", aborted, { once: true });
    });
    try {
      return (await within(woken, ms)) === true;
    } finally {
      this.#wake = null;
      signal?.removeEventListener("abort", aborted);
    }
  }
}

/** Options of {@linkcode runInvocationLoop} and {@linkcode runManagedLoop}. */
export interface LoopOptions {
  client: ExtensionsClient;
  /** Absent in the idle loop (no API key): events are only acknowledged. */
  flush?: Flush;
  log: Log;
  /** @default the `end` strategy */
  planner?: FlushPlanner;
  stats?: LoopStats;
  /**
   * Told of each event once it is read, before the loop acts on it: the state file, the
   * invocation lifecycle, the `timeouts` metric of a SHUTDOWN for a timeout. What it returns
   * is awaited (SHUTDOWN's last telemetry).
   */
  onEvent?: (event: ExtensionEvent) => void | Promise<void>;
  /** Tells when the runtime is done with an invocation; without it `end` waits for the next event. */
  done?: InvocationDone;
  /** Stops the timers (the race timer, the background flush) when the loop is abandoned. */
  signal?: AbortSignal;
  /** The clock of the deadlines and the strategy. @default Date.now */
  now?: () => number;
}

/**
 * One flush at a time: a blocking one waits for the one in flight (within its own budget), a
 * background one is not started while one is in flight. Counts, and tells the planner.
 */
class Flusher {
  #pending: Promise<boolean> | null = null;
  /** `performance.now()` at the end of the last flush: the race timer counts from there. */
  lastEnd = performance.now();

  constructor(
    readonly flush: Flush,
    readonly planner: FlushPlanner,
    readonly stats: LoopStats,
    readonly log: Log,
    readonly now: () => number,
  ) {}

  get pending(): boolean {
    return this.#pending !== null;
  }

  /** A flush within `budgetMs`, the wait for the one in flight included. */
  async run(budgetMs: number): Promise<boolean> {
    const startedAt = performance.now();
    if (this.#pending && (await within(this.#pending, budgetMs)) === TIMEOUT) {
      this.log.warn(`A flush still running after ${budgetMs} ms: no other one started`);
      return false;
    }
    return this.#start(budgetMs - (performance.now() - startedAt));
  }

  /** Starts a flush unless one is in flight; nothing waits for it. */
  background(): void {
    if (!this.#pending) void this.#start(FLUSH_TIMEOUT_MS);
  }

  #start(budgetMs: number): Promise<boolean> {
    this.stats.flushes++;
    const p: Promise<boolean> = boundedFlush(this.flush, budgetMs, this.log).then((ok) => {
      if (!ok) this.stats.failedFlushes++;
      this.planner.flushed(ok, this.now());
      this.lastEnd = performance.now();
      if (this.#pending === p) this.#pending = null;
      return ok;
    });
    this.#pending = p;
    return p;
  }
}

/** SHUTDOWN's final flush: after the one in flight, whatever the backoff. */
async function finalFlush(flusher: Flusher | undefined, event: ShutdownEvent, now: number) {
  if (flusher) await flusher.run(flushBudget(event, now));
}

/**
 * Calls `next` until SHUTDOWN, flushing as the planner decides at each invocation's start and
 * once more for SHUTDOWN; returns the SHUTDOWN event. A failing `next` is thrown to the caller.
 */
export async function runInvocationLoop(options: LoopOptions): Promise<ShutdownEvent> {
  const { client, flush, log, done, signal } = options;
  const stats = options.stats ?? newLoopStats();
  const now = options.now ?? Date.now;
  const planner = options.planner ?? new FlushPlanner({ kind: "end" }, now());
  const flusher = flush ? new Flusher(flush, planner, stats, log, now) : undefined;
  const raceLeft = () => planner.raceMs - (performance.now() - flusher!.lastEnd);

  /** `next`, with the race timer flushing meanwhile when the strategy says so. */
  async function next(): Promise<ExtensionEvent> {
    const event = client.next();
    if (!flusher || !planner.racesWhileWaiting) return await event;
    while (true) {
      const got = await within(event, raceLeft());
      if (got !== TIMEOUT) return got;
      if (signal?.aborted) return await event;
      if (planner.canFlush(now())) {
        stats.raceFlushes++;
        flusher.background();
      }
      flusher.lastEnd = performance.now();
    }
  }

  /**
   * Waits until the runtime is done with `event` or its deadline is near, the race timer
   * flushing meanwhile; true when done.
   */
  async function untilDone(event: InvokeEvent): Promise<boolean> {
    while (true) {
      const left = event.deadlineMs - now() - DEADLINE_MARGIN_MS;
      const race = raceLeft();
      if (await done!.wait(Math.min(left, race), signal)) return true;
      if (signal?.aborted) throw new Error("invocation loop abandoned");
      if (left <= race) return false;
      stats.raceFlushes++;
      await flusher!.run(flushBudget(event, now()));
    }
  }

  // An `end` flush owed to the last invocation, when nothing told its end.
  let owed = false;
  let event = await next();
  while (true) {
    await options.onEvent?.(event);
    if (event.eventType === "SHUTDOWN") {
      log.info(`Shutdown (${event.shutdownReason}) after ${stats.invocations} invocations`);
      await finalFlush(flusher, event, now());
      return event;
    }
    stats.invocations++;
    done?.started(event.requestId);
    log.debug(`Invocation ${event.requestId}`);
    const decision = flusher ? planner.decide(now()) : "dont";
    stats.decisions[decision]++;
    if (flusher) {
      // A backoff (decision `dont`) also holds back what is owed.
      const owedNow = owed && planner.canFlush(now());
      if (owedNow || decision === "periodic") await flusher.run(flushBudget(event, now()));
      else if (decision === "continuous") flusher.background();
      owed = false;
      if (decision === "end") {
        if (!done?.expected) owed = true;
        else if (await untilDone(event)) {
          stats.doneFlushes++;
          await flusher.run(flushBudget(event, now()));
        } else {
          done.missed();
          const waits = done.expected ? "" : ": flushing at the next event from now on";
          log.debug(`Invocation ${event.requestId}: no end told before its deadline${waits}`);
          owed = true;
        }
      }
    }
    event = await next();
  }
}

/**
 * The loop of Lambda Managed Instances: `next` only returns SHUTDOWN, and a flush starts in
 * the background every `planner.raceMs` (the `continuously` interval) unless one is still in
 * flight or a backoff is on. SHUTDOWN waits for the one in flight and does the final flush.
 */
export async function runManagedLoop(options: LoopOptions): Promise<ShutdownEvent> {
  const { client, flush, log, signal } = options;
  const stats = options.stats ?? newLoopStats();
  const now = options.now ?? Date.now;
  const planner = options.planner ?? new FlushPlanner({ kind: "end" }, now());
  const flusher = flush ? new Flusher(flush, planner, stats, log, now) : undefined;
  const timer = flusher &&
    setInterval(() => {
      if (signal?.aborted) clearInterval(timer);
      else if (planner.canFlush(now())) flusher.background();
    }, planner.raceMs);
  try {
    while (true) {
      const event = await client.next();
      await options.onEvent?.(event);
      if (event.eventType === "SHUTDOWN") {
        clearInterval(timer);
        log.info(`Shutdown (${event.shutdownReason})`);
        await finalFlush(flusher, event, now());
        return event;
      }
      log.warn(`INVOKE ${event.requestId} on Managed Instances (registered for SHUTDOWN only)`);
    }
  } finally {
    clearInterval(timer);
  }
}
