/** A Sender for loader and check tests that keeps every submission, in order. */
import type {
  CheckEvent,
  CheckMetricType,
  Sender,
  ServiceCheckStatus,
} from "../../../src/checks/_types.ts";

/** One recorded submission. */
export type Submission =
  | {
    kind: "metric";
    type: CheckMetricType;
    name: string;
    value: number;
    tags: string[];
    hostname?: string;
    flushFirstValue?: boolean;
  }
  | {
    kind: "bucket";
    name: string;
    value: number;
    lowerBound: number;
    upperBound: number;
    monotonic: boolean;
    tags: string[];
  }
  | {
    kind: "service_check";
    name: string;
    status: ServiceCheckStatus;
    tags: string[];
    hostname?: string;
    message?: string;
  }
  | { kind: "event"; event: CheckEvent }
  | { kind: "metadata"; key: string; value: string };

/** One metric submission, without its host. */
export interface Sample {
  type: CheckMetricType;
  name: string;
  value: number;
  tags: string[];
}

/** One service check submission, without its host. */
export interface ServiceCheckSample {
  name: string;
  status: ServiceCheckStatus;
  tags: string[];
  message?: string;
}

/** A Sender that keeps everything it is given; `clear()` forgets it. */
export class RecordingSender implements Sender {
  readonly items: Submission[] = [];

  metric(
    type: CheckMetricType,
    name: string,
    value: number,
    tags: readonly string[] = [],
    hostname?: string,
    flushFirstValue?: boolean,
  ): void {
    this.items.push({
      kind: "metric",
      type,
      name,
      value,
      tags: [...tags],
      hostname,
      flushFirstValue,
    });
  }
  histogramBucket(
    name: string,
    value: number,
    lowerBound: number,
    upperBound: number,
    monotonic: boolean,
    _hostname?: string,
    tags: readonly string[] = [],
  ): void {
    this.items.push({
      kind: "bucket",
      name,
      value,
      lowerBound,
      upperBound,
      monotonic,
      tags: [...tags],
    });
  }
  serviceCheck(
    name: string,
    status: ServiceCheckStatus,
    tags: readonly string[] = [],
    hostname?: string,
    message?: string,
  ): void {
    this.items.push({ kind: "service_check", name, status, tags: [...tags], hostname, message });
  }
  event(event: CheckEvent): void {
    this.items.push({ kind: "event", event });
  }
  eventPlatformEvent(): void {}
  setMetadata(key: string, value: string): void {
    this.items.push({ kind: "metadata", key, value });
  }

  /** The metric submissions, as recorded. */
  metrics() {
    return this.items.filter((i) => i.kind === "metric");
  }
  /** The metric submissions without host and first-value flag. */
  get samples(): Sample[] {
    return this.metrics().map(({ type, name, value, tags }) => ({ type, name, value, tags }));
  }
  get serviceChecks(): ServiceCheckSample[] {
    return this.items.filter((i) => i.kind === "service_check")
      .map(({ name, status, tags, message }) => ({ name, status, tags, message }));
  }
  get events(): CheckEvent[] {
    return this.items.filter((i) => i.kind === "event").map((i) => i.event);
  }
  /** The samples of `name` (with `tag` among their tags, when given). */
  find(name: string, tag?: string): Sample[] {
    return this.samples.filter((s) =>
      s.name === name && (tag === undefined || s.tags.includes(tag))
    );
  }
  /** The single sample of `name` (and `tag`); throws unless there is exactly one. */
  one(name: string, tag?: string): Sample {
    const found = this.find(name, tag);
    if (found.length !== 1) {
      throw new Error(`expected one ${name}${tag ? ` {${tag}}` : ""}, got ${found.length}`);
    }
    return found[0]!;
  }
  /** name → value of the samples with `tag` (or all samples). */
  values(tag?: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.samples) {
      if (tag === undefined || s.tags.includes(tag)) out[s.name] = s.value;
    }
    return out;
  }
  clear(): void {
    this.items.length = 0;
  }
}
