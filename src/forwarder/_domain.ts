/**
 * One domain's forwarder: a high-priority channel for new transactions, a low-priority
 * channel fed by the retry loop, a bounded number of requests in flight, the memory retry
 * queue and the disk queue behind it.
 */
import type { Log } from "../log/mod.ts";
import type { CircuitBreaker } from "./_breaker.ts";
import type { DiskQueue } from "./_disk_queue.ts";
import type { Outcome } from "../http/mod.ts";
import { RetryQueue } from "./_retry_queue.ts";
import { type Send, withBreaker, withRequeue } from "./_send.ts";
import type { ForwarderStats } from "./_stats.ts";
import type { DeliveryStatus, Transaction } from "./_transaction.ts";

/** Options of {@linkcode DomainForwarder}. */
export interface DomainOptions {
  /** The domain URL. */
  url: string;
  /** The bare send, already bounded by the timeout. */
  send: Send;
  breaker: CircuitBreaker;
  disk: DiskQueue;
  stats: ForwarderStats;
  log: Log;
  /** `forwarder_retry_queue_payloads_max_size`. */
  retryQueueBytes: number;
  /** `forwarder_flush_to_disk_mem_ratio`: share of memory spilled at once when full. */
  flushToDiskRatio: number;
  /** `forwarder_high_prio_buffer_size`. */
  highPrioSize: number;
  /** `forwarder_low_prio_buffer_size`. */
  lowPrioSize: number;
  /** `forwarder_num_workers` × `forwarder_max_concurrent_requests`. */
  concurrency: number;
  /** `forwarder_storage_spill_after_seconds` in ms; 0 = off. */
  spillAfterMs: number;
  now: () => number;
}

/** What a domain holds right now, for the status page. */
export interface DomainSnapshot {
  retryQueueBytes: number;
  retryQueueTransactions: number;
  diskBytes: number;
  diskFiles: number;
  diskTransactionsWaiting: number;
  highPrio: number;
  lowPrio: number;
  inFlight: number;
  /** Creation time (epoch ms) of the oldest payload still queued, memory or disk; null when none. */
  oldestQueuedMs: number | null;
}

/** Transactions held only in memory, with their bytes and the oldest creation time. */
export interface MemoryHeld {
  transactions: number;
  bytes: number;
  oldestMs: number | null;
}

/** Sends one domain's transactions and keeps the ones that failed. */
export class DomainForwarder {
  readonly url: string;
  readonly #o: DomainOptions;
  readonly #retry: RetryQueue;
  readonly #send: Send;
  #high: Transaction[] = [];
  #low: Transaction[] = [];
  /** Sends under way; a set, so a crash estimate can name what they held. */
  readonly #flying = new Set<Transaction>();
  readonly #abort = new AbortController();
  /** Stopping: no new sends start; what is left is persisted. */
  #closed = false;
  #idleWaiters: (() => void)[] = [];
  #landedWaiters: (() => void)[] = [];

  constructor(o: DomainOptions) {
    this.url = o.url;
    this.#o = o;
    this.#retry = new RetryQueue({
      maxBytes: o.retryQueueBytes,
      flushRatio: o.disk.enabled ? o.flushToDiskRatio : 0,
      onEvict: (txs) => this.#evicted(txs),
    });
    this.#send = withRequeue(withBreaker(o.send, o.breaker), {
      requeue: (tx, outcome) => this.#requeue(tx, outcome),
    });
  }

  /** Opens the disk queue; a failure is logged and leaves the disk queue unable to write. */
  openDisk(): void {
    try {
      this.#o.disk.open();
    } catch (e) {
      this.#o.log.error(`Cannot open the disk queue of ${this.url}: ${(e as Error).message}`);
    }
  }

  /** Queues a new transaction; it is never dropped here (a full channel means the retry queue). */
  submit(tx: Transaction): void {
    if (this.#closed) return this.#persist([tx], "stopped");
    if (this.#high.length < this.#o.highPrioSize) this.#high.push(tx);
    else this.#retry.add(tx);
    this.#pump();
  }

  /**
   * One turn of the retry loop: spills retries older than `spillAfterMs` to disk; when memory
   * holds nothing else, loads the oldest disk file;
   * then moves retry-queue transactions whose endpoint is not blocked to the low-priority
   * channel, oldest first.
   */
  retryTick(): void {
    if (this.#closed) return;
    this.#spillOld();
    if (this.#retry.length === 0 && this.#high.length === 0 && this.#low.length === 0) {
      // Half the memory cap: replayed files must leave room for new data.
      const txs = this.#o.disk.loadOldest(this.#retry.maxBytes / 2);
      if (txs.length > 0) this.#o.stats.replayed.with(this.url).inc(txs.length);
      for (const tx of txs) {
        // One body larger than the memory cap could only bounce between memory and disk.
        if (tx.body.byteLength > this.#retry.maxBytes) this.#low.push(tx);
        else this.#retry.add(tx);
      }
    }
    this.#moveRetries(this.#o.lowPrioSize);
    this.#pump();
  }

  /** Resolves when no transaction is queued in a channel or in flight. */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Sends what it can within `timeoutMs`, aborts what is still in flight, and persists every
   * transaction left (memory and replayed files) to disk.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.#moveRetries(Infinity);
    this.#pump();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.idle(),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
    this.#closed = true;
    this.#abort.abort();
    // Aborted sends come back as retries into the retry queue.
    if (this.#flying.size > 0) await new Promise<void>((r) => this.#landedWaiters.push(r));
    const left = [...this.#high, ...this.#low, ...this.#retry.drain()];
    this.#high = [];
    this.#low = [];
    this.#persist(left.filter((tx) => !tx.origin), "stopped");
    this.#o.disk.persistLoaded();
  }

  /** Counts for the status page. */
  snapshot(): DomainSnapshot {
    return {
      retryQueueBytes: this.#retry.bytes,
      retryQueueTransactions: this.#retry.length,
      diskBytes: this.#o.disk.bytes,
      diskFiles: this.#o.disk.files,
      diskTransactionsWaiting: this.#o.disk.waiting,
      highPrio: this.#high.length,
      lowPrio: this.#low.length,
      inFlight: this.#flying.size,
      oldestQueuedMs: this.#oldestQueued(),
    };
  }

  #oldestQueued(): number | null {
    let oldest = this.#o.disk.oldestMs;
    for (const group of [this.#high, this.#low, this.#retry.items, this.#flying]) {
      for (const tx of group) if (oldest === null || tx.createdAt < oldest) oldest = tx.createdAt;
    }
    return oldest;
  }

  /**
   * What only memory holds (not in a disk file): what a crash would lose. Read by the run
   * record every few seconds, not per send.
   */
  inMemory(): MemoryHeld {
    const held: MemoryHeld = { transactions: 0, bytes: 0, oldestMs: null };
    for (const group of [this.#high, this.#low, this.#retry.items, this.#flying]) {
      for (const tx of group) {
        if (tx.origin) continue;
        held.transactions++;
        held.bytes += tx.body.byteLength;
        if (held.oldestMs === null || tx.createdAt < held.oldestMs) held.oldestMs = tx.createdAt;
      }
    }
    return held;
  }

  /** Bounds what a crash can lose during an outage: long-waiting retries go to disk. */
  #spillOld(): void {
    const { spillAfterMs, now, disk } = this.#o;
    if (spillAfterMs <= 0 || !disk.enabled || this.#retry.length === 0) return;
    const cutoff = now() - spillAfterMs;
    const old: Transaction[] = [];
    for (const tx of this.#retry.drain()) {
      if (tx.createdAt <= cutoff && tx.storable && !tx.origin) old.push(tx);
      else this.#retry.add(tx);
    }
    if (old.length === 0) return;
    if (disk.store(old) !== null) {
      // The disk refused: memory still has room, so keep them there.
      for (const tx of old) this.#retry.add(tx);
      return;
    }
    this.#o.stats.stored.with(this.url).inc(old.length);
    for (const tx of old) tx.tracker?.settle("stored", "stored");
  }

  #moveRetries(limit: number): void {
    for (const tx of this.#retry.drain()) {
      if (this.#low.length < limit && !this.#o.breaker.isBlocked(tx.url)) this.#low.push(tx);
      else this.#retry.add(tx);
    }
  }

  #pump(): void {
    while (!this.#closed && this.#flying.size < this.#o.concurrency) {
      const tx = this.#high.shift() ?? this.#low.shift();
      if (!tx) break;
      this.#flying.add(tx);
      this.#run(tx);
    }
    if (this.#isIdle()) { for (const w of this.#idleWaiters.splice(0)) w(); }
  }

  async #run(tx: Transaction): Promise<void> {
    const outcome = await this.#send(tx, this.#abort.signal);
    this.#flying.delete(tx);
    if (this.#flying.size === 0) { for (const w of this.#landedWaiters.splice(0)) w(); }
    const { stats } = this.#o;
    if (outcome.kind === "ok") {
      stats.delivered(tx);
      this.#settle(tx, "delivered", "delivered");
    } else if (outcome.kind === "drop") {
      stats.rejected(tx, outcome); // told, rate limited, by the loss reporter
      this.#settle(tx, "rejected", outcome.reason);
    }
    // While the endpoint answers, keep draining retries and the disk without waiting for the
    // next tick; the low channel refills once per `lowPrioSize` sends, which bounds the cost.
    const drained = this.#low.length === 0 &&
      (this.#retry.length > 0 || (this.#isIdle() && this.#o.disk.waiting > 0));
    if (outcome.kind === "ok" && drained) this.retryTick();
    else this.#pump();
  }

  #requeue(tx: Transaction, outcome: Outcome): void {
    const { stats, log } = this.#o;
    if (outcome.reason !== "endpoint_blocked" && outcome.reason !== "aborted") {
      stats.failed(tx, outcome);
      if (log.enabled("debug")) log.debug(`Will retry ${tx.url}: ${outcome.reason}`);
    }
    stats.retried.with(tx.url).inc();
    this.#retry.add(tx);
  }

  /** Memory is full: spill to disk what may go there, count the rest as lost. */
  #evicted(txs: Transaction[]): void {
    const toPersist: Transaction[] = [];
    for (const tx of txs) {
      if (tx.origin) this.#o.disk.settle(tx.origin, "evicted"); // still in its file
      else toPersist.push(tx);
    }
    this.#persist(toPersist, "retry_queue_full");
  }

  /**
   * Writes the storable ones of `txs` to disk. Those not storable, or that the disk refuses,
   * are lost with `reason` (or the disk's own reason) and counted.
   */
  #persist(txs: Transaction[], reason: string): void {
    const storable = txs.filter((tx) => tx.storable);
    this.#lose(txs.filter((tx) => !tx.storable), reason);
    if (storable.length === 0) return;
    const failed = this.#o.disk.store(storable);
    if (failed === null) {
      this.#o.stats.stored.with(this.url).inc(storable.length);
      for (const tx of storable) tx.tracker?.settle("stored", "stored");
      return;
    }
    this.#lose(storable, failed === "disk_disabled" ? reason : failed);
  }

  /** Counts `txs` as lost; the stats tell the loss reporter, which logs it rate limited. */
  #lose(txs: Transaction[], reason: string): void {
    // One loss event per endpoint, so a batch is told as one count, not as many lines.
    const byUrl = new Map<string, number>();
    for (const tx of txs) {
      byUrl.set(tx.url, (byUrl.get(tx.url) ?? 0) + 1);
      this.#settle(tx, "errored", reason);
    }
    for (const [url, n] of byUrl) this.#o.stats.drop(url, reason, n);
  }

  #settle(tx: Transaction, status: DeliveryStatus, reason: string): void {
    tx.tracker?.settle(status, reason);
    if (tx.origin) this.#o.disk.settle(tx.origin, "done");
  }

  #isIdle(): boolean {
    return this.#flying.size === 0 && this.#high.length === 0 && this.#low.length === 0;
  }
}
