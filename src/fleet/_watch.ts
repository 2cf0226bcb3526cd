/**
 * The experiment watch both supervisors share: poll the health check until it passes or the
 * health timeout ends, then wait out the watch window.
 */
import type { WatchState } from "./_state.ts";

/** Options of {@linkcode watchExperiment}. */
export interface WatchOptions {
  version: string;
  /** When the experiment started (ms since the epoch). */
  startedAt: number;
  health: () => Promise<boolean>;
  healthTimeoutMs: number;
  watchMs: number;
  pollMs: number;
  onWatch?: (state: WatchState) => void;
  /** Called once when the experiment did not become healthy in time. */
  fail: (reason: string) => void;
}

/** Starts watching; returns a function that cancels the watch. */
export function watchExperiment(o: WatchOptions): () => void {
  let cancelled = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const later = (fn: () => void, ms: number) => (timer = setTimeout(fn, ms));
  const poll = async () => {
    let ok = false;
    try {
      ok = await o.health();
    } catch { /* not answering yet */ }
    if (cancelled) return;
    if (ok) {
      o.onWatch?.("watching");
      later(() => {
        if (!cancelled) o.onWatch?.("passed");
      }, Math.max(0, o.startedAt + o.watchMs - Date.now()));
    } else if (Date.now() >= o.startedAt + o.healthTimeoutMs) {
      o.fail(
        `The experiment ${o.version} did not report healthy within ${o.healthTimeoutMs / 1000} s`,
      );
    } else later(poll, o.pollMs);
  };
  o.onWatch?.("starting");
  later(poll, o.pollMs);
  return () => {
    cancelled = true;
    clearTimeout(timer);
  };
}
