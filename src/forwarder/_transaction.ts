/**
 * What the forwarder moves: opaque payloads in, one transaction per payload × domain × API
 * key, and an explicit delivery state for each.
 */

/**
 * One request body the serializer built, ready to send. The forwarder never looks inside it.
 *
 * @example
 * ```ts
 * import type { Payload } from "./_transaction.ts";
 * const p: Payload = {
 *   route: "/api/v1/check_run",
 *   body: new TextEncoder().encode("[]"),
 *   headers: { "Content-Type": "application/json" },
 *   storable: true,
 * };
 * ```
 */
export interface Payload {
  /** Path on the intake, e.g. `/api/v2/series`. */
  route: string;
  /** The (usually compressed) body. */
  body: Uint8Array;
  /** Content-Type, Content-Encoding and payload-specific headers. */
  headers: Record<string, string>;
  /** False for payloads that carry the API key (host metadata): never written to disk. */
  storable: boolean;
  /**
   * High priority payloads are evicted from memory last. @default "high" when not storable
   * (it cannot wait on disk), "normal" otherwise
   */
  priority?: "normal" | "high";
  /** What the payload holds (`series`, `sketches`…), for logs and telemetry. */
  kind?: string;
  /** Which pipeline's domains get it (`ForwarderSettings.pipelines`). @default "metrics" */
  pipeline?: string;
}

/**
 * How a transaction left this process, best first. A payload's status is the worst of its
 * transactions' (Delivered < Stored < Errored < Rejected).
 * - `delivered`: the intake answered 2xx/3xx.
 * - `stored`: written to the disk queue; a later run (or this one) replays it.
 * - `errored`: retriable, but given up (memory full with no disk, or stopped) — lost.
 * - `rejected`: the intake refused it for good (400, 403, 413) or it could never be sent.
 */
export type DeliveryStatus = "delivered" | "stored" | "errored" | "rejected";

const RANK: Record<DeliveryStatus, number> = { delivered: 0, stored: 1, errored: 2, rejected: 3 };

/** The final state of a payload with the reason of its worst transaction. */
export interface DeliveryResult {
  status: DeliveryStatus;
  reason: string;
}

/** The ack handle of a submitted payload. */
export interface Delivery {
  /** Settles once every transaction of the payload has left memory. */
  readonly done: Promise<DeliveryResult>;
}

/** Merges the statuses of one payload's transactions into one result. */
export class DeliveryTracker implements Delivery {
  readonly done: Promise<DeliveryResult>;
  #pending: number;
  #worst: DeliveryResult = { status: "delivered", reason: "delivered" };
  #resolve!: (r: DeliveryResult) => void;

  constructor(transactions: number) {
    this.#pending = transactions;
    this.done = new Promise((resolve) => (this.#resolve = resolve));
    if (transactions === 0) this.#resolve({ status: "rejected", reason: "no_endpoint" });
  }

  /** Records one transaction's final state. */
  settle(status: DeliveryStatus, reason: string): void {
    if (RANK[status] > RANK[this.#worst.status]) this.#worst = { status, reason };
    if (--this.#pending === 0) this.#resolve(this.#worst);
  }
}

/** Where a transaction replayed from disk came from, so its file is deleted only when settled. */
export interface DiskOrigin {
  readonly file: string;
  readonly index: number;
}

/** One HTTP POST to make: a payload bound to a domain and an API key. */
export interface Transaction {
  readonly id: number;
  /** `scheme://host[:port]` of the domain, no trailing slash. */
  readonly domain: string;
  readonly route: string;
  /** domain + route: the unit of the circuit breaker and of per-endpoint telemetry. */
  readonly url: string;
  readonly apiKey: string;
  /** Every header to send, the API key included. */
  readonly headers: Record<string, string>;
  readonly body: Uint8Array;
  readonly storable: boolean;
  readonly kind: string;
  /** Epoch ms of the payload's creation; replay and eviction go oldest first. */
  readonly createdAt: number;
  /** High-priority transactions (not storable: host metadata) are evicted last. */
  readonly priority: "high" | "normal";
  /** Sends made so far. */
  attempts: number;
  /** The submitter's ack handle; absent for transactions replayed from a previous run. */
  readonly tracker?: DeliveryTracker;
  /** Set when the transaction was loaded from a disk file. */
  readonly origin?: DiskOrigin;
}

let nextId = 1;

/** Builds one transaction; `headers` must already hold the API key. */
export function makeTransaction(
  fields: Omit<Transaction, "id" | "url" | "attempts" | "priority"> & {
    priority?: Transaction["priority"];
  },
): Transaction {
  return {
    ...fields,
    id: nextId++,
    url: fields.domain + fields.route,
    attempts: 0,
    priority: fields.priority ?? (fields.storable ? "normal" : "high"),
  };
}
