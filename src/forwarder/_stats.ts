/**
 * The forwarder's counters, all in the telemetry registry (they feed `/debug/vars` and the
 * status page; their names are in `telemetry/events/forwarder.ts`). Endpoint labels are
 * `<domain><route>`; drop labels are reasons. Every drop is also told to the loss reporter,
 * which logs it rate limited.
 */
import {
  type CounterVec,
  forwarderEvents,
  type ForwarderReaders,
  type LossReporter,
  type Registry,
} from "../telemetry/mod.ts";
import type { Outcome } from "../http/mod.ts";
import type { Log } from "../log/mod.ts";
import type { Transaction } from "./_transaction.ts";

/** A failure run starting within this long of the last WARN of its endpoint is not told again. */
const FAILING_WARN_EVERY_MS = 60_000;

/** The last error of an endpoint: a status code or a network reason, with its time. */
export interface EndpointError {
  reason: string;
  /** The HTTP status, when the intake answered. */
  status?: number;
  atMs: number;
}

/** What `forwarder.EndpointHealth` holds per endpoint. */
export interface EndpointHealth {
  /** Epoch ms of the first failure of the current run; null while the endpoint answers. */
  failingSinceMs: number | null;
  /** Failed attempts of the current run. */
  failedAttempts: number;
  lastError: EndpointError | null;
  /** Error answers by HTTP status code, retried or not. */
  httpCodes: Record<string, number>;
  /** Transactions dropped for good, by reason. */
  dropsByReason: Record<string, number>;
}

/** Options of {@linkcode ForwarderStats} beyond the registry. */
export interface StatsOptions {
  /** Where failure and recovery lines go. @default none */
  log?: Log;
  /** @default Date.now */
  now?: () => number;
}

/** `HTTP 503` for an answer, `connection refused` for a network failure. */
function cause(o: Outcome): string {
  return o.status ? `HTTP ${o.status}` : o.reason.replaceAll("_", " ");
}

/** Per-endpoint and per-reason counters of the forwarder. */
export class ForwarderStats {
  /** Delivered transactions by endpoint. */
  readonly success: CounterVec;
  /** Failed attempts that will be retried, by endpoint. */
  readonly errors: CounterVec;
  /** Failed attempts by reason (`http_503`, `connection_refused`, `timeout`…). */
  readonly errorsByType: CounterVec;
  /** Transactions put back in the retry queue, by endpoint. */
  readonly retried: CounterVec;
  /** Transactions dropped for good, by reason. */
  readonly dropped: CounterVec;
  /** Transactions dropped for good, by endpoint (or domain for whole files). */
  readonly droppedByEndpoint: CounterVec;
  /** HTTP error answers by status code. */
  readonly httpErrors: CounterVec;
  /** Transactions written to the disk queue, by domain. */
  readonly stored: CounterVec;
  /** Transactions loaded back from the disk queue, by domain. */
  readonly replayed: CounterVec;
  /** Failed disk-queue file writes, by error code (`ENOSPC`). */
  readonly writeErrors: CounterVec;
  readonly #losses: LossReporter;
  /** The last error behind a reason, told with its next loss line. */
  readonly #details = new Map<string, string>();
  readonly #health = new Map<string, EndpointHealth & { warnedAtMs: number; quiet: number }>();
  readonly #log?: Log;
  readonly #now: () => number;

  /** `published` is what the forwarder publishes besides {@linkcode endpoints} and health. */
  constructor(
    registry: Registry,
    losses: LossReporter,
    published: Omit<ForwarderReaders, "endpoints" | "endpointHealth">,
    { log, now = Date.now }: StatsOptions = {},
  ) {
    this.#losses = losses;
    this.#log = log;
    this.#now = now;
    const events = forwarderEvents(registry, {
      ...published,
      endpoints: () => this.endpoints(),
      endpointHealth: () => this.health(),
    });
    this.success = events.transactionsSuccess;
    this.errors = events.transactionsErrors;
    this.errorsByType = events.transactionsErrorsByType;
    this.retried = events.transactionsRetried;
    this.dropped = events.transactionsDropped;
    this.droppedByEndpoint = events.transactionsDroppedByEndpoint;
    this.httpErrors = events.transactionsHttpErrorsByCode;
    this.stored = events.diskQueueStored;
    this.replayed = events.diskQueueReplayed;
    this.writeErrors = events.diskQueueWriteErrors;
  }

  /** Per endpoint: successes, errors, retries and drops, for the status page. */
  endpoints(): Record<string, { success: number; errors: number; retries: number; drops: number }> {
    const out: Record<string, { success: number; errors: number; retries: number; drops: number }> =
      {};
    const columns = [
      ["success", this.success],
      ["errors", this.errors],
      ["retries", this.retried],
      ["drops", this.droppedByEndpoint],
    ] as const;
    for (const [column, vec] of columns) {
      for (const [endpoint, n] of Object.entries(vec.toJSON())) {
        (out[endpoint] ??= { success: 0, errors: 0, retries: 0, drops: 0 })[column] = n;
      }
    }
    return out;
  }

  /** Per endpoint: the current failure run, the last error, codes and drops (`forwarder.EndpointHealth`). */
  health(): Record<string, EndpointHealth> {
    const out: Record<string, EndpointHealth> = {};
    for (const [url, { warnedAtMs: _w, quiet: _q, ...h }] of this.#health) {
      out[url] = { ...h, httpCodes: { ...h.httpCodes }, dropsByReason: { ...h.dropsByReason } };
    }
    return out;
  }

  #of(url: string) {
    let h = this.#health.get(url);
    if (!h) {
      h = {
        failingSinceMs: null,
        failedAttempts: 0,
        lastError: null,
        httpCodes: {},
        dropsByReason: {},
        warnedAtMs: -Infinity,
        quiet: 0,
      };
      this.#health.set(url, h);
    }
    return h;
  }

  #error(tx: Transaction, o: Outcome) {
    const h = this.#of(tx.url);
    h.lastError = {
      reason: o.reason,
      ...(o.status ? { status: o.status } : {}),
      atMs: this.#now(),
    };
    if (o.status) {
      this.httpErrors.with(String(o.status)).inc();
      h.httpCodes[o.status] = (h.httpCodes[o.status] ?? 0) + 1;
    }
    return h;
  }

  /**
   * Counts a failed attempt that will be retried. The first of a run writes one WARN line
   * (at most one a minute per endpoint); the rest of the run is only counted.
   */
  failed(tx: Transaction, o: Outcome): void {
    this.errors.with(tx.url).inc();
    this.errorsByType.with(o.reason).inc();
    const h = this.#error(tx, o);
    h.failedAttempts++;
    if (h.failingSinceMs !== null) return;
    h.failingSinceMs = h.lastError!.atMs;
    if (h.failingSinceMs - h.warnedAtMs < FAILING_WARN_EVERY_MS) {
      h.quiet++;
      return;
    }
    h.warnedAtMs = h.failingSinceMs;
    const more = h.quiet > 0 ? ` (${h.quiet} shorter failure runs since the last such line)` : "";
    h.quiet = 0;
    this.#log?.warn(
      `Cannot send ${tx.kind || "payloads"} to ${tx.url}: ${
        cause(o)
      }; payloads are kept and retried until it answers${more}`,
    );
  }

  /** Counts a delivery; ends a failure run with an INFO line when its start was told. */
  delivered(tx: Transaction): void {
    this.success.with(tx.url).inc();
    const h = this.#health.get(tx.url);
    if (!h || h.failingSinceMs === null) return;
    const seconds = Math.round((this.#now() - h.failingSinceMs) / 1000);
    if (h.warnedAtMs === h.failingSinceMs) {
      this.#log?.info(
        `Sending to ${tx.url} works again after ${h.failedAttempts} failed attempts over ${seconds} s`,
      );
    }
    h.failingSinceMs = null;
    h.failedAttempts = 0;
  }

  /** Counts a transaction the intake refused for good (400, 403, 413…) with its reason and code. */
  rejected(tx: Transaction, o: Outcome): void {
    this.#error(tx, o);
    if (o.status) this.#details.set(o.reason, `last: HTTP ${o.status} from ${tx.url}`);
    this.drop(tx.url, o.reason);
  }

  /** Counts `count` transactions of `where` (an endpoint or a domain) dropped for `reason`. */
  drop(where: string, reason: string, count = 1): void {
    this.dropped.with(reason).inc(count);
    this.droppedByEndpoint.with(where).inc(count);
    const h = this.#of(where);
    h.dropsByReason[reason] = (h.dropsByReason[reason] ?? 0) + count;
    const detail = this.#details.get(reason);
    this.#losses.lost({ component: "forwarder", reason, count, unit: "payloads", where, detail });
  }

  /** Counts a failed disk-queue write; its message goes with the next `disk_write_failed` line. */
  writeError(code: string, message: string): void {
    this.writeErrors.with(code).inc();
    this.#details.set("disk_write_failed", `last error: ${message}`);
  }
}
