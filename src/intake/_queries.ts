/**
 * Read-side of the intake: flattens stored payloads into the shapes tests and people ask for
 * (points of a metric with their sums, sketches, distribution points, check runs, events, flares).
 *
 * @module
 */
import type { IntakeStore, StoredRecord } from "./_store.ts";
import type { DecodedSeries, DecodedSketchPayload } from "./_protobuf.ts";
import { apiEventAsIntakeEvent, distributionPointsOf } from "./_public.ts";

/** One point of a series, with the context it came with. */
export interface FlatPoint {
  metric: string;
  value: number;
  timestamp: number;
  type: string;
  interval: number;
  host: string;
  tags: string[];
  /** `device` of a v1 series, or the `device` resource of a v2 series. */
  device?: string;
  source_type_name: string;
  route: string;
  seq: number;
}

/** Filters shared by the metric queries. */
export interface MetricFilter {
  metric?: string;
  host?: string;
  /** Every one of these tags must be present. */
  tags?: string[];
}

/** The substring every line with `value` as a JSON string contains (a cheap prefilter). */
const hintFor = (value: string | undefined) =>
  value === undefined ? undefined : JSON.stringify(value);

function matches(p: { host: string; tags: string[] }, f: MetricFilter): boolean {
  if (f.host !== undefined && p.host !== f.host) return false;
  return (f.tags ?? []).every((t) => p.tags.includes(t));
}

/** Points of stored series (v2 protobuf and v1 JSON), oldest payload first, with totals. */
export function querySeries(store: IntakeStore, filter: MetricFilter) {
  const points: FlatPoint[] = [];
  let series = 0;
  for (const rec of store.records(hintFor(filter.metric))) {
    for (const p of seriesOf(rec)) {
      if (filter.metric !== undefined && p.metric !== filter.metric) continue;
      if (!matches(p, filter)) continue;
      series++;
      for (const [timestamp, value] of p.points) {
        const { points: _pts, ...context } = p;
        points.push({ ...context, value, timestamp, route: rec.route, seq: rec.seq });
      }
    }
  }
  return {
    metric: filter.metric ?? null,
    series,
    count: points.length,
    total: points.reduce((s, p) => s + p.value, 0),
    points,
  };
}

type SeriesContext = Omit<FlatPoint, "value" | "timestamp" | "route" | "seq"> & {
  points: Array<[number, number]>;
};

function* seriesOf(rec: StoredRecord): Generator<SeriesContext> {
  if (rec.route === "/api/v2/series") {
    for (const s of (rec.content as { series: DecodedSeries[] }).series) {
      const host = s.resources.find((r) => r.type === "host")?.name ?? "";
      const device = s.resources.find((r) => r.type === "device")?.name;
      yield {
        metric: s.metric,
        type: s.type,
        interval: s.interval,
        host,
        tags: s.tags,
        ...(device !== undefined ? { device } : {}),
        source_type_name: s.source_type_name,
        points: s.points.map((p) => [p.timestamp, p.value]),
      };
    }
  } else if (rec.route === "/api/v1/series") {
    const list = (rec.content as { series?: unknown[] })?.series;
    if (!Array.isArray(list)) return;
    for (const raw of list) {
      const s = raw as Record<string, any>;
      yield {
        metric: String(s.metric ?? ""),
        type: String(s.type ?? ""),
        interval: Number(s.interval ?? 0),
        host: String(s.host ?? ""),
        tags: Array.isArray(s.tags) ? s.tags : [],
        ...(s.device !== undefined ? { device: String(s.device) } : {}),
        source_type_name: String(s.source_type_name ?? ""),
        points: Array.isArray(s.points)
          ? s.points.map((p: unknown[]) => [Number(p[0]), Number(p[1])] as [number, number])
          : [],
      };
    }
  }
}

/** Dogsketches of stored sketch payloads, one entry per bucket, with totals of count and sum. */
export function querySketches(store: IntakeStore, filter: MetricFilter) {
  const sketches = [];
  for (const rec of store.records(hintFor(filter.metric))) {
    if (rec.route !== "/api/beta/sketches") continue;
    for (const s of (rec.content as DecodedSketchPayload).sketches) {
      if (filter.metric !== undefined && s.metric !== filter.metric) continue;
      if (!matches(s, filter)) continue;
      for (const d of s.dogsketches) {
        sketches.push({ metric: s.metric, host: s.host, tags: s.tags, ...d, seq: rec.seq });
      }
    }
  }
  return {
    metric: filter.metric ?? null,
    count: sketches.reduce((n, d) => n + d.cnt, 0),
    sum: sketches.reduce((n, d) => n + d.sum, 0),
    sketches,
  };
}

/** Points of `/api/v1/distribution_points`, one entry per point, with totals over the values. */
export function queryDistributionPoints(store: IntakeStore, filter: MetricFilter) {
  const points = [];
  for (const rec of store.records(hintFor(filter.metric))) {
    if (rec.route !== "/api/v1/distribution_points") continue;
    for (const p of distributionPointsOf(rec)) {
      if (filter.metric !== undefined && p.metric !== filter.metric) continue;
      if (matches(p, filter)) points.push(p);
    }
  }
  const values = points.flatMap((p) => p.values);
  return {
    metric: filter.metric ?? null,
    count: values.length,
    sum: values.reduce((s, x) => s + x, 0),
    points,
  };
}

/** Stored service checks, optionally of one check name. */
export function queryCheckRuns(store: IntakeStore, check?: string) {
  const runs = [];
  for (const rec of store.records(hintFor(check))) {
    if (rec.route !== "/api/v1/check_run" || !Array.isArray(rec.content)) continue;
    for (const run of rec.content as Array<Record<string, unknown>>) {
      if (check !== undefined && run.check !== check) continue;
      runs.push({ ...run, seq: rec.seq });
    }
  }
  return { check: check ?? null, count: runs.length, check_runs: runs };
}

/**
 * Stored events, each with the source-type group it arrived under; those of the public API
 * (`/api/v1/events`, `/api/v2/events`) in the agent's shape (`msg_title`, `msg_text`, `timestamp`) with the `id` they were given.
 */
export function queryEvents(store: IntakeStore, source?: string) {
  const events = [];
  for (const rec of store.records('"kind":"events"')) {
    if (rec.kind !== "events") continue;
    if (rec.route === "/api/v1/events" || rec.route === "/api/v2/events") {
      const e = apiEventAsIntakeEvent(rec);
      // The group the agent files an event without a source type under.
      const group = typeof e.source_type_name === "string" && e.source_type_name !== ""
        ? e.source_type_name
        : "api";
      if (source !== undefined && group !== source) continue;
      events.push({ ...e, source_group: group, internal_hostname: "", seq: rec.seq });
      continue;
    }
    const content = rec.content as { events: Record<string, unknown[]>; internalHostname?: string };
    for (const [group, list] of Object.entries(content.events)) {
      if (source !== undefined && group !== source) continue;
      for (const e of Array.isArray(list) ? list : []) {
        events.push({
          ...(e as object),
          source_group: group,
          internal_hostname: content.internalHostname ?? "",
          seq: rec.seq,
        });
      }
    }
  }
  return { count: events.length, events };
}

/** The last `limit` stored payloads, optionally of one route and kind, oldest first. */
export function queryPayloads(
  store: IntakeStore,
  { route, kind, limit = 100 }: { route?: string; kind?: string; limit?: number },
) {
  const hint = route !== undefined ? `"route":${JSON.stringify(route)}` : undefined;
  const out: StoredRecord[] = [];
  for (const rec of store.records(hint)) {
    if (route !== undefined && rec.route !== route) continue;
    if (kind !== undefined && rec.kind !== kind) continue;
    out.push(rec);
    if (out.length > limit) out.shift();
  }
  return { count: out.length, payloads: out };
}

/** Received flares with their form fields and whether the archive is still stored. */
export function queryFlares(store: IntakeStore) {
  const flares = [];
  for (const rec of store.records('"kind":"flare"')) {
    if (rec.kind !== "flare") continue;
    const c = rec.content as { file?: { blob?: string } };
    const present = c.file?.blob !== undefined && store.hasBlob(c.file.blob);
    flares.push({
      seq: rec.seq,
      received_at: rec.received_at,
      api_key_masked: rec.api_key_masked,
      ...c,
      file_present: present,
    });
  }
  return { count: flares.length, flares };
}
