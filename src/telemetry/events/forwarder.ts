/**
 * What the forwarder MUST emit. Names follow the Datadog Agent's `forwarder` expvar map;
 * endpoint labels are `<domain><route>`.
 *
 * | name | kind | counts |
 * |------|------|--------|
 * | `forwarder.Transactions.Success` | by endpoint | transactions the intake accepted |
 * | `forwarder.Transactions.Errors` | by endpoint | failed attempts that will be retried |
 * | `forwarder.Transactions.ErrorsByType` | by reason | failed attempts (`http_503`, `connection_refused`, `timeout`…) |
 * | `forwarder.Transactions.HTTPErrorsByCode` | by status code | HTTP error answers |
 * | `forwarder.Transactions.Retried` | by endpoint | transactions put back in the retry queue |
 * | `forwarder.Transactions.Dropped` | by reason | transactions dropped for good |
 * | `forwarder.Transactions.DroppedByEndpoint` | by endpoint (or domain) | the same drops, by where |
 * | `forwarder.DiskQueue.Stored`, `.Replayed` | by domain | transactions written to and read back from the disk queue |
 * | `forwarder.DiskQueue.WriteErrors` | by error code | failed disk-queue writes (`ENOSPC`…) |
 * | `forwarder.APIKeyStatus` | published | `{domain: {key: state}}` |
 * | `forwarder.Domains` | published | `{domain: {retryQueueBytes, diskBytes, …}}` |
 * | `forwarder.Endpoints` | published | `{endpoint: {success, errors, retries, drops}}` |
 * | `forwarder.PreviousRun` | published | null, or what a run killed without a clean stop lost |
 * | `forwarder.EndpointHealth` | published | `{endpoint: {failingSinceMs, failedAttempts, lastError, httpCodes, dropsByReason}}` |
 *
 * @module
 */
import type { Registry } from "../registry.ts";

/** The registry names of the forwarder (see the module doc). */
export const FORWARDER = Object.freeze(
  {
    /** Delivered transactions, by endpoint. */
    transactionsSuccess: "forwarder.Transactions.Success",
    /** Failed attempts that will be retried, by endpoint. */
    transactionsErrors: "forwarder.Transactions.Errors",
    /** Failed attempts, by reason. */
    transactionsErrorsByType: "forwarder.Transactions.ErrorsByType",
    /** HTTP error answers, by status code. */
    transactionsHttpErrorsByCode: "forwarder.Transactions.HTTPErrorsByCode",
    /** Transactions put back in the retry queue, by endpoint. */
    transactionsRetried: "forwarder.Transactions.Retried",
    /** Transactions dropped for good, by reason. */
    transactionsDropped: "forwarder.Transactions.Dropped",
    /** Transactions dropped for good, by endpoint (or domain for whole files). */
    transactionsDroppedByEndpoint: "forwarder.Transactions.DroppedByEndpoint",
    /** Transactions written to the disk queue, by domain. */
    diskQueueStored: "forwarder.DiskQueue.Stored",
    /** Transactions read back from the disk queue, by domain. */
    diskQueueReplayed: "forwarder.DiskQueue.Replayed",
    /** Failed disk-queue writes, by error code. */
    diskQueueWriteErrors: "forwarder.DiskQueue.WriteErrors",
    /** Published: API key validity by domain and key. */
    apiKeyStatus: "forwarder.APIKeyStatus",
    /** Published: queue figures by domain. */
    domains: "forwarder.Domains",
    /** Published: successes, errors, retries and drops by endpoint. */
    endpoints: "forwarder.Endpoints",
    /** Published: null, or what the previous run lost when it was killed. */
    previousRun: "forwarder.PreviousRun",
    /** Published: per endpoint the current failure run, last error, HTTP codes and drops. */
    endpointHealth: "forwarder.EndpointHealth",
  } as const,
);

/** What the forwarder publishes, read each time the registry is read. */
export interface ForwarderReaders {
  /** API key validity by domain and key. */
  apiKeyStatus: () => unknown;
  /** Queue figures by domain. */
  domains: () => unknown;
  /** Successes, errors, retries and drops by endpoint. */
  endpoints: () => unknown;
  /** What the previous run lost, or null. */
  previousRun: () => unknown;
  /** Per endpoint: failure run, last error, HTTP codes, drops by reason. */
  endpointHealth: () => unknown;
}

/**
 * Registers what the forwarder emits and returns its counters.
 *
 * @example Count a delivery
 * ```ts
 * import { Registry } from "../registry.ts";
 * import { FORWARDER, forwarderEvents } from "./forwarder.ts";
 * const registry = new Registry();
 * const events = forwarderEvents(registry, {
 *   apiKeyStatus: () => ({}), domains: () => ({}), endpoints: () => ({}), previousRun: () => null,
 *   endpointHealth: () => ({}),
 * });
 * events.transactionsSuccess.with("https://app.datadoghq.com/api/v2/series").inc();
 * console.assert(registry.read(FORWARDER.previousRun) === null);
 * ```
 */
export function forwarderEvents(registry: Registry, readers: ForwarderReaders) {
  const events = {
    transactionsSuccess: registry.counterVec(FORWARDER.transactionsSuccess),
    transactionsErrors: registry.counterVec(FORWARDER.transactionsErrors),
    transactionsErrorsByType: registry.counterVec(FORWARDER.transactionsErrorsByType),
    transactionsRetried: registry.counterVec(FORWARDER.transactionsRetried),
    transactionsDropped: registry.counterVec(FORWARDER.transactionsDropped),
    transactionsDroppedByEndpoint: registry.counterVec(FORWARDER.transactionsDroppedByEndpoint),
    transactionsHttpErrorsByCode: registry.counterVec(FORWARDER.transactionsHttpErrorsByCode),
    diskQueueStored: registry.counterVec(FORWARDER.diskQueueStored),
    diskQueueReplayed: registry.counterVec(FORWARDER.diskQueueReplayed),
    diskQueueWriteErrors: registry.counterVec(FORWARDER.diskQueueWriteErrors),
  };
  registry.publish(FORWARDER.apiKeyStatus, readers.apiKeyStatus);
  registry.publish(FORWARDER.domains, readers.domains);
  registry.publish(FORWARDER.endpoints, readers.endpoints);
  registry.publish(FORWARDER.previousRun, readers.previousRun);
  registry.publish(FORWARDER.endpointHealth, readers.endpointHealth);
  return events;
}
