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
import type { Transaction } from "./_transaction.ts";

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

  /** `published` is what the forwarder publishes besides {@linkcode endpoints}. */
  constructor(
    registry: Registry,
    losses: LossReporter,
    published: Omit<ForwarderReaders, "endpoints">,
  ) {
    this.#losses = losses;
    const events = forwarderEvents(registry, { ...published, endpoints: () => this.endpoints() });
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

  /** Counts `count` transactions of `where` (an endpoint or a domain) dropped for `reason`. */
  drop(where: string, reason: string, count = 1): void {
    this.dropped.with(reason).inc(count);
    this.droppedByEndpoint.with(where).inc(count);
    const detail = this.#details.get(reason);
    this.#losses.lost({ component: "forwarder", reason, count, unit: "payloads", where, detail });
  }

  /** Counts a failed disk-queue write; its message goes with the next `disk_write_failed` line. */
  writeError(code: string, message: string): void {
    this.writeErrors.with(code).inc();
    this.#details.set("disk_write_failed", `last error: ${message}`);
  }

  /** Counts one transaction dropped for `reason`. */
  dropTx(tx: Transaction, reason: string): void {
    this.drop(tx.url, reason);
  }
}
