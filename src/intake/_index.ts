/**
 * What a stored payload contributes to the store's indexes: the series it carries (context and
 * points, for the points table) and the names a query can look it up by (metric, check or
 * service names).
 *
 * @module
 */
import type { StoredRecord } from "./_store.ts";
import type { DecodedSeries, DecodedSketchPayload } from "./_protobuf.ts";
import { distributionPointsOf } from "./_public.ts";

/** The context of one series entry of a payload, with its points as `[timestamp, value]`. */
export interface SeriesContext {
  metric: string;
  type: string;
  interval: number;
  host: string;
  tags: string[];
  /** `device` of a v1 series, or the `device` resource of a v2 series. */
  device?: string;
  source_type_name: string;
  points: Array<[number, number]>;
}

/** The series entries of a stored v2 (protobuf or JSON) or v1 series payload, in order. */
export function* seriesOf(rec: Pick<StoredRecord, "route" | "content">): Generator<SeriesContext> {
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

/**
 * The names a query filters this payload by: metrics of sketches and distribution points,
 * check names of service checks, services of log events. A query still checks each entry; the
 * names only narrow which payloads it reads.
 */
export function namesOf(rec: Pick<StoredRecord, "route" | "content">): Set<string> {
  const names = new Set<string>();
  const add = (v: unknown) => typeof v === "string" && names.add(v);
  const c = rec.content;
  switch (rec.route) {
    case "/api/beta/sketches":
      for (const s of (c as DecodedSketchPayload).sketches) add(s.metric);
      break;
    case "/api/v1/distribution_points":
      for (const p of distributionPointsOf(rec as StoredRecord)) add(p.metric);
      break;
    case "/api/v1/check_run":
    case "/api/v2/logs":
      if (!Array.isArray(c)) break;
      for (const e of c as Array<Record<string, unknown>>) {
        add(rec.route === "/api/v2/logs" ? e?.service : e?.check);
      }
      break;
  }
  return names;
}
