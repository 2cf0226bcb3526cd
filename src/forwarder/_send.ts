/**
 * `send` makes one HTTP call and returns a typed {@linkcode Outcome}; timeout, the circuit
 * breaker and retry wrap it:
 *
 * ```
 * withRequeue(withBreaker(withTimeout(send, ms), breaker), policy)
 * ```
 *
 * `withTimeout` and the classification table are the shared ones of `src/http/`.
 *
 * Concurrency is the domain's job (it pulls the next transaction when a slot frees, so
 * high priority always goes first).
 */
import type { FetchClientOptions, Runtime } from "../runtime/types.ts";
import { classifyError, classifyStatus, type Outcome, type Send as HttpSend } from "../http/mod.ts";
import type { CircuitBreaker } from "./_breaker.ts";
import type { Transaction } from "./_transaction.ts";

/** One attempt at a transaction. `signal` aborts it (the forwarder is stopping). */
export type Send = HttpSend<Transaction, Outcome>;

/** Options of {@linkcode createSend}. */
export interface SendOptions {
  /** Proxy and TLS settings for a URL. @default none */
  clientFor?: (url: string) => FetchClientOptions;
}

/**
 * The bare send: one POST of the transaction's body with its headers. Never throws.
 *
 * @example
 * ```ts ignore
 * const send = createSend(runtime);
 * const outcome = await send(tx); // { kind: "ok", status: 202, reason: "delivered" }
 * ```
 */
export function createSend(runtime: Runtime, { clientFor }: SendOptions = {}): Send {
  return async function send(tx, signal) {
    tx.attempts++;
    try {
      const res = await runtime.fetch(
        tx.url,
        { method: "POST", headers: tx.headers, body: tx.body as Uint8Array<ArrayBuffer>, signal },
        clientFor?.(tx.url),
      );
      // Read the body so the connection can be reused.
      await res.arrayBuffer().catch(() => undefined);
      return classifyStatus(res.status);
    } catch (e) {
      return classifyError(e);
    }
  };
}

/**
 * Skips endpoints the breaker blocks (a `retry` with reason `endpoint_blocked`), and tells the
 * breaker how each attempt went: a retriable failure blocks, anything else unblocks.
 */
export function withBreaker(send: Send, breaker: CircuitBreaker): Send {
  return async function sendThroughBreaker(tx, signal) {
    if (!breaker.tryAcquire(tx.url)) return { kind: "retry", reason: "endpoint_blocked" };
    const outcome = await send(tx, signal);
    if (outcome.kind === "retry") breaker.failure(tx.url);
    else breaker.success(tx.url);
    return outcome;
  };
}

/** What {@linkcode withRequeue} does with a failed attempt. */
export interface RequeuePolicy {
  /** @default outcome.kind === "retry" */
  isRetriable?: (outcome: Outcome) => boolean;
  /** Puts the transaction back for a later attempt (the retry queue). */
  requeue: (tx: Transaction, outcome: Outcome) => void;
}

/**
 * Hands retriable failures to `policy.requeue`. There is no per-transaction attempt limit,
 * as in the Datadog Agent: a transaction lives until delivered, dropped by the status table,
 * or evicted by the queue's byte cap (and then spilled to disk).
 */
export function withRequeue(send: Send, policy: RequeuePolicy): Send {
  const isRetriable = policy.isRetriable ?? ((o: Outcome) => o.kind === "retry");
  return async function sendWithRequeue(tx, signal) {
    const outcome = await send(tx, signal);
    if (isRetriable(outcome)) policy.requeue(tx, outcome);
    return outcome;
  };
}
