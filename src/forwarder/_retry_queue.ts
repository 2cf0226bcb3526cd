/**
 * The in-memory retry queue of one domain, capped in payload bytes.
 *
 * Buffer policy `memory_then_disk`: when an add would pass the cap, the oldest transactions
 * (normal priority before high) are evicted and handed to `onEvict`, which spills them to
 * the disk queue. Cost: with the disk queue off or full, evicted transactions are lost (and
 * counted); with it on, nothing is lost until the disk cap.
 */
import type { Transaction } from "./_transaction.ts";

/** Options of {@linkcode RetryQueue}. */
export interface RetryQueueOptions {
  /** Payload bytes kept in memory. @default 15 MiB */
  maxBytes: number;
  /**
   * Share of `maxBytes` evicted at once when full. Evicting in batches writes fewer, larger
   * disk files. 0 evicts only what the new transaction needs. @default 0
   */
  flushRatio?: number;
  /** Receives evicted transactions, oldest first. */
  onEvict: (evicted: Transaction[]) => void;
}

/** Evicted first: normal priority, then oldest. */
function evictionOrder(a: Transaction, b: Transaction): number {
  if (a.priority !== b.priority) return a.priority === "normal" ? -1 : 1;
  return a.createdAt - b.createdAt || a.id - b.id;
}

/** Sent first: high priority, then oldest. */
export function sendOrder(a: Transaction, b: Transaction): number {
  if (a.priority !== b.priority) return a.priority === "high" ? -1 : 1;
  return a.createdAt - b.createdAt || a.id - b.id;
}

/** A byte-capped queue of transactions waiting for a retry. */
export class RetryQueue {
  #items: Transaction[] = [];
  #bytes = 0;
  readonly #max: number;
  readonly #flushRatio: number;
  readonly #onEvict: (evicted: Transaction[]) => void;

  constructor({ maxBytes, flushRatio = 0, onEvict }: RetryQueueOptions) {
    this.#max = maxBytes;
    this.#flushRatio = flushRatio;
    this.#onEvict = onEvict;
  }

  /** Payload bytes held. */
  get bytes(): number {
    return this.#bytes;
  }
  /** Transactions held. */
  get length(): number {
    return this.#items.length;
  }
  /** The transactions held, in no particular order (read only). */
  get items(): readonly Transaction[] {
    return this.#items;
  }
  /** The byte cap. */
  get maxBytes(): number {
    return this.#max;
  }

  /** Adds `tx`, evicting the oldest first when the cap would be passed. */
  add(tx: Transaction): void {
    const size = tx.body.byteLength;
    if (size > this.#max) return this.#onEvict([tx]);
    if (this.#bytes + size > this.#max) {
      const target = Math.min(this.#max - size, Math.floor(this.#max * (1 - this.#flushRatio)));
      this.#evictTo(target);
    }
    this.#items.push(tx);
    this.#bytes += size;
  }

  /** Removes and returns every transaction, in send order. */
  drain(): Transaction[] {
    const items = this.#items.sort(sendOrder);
    this.#items = [];
    this.#bytes = 0;
    return items;
  }

  #evictTo(target: number): void {
    this.#items.sort(evictionOrder);
    let n = 0;
    let bytes = this.#bytes;
    while (n < this.#items.length && bytes > target) bytes -= this.#items[n++].body.byteLength;
    const evicted = this.#items.splice(0, n);
    this.#bytes = bytes;
    if (evicted.length > 0) this.#onEvict(evicted);
  }
}
