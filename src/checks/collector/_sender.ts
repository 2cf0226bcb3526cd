/**
 * The {@linkcode Sender} of one check ID over the aggregator: the instance's tags and
 * `service:` added to every submission, the hostname rules, and counts per commit.
 */
import type { CheckEvent, CheckMetricType, Sender, ServiceCheckStatus } from "../_types.ts";
import type { Aggregator } from "../../aggregator/mod.ts";
import type { CheckSamplerHandle } from "../../aggregator/aggregator.ts";
import type { Log } from "../../log/mod.ts";
import type { SubmitCounts } from "./_stats.ts";

/** Options of {@linkcode CheckSender}. */
export interface CheckSenderOptions {
  /** The check ID: the sampler and the stats are keyed by it. */
  id: string;
  aggregator: Aggregator;
  /** The agent's hostname, for submissions without one. */
  hostname: string;
  /** Instance `tags`. @default [] */
  tags?: readonly string[];
  /** Instance (else init_config) `service`. */
  service?: string;
  /** Submissions without a host keep `""`. @default false */
  emptyDefaultHostname?: boolean;
  log: Log;
}

function noCounts(): SubmitCounts {
  return {
    metricSamples: 0,
    events: 0,
    serviceChecks: 0,
    histogramBuckets: 0,
    eventPlatformEvents: {},
  };
}

/**
 * A check instance's sender. Invalid values (NaN, ±Inf) are dropped and counted in
 * {@linkcode CheckSender.dropped}, never thrown: a check keeps running.
 *
 * @example
 * ```ts
 * import { Aggregator, memorySink } from "../../aggregator/mod.ts";
 * import { Registry } from "../../telemetry/mod.ts";
 * import { createLogger } from "../../log/mod.ts";
 * import { CheckSender } from "./_sender.ts";
 * const log = createLogger().for("collector");
 * const aggregator = new Aggregator({ sink: memorySink(), hostname: "h", registry: new Registry(), log });
 * const sender = new CheckSender({ id: "demo", aggregator, hostname: "h", tags: ["env:x"], log });
 * sender.metric("gauge", "demo.up", 1);
 * sender.commit().metricSamples; // 1
 * ```
 */
export class CheckSender implements Sender {
  readonly #o: CheckSenderOptions;
  readonly #sampler: CheckSamplerHandle;
  readonly #extraTags: string[];
  readonly #aggregator: Aggregator;
  #counts: SubmitCounts = noCounts();
  readonly #metadata = new Map<string, string>();
  /** Samples refused since the sender was made (NaN, ±Inf, out of range). */
  dropped = 0;

  constructor(options: CheckSenderOptions) {
    this.#o = options;
    this.#aggregator = options.aggregator;
    this.#sampler = options.aggregator.checkSampler(options.id, {
      emptyDefaultHostname: options.emptyDefaultHostname === true,
    });
    this.#extraTags = [...(options.tags ?? [])];
    if (options.service) this.#extraTags.push(`service:${options.service}`);
  }

  #tags(tags: readonly string[] | undefined): string[] {
    return tags && tags.length > 0 ? [...tags, ...this.#extraTags] : [...this.#extraTags];
  }

  /** An explicit host wins; else the agent's, or `""` with `empty_default_hostname`. */
  #host(hostname: string | undefined): string {
    if (hostname) return hostname;
    return this.#o.emptyDefaultHostname ? "" : this.#o.hostname;
  }

  #drop(what: string, name: string, value: number): void {
    this.dropped++;
    this.#o.log.warn(
      `Check ${this.#o.id}: ${what} "${name}" has value ${value}, which is not a finite number: dropped`,
    );
  }

  metric(
    type: CheckMetricType,
    name: string,
    value: number,
    tags?: readonly string[],
    hostname?: string,
    flushFirstValue?: boolean,
  ): void {
    if (typeof value !== "number" || !Number.isFinite(value)) {
      this.#drop("metric", name, value);
      return;
    }
    const ok = this.#sampler.addSample({
      name,
      value,
      type,
      tags: this.#tags(tags),
      host: this.#host(hostname),
      sampleRate: 1,
      timestamp: 0,
      flushFirstValue: flushFirstValue === true,
    });
    if (!ok) this.dropped++;
    this.#counts.metricSamples++;
  }

  histogramBucket(
    name: string,
    value: number,
    lowerBound: number,
    upperBound: number,
    monotonic: boolean,
    hostname?: string,
    tags?: readonly string[],
    flushFirstValue?: boolean,
  ): void {
    if (typeof value !== "number" || !Number.isFinite(value)) {
      this.#drop("histogram bucket", name, value);
      return;
    }
    const ok = this.#sampler.addBucket({
      name,
      value,
      lowerBound,
      upperBound,
      monotonic,
      tags: this.#tags(tags),
      host: this.#host(hostname),
      flushFirstValue: flushFirstValue === true,
    });
    if (!ok) this.dropped++;
    this.#counts.histogramBuckets++;
  }

  serviceCheck(
    name: string,
    status: ServiceCheckStatus,
    tags?: readonly string[],
    hostname?: string,
    message?: string,
  ): void {
    this.#aggregator.addServiceCheck({
      name,
      status,
      timestamp: 0,
      host: this.#host(hostname),
      message: message ?? "",
      tags: this.#tags(tags),
    });
    this.#counts.serviceChecks++;
  }

  event(e: CheckEvent): void {
    this.#aggregator.addEvent({
      title: e.title,
      text: e.text,
      timestamp: e.timestamp ?? 0,
      host: this.#host(e.host),
      priority: e.priority ?? "normal",
      alertType: e.alertType ?? "info",
      aggregationKey: e.aggregationKey ?? "",
      sourceTypeName: e.sourceTypeName ?? "",
      eventType: e.eventType ?? "",
      tags: this.#tags(e.tags),
    });
    this.#counts.events++;
  }

  eventPlatformEvent(_raw: string, eventType: string): void {
    // No event-platform pipeline yet: counted for the stats, not forwarded.
    const c = this.#counts.eventPlatformEvents;
    c[eventType] = (c[eventType] ?? 0) + 1;
    if (this.#o.log.enabled("debug")) {
      this.#o.log.debug(
        `Check ${this.#o.id}: event-platform event of type "${eventType}" not forwarded (no event-platform pipeline)`,
      );
    }
  }

  setMetadata(key: string, value: string): void {
    this.#metadata.set(key, String(value));
  }

  /** The inventory metadata set so far. */
  metadata(): Record<string, string> {
    return Object.fromEntries([...this.#metadata].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** Ends a run: the sampler's series go out with the next flush; returns the run's counts. */
  commit(nowS: number = Date.now() / 1000): SubmitCounts {
    this.#sampler.commit(nowS);
    const counts = this.#counts;
    this.#counts = noCounts();
    return counts;
  }
}
