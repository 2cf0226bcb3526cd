/**
 * The one way a component tells that it lost data: {@linkcode LossReporter.lost} counts the
 * loss into the registry and logs it, one line per component and reason per interval with
 * the count since the previous line, so a loss storm cannot flood the log and no loss is
 * silent.
 *
 * What it emits into the registry (`losses.Lost`, `losses.Reasons`) is listed in
 * `events/losses.ts`.
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";
import type { CounterVec, Registry } from "./registry.ts";
import { lossesEvents } from "./events/losses.ts";

/** Lines per component and reason are at most one per this many ms. */
export const LOSS_LOG_INTERVAL_MS = 30_000;

/** One loss, as a component reports it. */
export interface LossEvent {
  /** The component that lost the data, also the logger's component: `forwarder`. */
  component: string;
  /** A stable reason code: `disk_full`, `retry_queue_full`, `context_limit`. */
  reason: string;
  /** How many items were lost (0 is ignored). */
  count: number;
  /** What the items are, plural: `payloads`, `samples`. */
  unit: string;
  /** Where, when it helps the reader: a domain or an endpoint. */
  where?: string;
  /** The latest cause, written with the next line: `last error: ENOSPC: no space left`. */
  detail?: string;
}

/** What status shows per component and reason. */
export interface LossSummary {
  count: number;
  unit: string;
  firstMs: number;
  lastMs: number;
}

/** Options of {@linkcode LossReporter}. */
export interface LossReporterOptions {
  registry: Registry;
  /** Lines go to `logger.for(component)`. */
  logger: Pick<Logger, "for">;
  /** @default LOSS_LOG_INTERVAL_MS */
  intervalMs?: number;
  /** @default Date.now */
  now?: () => number;
}

interface Pending {
  component: string;
  reason: string;
  unit: string;
  total: number;
  /** Lost since the last line. */
  pending: number;
  /** Where the pending ones were lost (first few). */
  wheres: Set<string>;
  detail: string | undefined;
  firstMs: number;
  lastMs: number;
  /** When the last line was written; -Infinity before the first. */
  lineMs: number;
}

/** Where lines list at most this many places; more are summed up as "…". */
const MAX_WHERES = 3;

/**
 * Counts and logs losses, rate limited per component and reason.
 *
 * @example Tell a loss
 * ```ts
 * import { createLogger } from "../log/mod.ts";
 * import { Registry } from "./registry.ts";
 * import { LossReporter } from "./losses.ts";
 * import { LOSSES } from "./events/losses.ts";
 * const registry = new Registry();
 * const losses = new LossReporter({ registry, logger: createLogger({ level: "off" }) });
 * losses.lost({ component: "forwarder", reason: "disk_full", count: 3, unit: "payloads" });
 * console.log(registry.read(LOSSES.lost)); // { "forwarder.disk_full": 3 }
 * losses.flush();
 * ```
 */
export class LossReporter {
  readonly #logger: Pick<Logger, "for">;
  readonly #interval: number;
  readonly #now: () => number;
  readonly #counts: CounterVec;
  readonly #byKey = new Map<string, Pending>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    { registry, logger, intervalMs = LOSS_LOG_INTERVAL_MS, now = Date.now }: LossReporterOptions,
  ) {
    this.#logger = logger;
    this.#interval = intervalMs;
    this.#now = now;
    this.#counts = lossesEvents(registry, { reasons: () => this.summary() }).lost;
  }

  /** Counts `event` and logs it now, or with the next line for its reason. */
  lost(event: LossEvent): void {
    const { component, reason, count, unit, where, detail } = event;
    if (!(count > 0)) return;
    const key = `${component}.${reason}`;
    const now = this.#now();
    let p = this.#byKey.get(key);
    if (!p) {
      p = {
        component,
        reason,
        unit,
        total: 0,
        pending: 0,
        wheres: new Set(),
        detail: undefined,
        firstMs: now,
        lastMs: now,
        lineMs: -Infinity,
      };
      this.#byKey.set(key, p);
    }
    this.#counts.with(key).inc(count);
    p.total += count;
    p.pending += count;
    p.lastMs = now;
    if (where !== undefined && p.wheres.size <= MAX_WHERES) p.wheres.add(where);
    if (detail !== undefined) p.detail = detail;
    if (now - p.lineMs >= this.#interval) this.#line(p, now);
    else this.#schedule(p.lineMs + this.#interval - now);
  }

  /** Logs every count not logged yet (at stop, so the last losses are told too). */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const now = this.#now();
    for (const p of this.#byKey.values()) if (p.pending > 0) this.#line(p, now);
  }

  /** Per `<component>.<reason>`: the total lost, its unit, first and last time. */
  summary(): Record<string, LossSummary> {
    const out: Record<string, LossSummary> = {};
    for (const [key, p] of this.#byKey) {
      out[key] = { count: p.total, unit: p.unit, firstMs: p.firstMs, lastMs: p.lastMs };
    }
    return out;
  }

  #line(p: Pending, now: number): void {
    const places = [...p.wheres].slice(0, MAX_WHERES);
    const where = places.length
      ? ` at ${places.join(", ")}${p.wheres.size > MAX_WHERES ? ", …" : ""}`
      : "";
    const since = p.lineMs === -Infinity ? "" : ` since ${new Date(p.lineMs).toISOString()}`;
    const then = p.lineMs === -Infinity
      ? `; more losses for this reason are logged at most every ${this.#interval / 1000} s`
      : "";
    this.#logger.for(p.component).warn(
      `Lost ${p.pending} ${p.unit}${where} (${p.reason}${
        p.detail ? `, ${p.detail}` : ""
      })${since}, ${p.total} in total${then}`,
    );
    p.pending = 0;
    p.wheres.clear();
    p.detail = undefined;
    p.lineMs = now;
  }

  #schedule(delayMs: number): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const now = this.#now();
      let next = Infinity;
      for (const p of this.#byKey.values()) {
        if (p.pending === 0) continue;
        const due = p.lineMs + this.#interval - now;
        if (due <= 0) this.#line(p, now);
        else next = Math.min(next, due);
      }
      if (next !== Infinity) this.#schedule(next);
    }, Math.max(0, delayMs));
    // A pending line must not keep a stopping process alive (Bun and Node timers are objects).
    (this.#timer as { unref?: () => void }).unref?.();
  }
}
