/**
 * The invocation loop: wait for the next event, and hand on what the function produced.
 *
 * Flushes happen when `next` returns: the end of one invocation is known when the next event
 * arrives, so what invocation N buffered is flushed at the start of N+1 (the sandbox is thawed
 * then, and the flush does not add to N's duration), when the flush strategy says so, bounded
 * by the new event's deadline. SHUTDOWN always gets the final flush, bounded by its deadline.
 */
import type { Log } from "../log/mod.ts";
import type {
  ExtensionEvent,
  ExtensionsClient,
  InvokeEvent,
  ShutdownEvent,
} from "./_extensions_api.ts";
import { FlushPlanner } from "./_strategy.ts";

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
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), budgetMs);
  });
  try {
    const outcome = await Promise.race([flush().then(() => "done" as const), timeout]);
    if (outcome === "timeout") log.warn(`Flush still running after ${budgetMs} ms: moving on`);
    return outcome === "done";
  } catch (e) {
    log.error(`Flush failed: ${(e as Error).message}`);
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** The time a flush may take before `event`'s deadline (SHUTDOWN's leaves time to stop). */
export function flushBudget(event: ExtensionEvent, now: number): number {
  const reserve = event.eventType === "SHUTDOWN" ? STOP_RESERVE_MS : 0;
  return Math.min(event.deadlineMs - now - DEADLINE_MARGIN_MS - reserve, FLUSH_TIMEOUT_MS);
}

/** Options of {@linkcode runInvocationLoop}. */
export interface LoopOptions {
  client: ExtensionsClient;
  /** Absent in the idle loop (no API key): events are only acknowledged. */
  flush?: Flush;
  log: Log;
  /** @default the `end` strategy: a flush at every event */
  planner?: FlushPlanner;
  stats?: LoopStats;
  /**
   * Told of each INVOKE once it is read: the invocation lifecycle's request id, and the
   * enhanced `invocations` count when there is no telemetry.
   */
  onInvoke?: (event: InvokeEvent) => void;
  /** @default Date.now */
  now?: () => number;
}

/**
 * Calls `next` until SHUTDOWN, flushing before each new event is handled and once more for
 * SHUTDOWN; returns the SHUTDOWN event. A failing `next` is thrown to the caller.
 */
export async function runInvocationLoop(options: LoopOptions): Promise<ShutdownEvent> {
  const { client, flush, log } = options;
  const stats = options.stats ?? { invocations: 0, flushes: 0, failedFlushes: 0 };
  const now = options.now ?? Date.now;
  const planner = options.planner ?? new FlushPlanner({ kind: "end" }, now());
  let buffered = false;
  while (true) {
    const event = await client.next();
    const shutdown = event.eventType === "SHUTDOWN";
    if (flush && (shutdown || (buffered && planner.shouldFlush(now())))) {
      stats.flushes++;
      const ok = await boundedFlush(flush, flushBudget(event, now()), log);
      if (!ok) stats.failedFlushes++;
      planner.flushed(ok, now());
    }
    if (event.eventType === "SHUTDOWN") {
      log.info(`Shutdown (${event.shutdownReason}) after ${stats.invocations} invocations`);
      return event;
    }
    stats.invocations++;
    options.onInvoke?.(event);
    planner.invoked(now());
    buffered = true;
    log.debug(`Invocation ${event.requestId}`);
  }
}
