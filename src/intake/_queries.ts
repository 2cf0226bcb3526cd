/**
 * Read-side of the intake: flattens stored payloads into the shapes tests and people ask for
 * (points of a metric with their sums, sketches, distribution points, check runs, events, flares).
 *
 * @module
 */
import type { IntakeStore } from "./_store.ts";
import type { SeriesContext } from "./_index.ts";
import type { DecodedSketchPayload } from "./_protobuf.ts";
import { apiEventAsIntakeEvent, distributionPointsOf } from "./_public.ts";
import { sketchQuantile } from "../aggregator/sketch.ts";

/** One point of a series, with the context it came with. */
export interface FlatPoint extends Omit<SeriesContext, "points"> {
  value: number;
  timestamp: number;
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

/** Filters of the series query: a metric filter and a time range (seconds, inclusive). */
export interface SeriesFilter extends MetricFilter {
  from?: number;
  to?: number;
}

function matches(p: { host: string; tags: string[] }, f: MetricFilter): boolean {
  if (f.host !== undefined && p.host !== f.host) return false;
  return (f.tags ?? []).every((t) => p.tags.includes(t));
}

/**
 * Points of stored series (v2 protobuf and v1 JSON), oldest payload first, with totals; read
 * from the points index (by metric, tag set and time), never from the payloads.
 */
export function querySeries(store: IntakeStore, filter: SeriesFilter) {
  const filtered = filter.metric !== undefined || filter.host !== undefined ||
    (filter.tags ?? []).length > 0;
  const contexts = new Map(
    store.seriesContexts(filter.metric).filter((c) => matches(c, filter)).map((c) => [c.id, c]),
  );
  const ids = filtered ? [...contexts.keys()] : undefined;
  const ranged = filter.from !== undefined || filter.to !== undefined;
  const points: FlatPoint[] = [];
  const seen = new Set<number>();
  let total = 0;
  if (ids === undefined || ids.length > 0) {
    for (const p of store.points(ids, filter)) {
      const c = contexts.get(p.ctx)!;
      if (ranged) seen.add(p.series);
      total += p.value;
      points.push({
        ...c.context,
        value: p.value,
        timestamp: p.timestamp,
        route: c.route,
        seq: p.seq,
      });
    }
  }
  // A series entry without points in range is not counted; without a range, every entry is.
  const series = ranged ? seen.size : ids?.length === 0 ? 0 : store.seriesCount(ids);
  return { metric: filter.metric ?? null, series, count: points.length, total, points };
}

/**
 * Dogsketches of stored sketch payloads, one entry per bucket, with totals of count and sum.
 * Each quantile asked (0 ≤ q ≤ 1) is computed from the bucket's bins, within the sketch's
 * relative error, under `quantiles` keyed by its text (`"0.99"`).
 */
export function querySketches(store: IntakeStore, filter: MetricFilter, quantiles: number[] = []) {
  const sketches = [];
  for (const rec of store.records({ route: "/api/beta/sketches", name: filter.metric })) {
    for (const s of (rec.content as DecodedSketchPayload).sketches) {
      if (filter.metric !== undefined && s.metric !== filter.metric) continue;
      if (!matches(s, filter)) continue;
      for (const d of s.dogsketches) {
        const entry = { metric: s.metric, host: s.host, tags: s.tags, ...d, seq: rec.seq };
        if (quantiles.length === 0) sketches.push(entry);
        else {
          const at = Object.fromEntries(quantiles.map((q) => [String(q), sketchQuantile(d, q)]));
          sketches.push({ ...entry, quantiles: at });
        }
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

/** The names of stored metrics: of the points index, and of sketch payloads. */
export function queryMetricNames(store: IntakeStore) {
  const series = [...new Set(store.seriesContexts().map((c) => c.context.metric))].sort();
  return { series, sketches: store.names("/api/beta/sketches") };
}

/** Points of `/api/v1/distribution_points`, one entry per point, with totals over the values. */
export function queryDistributionPoints(store: IntakeStore, filter: MetricFilter) {
  const points = [];
  const route = "/api/v1/distribution_points";
  for (const rec of store.records({ route, name: filter.metric })) {
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
  for (const rec of store.records({ route: "/api/v1/check_run", name: check })) {
    if (!Array.isArray(rec.content)) continue;
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
  for (const rec of store.records({ kind: "events" })) {
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
  const payloads = [...store.records({ route, kind, last: limit })];
  return { count: payloads.length, payloads };
}

/** Received flares with their form fields and whether the archive is still stored. */
export function queryFlares(store: IntakeStore) {
  const flares = [];
  for (const rec of store.records({ kind: "flare" })) {
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
