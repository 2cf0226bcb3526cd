/**
 * The logs sender: batches processed messages, compresses them, hands them to the forwarder's
 * `logs` pipeline and tells the auditor which lines the intake accepted, in order.
 *
 * Two streams, because files and sockets differ in what can buffer them:
 * - **file** messages go in batches that are never written to the disk queue. The file is the
 *   buffer: while batches wait, {@linkcode LogsSender.canAccept} turns false and the tailers
 *   stop reading. Batches are acked in the order they were sealed, so a registry offset never
 *   passes a line that was not delivered. One batch is in flight by default, which keeps the
 *   order at the intake through retries.
 * - **listener** messages (TCP, UDP) have nothing to re-read: their batches are storable, so
 *   the forwarder spills them to its disk queue during an outage; past the queue depth here
 *   they are dropped and counted.
 */
import type { Delivery, DeliveryResult, Payload } from "../forwarder/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { Runtime } from "../runtime/types.ts";
import { createCompressor } from "../serializer/mod.ts";
import { FORWARDER, logsSendEvents, type Registry, type TelemetryName } from "../telemetry/mod.ts";
import { LogBatch, type SealedBatch } from "./_batch.ts";
import type { LogMessage, Origin } from "./_message.ts";
import {
  LOGS_PIPELINE,
  LOGS_UNRELIABLE_PIPELINE,
  type LogsSenderSettings,
} from "./_sender_settings.ts";

/** The intake route of logs batches. */
export const LOGS_ROUTE = "/api/v2/logs";

/** Batches of the file stream sealed but not yet acked before tailers are paused. */
const FILE_QUEUE_DEPTH = 4;
/** Batches of the listener stream waiting before new listener messages are dropped. */
const LISTENER_QUEUE_DEPTH = 64;
/** How long an errored file batch waits before it is submitted again. */
const RESUBMIT_DELAY_MS = 1000;

/** What the sender needs besides its settings. */
export interface LogsSenderDeps {
  runtime: Runtime;
  registry: Registry;
  logger: Logger;
  /** The forwarder's `submit`. */
  submit: (payload: Payload) => Delivery;
  /** Called with the last origin per identifier of each delivered file batch, in order. */
  ack: (origins: Origin[]) => void;
  /** @default Date.now */
  now?: () => number;
}

/** One sealed batch on its way. */
interface Entry {
  batch: SealedBatch;
  payload: Payload;
  sealedAt: number;
  /** Set once the intake accepted it or refused it for good. */
  settled: boolean;
  submitted: boolean;
}

/**
 * The sender. `add` takes messages in the order the sources produce them; `flush` seals and
 * waits for everything sealed to settle; `stop` flushes within a deadline and stops.
 *
 * @example
 * ```ts ignore
 * const sender = new LogsSender(logsSenderSettings(config, BUILD.version), {
 *   runtime, registry, logger, submit: (p) => forwarder.submit(p), ack: (o) => auditor.ack(o),
 * });
 * sender.add(message);
 * await sender.flush();
 * ```
 */
export class LogsSender {
  readonly #s: LogsSenderSettings;
  readonly #d: Required<LogsSenderDeps>;
  readonly #events: ReturnType<typeof logsSendEvents>;
  readonly #compress: (b: Uint8Array) => Uint8Array;
  readonly #encoding: string | undefined;
  readonly #file: Stream;
  readonly #listener: Stream;
  #running = false;
  #resubmits = 0;

  constructor(settings: LogsSenderSettings, deps: LogsSenderDeps) {
    this.#s = settings;
    this.#d = { now: Date.now, ...deps };
    const { registry } = deps;
    // The forwarder retries delivery itself: its counts for the logs route are the logs' too.
    this.#events = logsSendEvents(registry, {
      isRunning: () => this.#running,
      retryCount: () => this.#resubmits + logsRouteTotal(registry, FORWARDER.transactionsRetried),
      destinationErrors: () =>
        this.#resubmits + logsRouteTotal(registry, FORWARDER.transactionsErrors),
    });
    const c = createCompressor(settings.compression, {
      runtime: deps.runtime,
      zstdLevel: settings.zstdLevel,
    });
    this.#compress = (b) => c.compress(b);
    this.#encoding = c.encoding;
    this.#file = new Stream(this, {
      storable: false,
      audited: true,
      inFlight: settings.concurrentSend,
      depth: FILE_QUEUE_DEPTH,
    });
    this.#listener = new Stream(this, {
      storable: true,
      audited: false,
      inFlight: Math.max(settings.concurrentSend, 4),
      depth: LISTENER_QUEUE_DEPTH,
    });
  }

  /** Marks the sender running (for `IsRunning`). */
  start(): void {
    this.#running = true;
  }

  /** Takes one processed message. */
  add(m: LogMessage): void {
    (m.origin.source?.type === "file" ? this.#file : this.#listener).add(m);
  }

  /** False while file batches wait for the intake: the tailers stop reading. */
  canAccept(): boolean {
    return this.#file.canAccept();
  }

  /** Seals the open batches and resolves once everything sealed so far has settled. */
  async flush(): Promise<void> {
    await Promise.all([this.#file.flush(), this.#listener.flush()]);
  }

  /**
   * Flushes for at most `graceMs`, then stops. File batches not acked by then are read again
   * by the next run; listener batches are left to the forwarder, which stores them on stop.
   */
  async stop(graceMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.flush(),
      new Promise<void>((r) => (timer = setTimeout(r, graceMs))),
    ]);
    clearTimeout(timer);
    this.#file.close();
    this.#listener.close();
    this.#running = false;
  }

  /** Batches of each stream sealed and not settled (status). */
  pending(): { file: number; listener: number } {
    return { file: this.#file.pending, listener: this.#listener.pending };
  }

  /** @internal The payload of a sealed batch. */
  payloadOf(batch: SealedBatch, storable: boolean): Payload {
    const body = this.#compress(batch.body);
    const headers: Record<string, string> = {
      "Content-Type": "application/json",
      "DD-PROTOCOL": "agent-json",
      "DD-EVP-ORIGIN": "agent",
      "DD-EVP-ORIGIN-VERSION": this.#s.version,
      "dd-message-timestamp": String(batch.oldestMs),
      "dd-current-timestamp": String(this.#d.now()),
    };
    if (this.#encoding) headers["Content-Encoding"] = this.#encoding;
    return { route: LOGS_ROUTE, body, headers, storable, kind: "logs", pipeline: LOGS_PIPELINE };
  }

  /** @internal Submits to the reliable pipeline and, best effort, to the unreliable one. */
  submit(payload: Payload): Delivery {
    if (this.#s.unreliable.length > 0) {
      this.#d.submit({ ...payload, storable: false, pipeline: LOGS_UNRELIABLE_PIPELINE });
    }
    return this.#d.submit(payload);
  }

  /** @internal Counts a batch submitted again after the forwarder gave it up. */
  resubmitted(): void {
    this.#resubmits++;
  }

  /** @internal */
  get settings(): LogsSenderSettings {
    return this.#s;
  }

  /** @internal */
  get deps(): Required<LogsSenderDeps> {
    return this.#d;
  }

  /** @internal */
  get events(): ReturnType<typeof logsSendEvents> {
    return this.#events;
  }
}

interface StreamOptions {
  storable: boolean;
  audited: boolean;
  inFlight: number;
  depth: number;
}

/** One ordered stream of batches (see the module doc). */
class Stream {
  readonly #sender: LogsSender;
  readonly #o: StreamOptions;
  readonly #batch: LogBatch;
  /** Sealed batches in seal order, until acked (audited) or settled. */
  #entries: Entry[] = [];
  #flying = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #waiters: Array<{ upTo: Entry | undefined; resolve: () => void }> = [];

  constructor(sender: LogsSender, o: StreamOptions) {
    this.#sender = sender;
    this.#o = o;
    const s = sender.settings;
    this.#batch = new LogBatch({ maxSize: s.batchMaxSize, maxContentSize: s.batchMaxContentSize });
  }

  get pending(): number {
    return this.#entries.length;
  }

  canAccept(): boolean {
    return this.#entries.length < this.#o.depth;
  }

  add(m: LogMessage): void {
    const { events } = this.#sender;
    if (!this.#o.audited && !this.canAccept()) {
      events.destinationLogsDropped.with("queue_full").inc();
      return;
    }
    let r = this.#batch.add(m);
    if (r === "full") {
      this.#seal();
      r = this.#batch.add(m);
    }
    if (r === "too_large") {
      events.destinationLogsDropped.with("too_large").inc();
      return;
    }
    if (this.#batch.length >= this.#sender.settings.batchMaxSize) this.#seal();
    else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#seal(), this.#sender.settings.batchWaitMs);
    }
  }

  flush(): Promise<void> {
    this.#seal();
    const last = this.#entries.at(-1);
    if (!last) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ upTo: last, resolve }));
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const w of this.#waiters.splice(0)) w.resolve();
  }

  #seal(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#batch.seal();
    if (!batch) return;
    this.#entries.push({
      batch,
      payload: this.#sender.payloadOf(batch, this.#o.storable),
      sealedAt: this.#sender.deps.now(),
      settled: false,
      submitted: false,
    });
    this.#pump();
  }

  #pump(): void {
    for (const e of this.#entries) {
      if (this.#closed || this.#flying >= this.#o.inFlight) break;
      if (e.settled || e.submitted) continue;
      this.#send(e);
    }
  }

  #send(e: Entry): void {
    e.submitted = true;
    this.#flying++;
    this.#sender.submit(e.payload).done.then((r) => this.#done(e, r));
  }

  #done(e: Entry, r: DeliveryResult): void {
    this.#flying--;
    const { events, deps } = this.#sender;
    const n = e.batch.messages.length;
    if (r.status === "delivered") {
      events.logsSent.inc(n);
      events.bytesSent.inc(e.batch.body.byteLength);
      events.encodedBytesSent.inc(e.payload.body.byteLength);
      events.senderLatency.set(deps.now() - e.sealedAt);
      e.settled = true;
    } else if (r.status === "rejected") {
      // Refused for good (400, 403, 413): counted, and passed so the pipeline moves on.
      events.destinationLogsDropped.with(r.reason).inc(n);
      deps.logger.for("logs").warn(`A batch of ${n} logs was refused: ${r.reason}`);
      e.settled = true;
    } else if (r.status === "stored") {
      // Only listener batches may be stored; the forwarder delivers them later.
      e.settled = true;
    } else if (!this.#closed) {
      // Errored (memory full, stopped): sent again, keeping its place in the order.
      this.#sender.resubmitted();
      this.#flying++; // its slot stays taken, so no later batch overtakes it
      setTimeout(() => {
        if (this.#closed) return;
        this.#sender.submit(e.payload).done.then((r2) => this.#done(e, r2));
      }, RESUBMIT_DELAY_MS);
      return;
    }
    this.#advance();
    this.#pump();
  }

  /** Acks settled batches from the oldest, stopping at the first one still on its way. */
  #advance(): void {
    while (this.#entries.length > 0 && this.#entries[0].settled) {
      const e = this.#entries.shift()!;
      if (this.#o.audited) this.#sender.deps.ack(lastOrigins(e.batch.messages));
      this.#waiters = this.#waiters.filter((w) => {
        if (w.upTo !== e) return true;
        w.resolve();
        return false;
      });
    }
  }
}

/** A forwarder counter summed over the endpoints of the logs route. */
function logsRouteTotal(registry: Registry, name: TelemetryName): number {
  const v = registry.read(name);
  if (!v || typeof v !== "object") return 0;
  let n = 0;
  for (const [label, count] of Object.entries(v as Record<string, number>)) {
    if (label.endsWith(LOGS_ROUTE)) n += count;
  }
  return n;
}

/**
 * The last origin of each file (identifier and fingerprint) in a batch, oldest first: what the
 * auditor needs to advance. A rotated file keeps its identifier while it drains, so a batch may
 * end both the old file and the new one; both are told, in the order they were read.
 */
function lastOrigins(messages: readonly LogMessage[]): Origin[] {
  const last = new Map<string, Origin>();
  for (const m of messages) {
    const o = m.origin;
    if (o.identifier !== "") last.set(`${o.identifier}\0${o.fingerprint ?? ""}`, o);
  }
  return [...last.values()].sort((a, b) => a.seq - b.seq);
}
