/**
 * The public API's JSON bodies, as the official API clients (and the agent, for v1 series and
 * service checks) send them: v2 series in JSON (normalized to the shape the protobuf decoder
 * gives, so one query serves both), v1 series, distribution points, service checks and events
 * (v1 and v2). Each check names the first field that is wrong, so a 400 says what to fix.
 *
 * @module
 */
import * as v from "valibot";
import type { StoredRecord } from "./_store.ts";
import { type DecodedSeries, METRIC_TYPES } from "./_protobuf.ts";

/** Why a body was refused: the status to answer and the message. */
export interface Problem {
  status: 400 | 413;
  error: string;
}

const int = v.pipe(v.number(), v.integer());
const tags = v.optional(v.array(v.string()));

/** `MetricPayload` of `/api/v2/series` with `Content-Type: application/json`. */
const seriesJsonSchema = v.object({
  series: v.array(v.looseObject({
    metric: v.pipe(v.string(), v.nonEmpty("the metric name is empty")),
    type: v.optional(v.picklist([0, 1, 2, 3], "expected 0, 1, 2 or 3")),
    points: v.array(v.looseObject({ timestamp: int, value: v.number() })),
    resources: v.optional(v.array(v.looseObject({ name: v.string(), type: v.string() }))),
    tags,
    unit: v.optional(v.string()),
    interval: v.optional(int),
    source_type_name: v.optional(v.string()),
    metadata: v.optional(v.looseObject({})),
  })),
});

const optionalString = v.optional(v.nullable(v.string()));
const nullableTags = v.optional(v.nullable(v.array(v.string())));

/** `/api/v1/series`: points are `[timestamp, value]`. */
const seriesV1Schema = v.object({
  series: v.array(v.looseObject({
    metric: v.pipe(v.string(), v.nonEmpty("the metric name is empty")),
    points: v.array(v.tuple([v.number(), v.nullable(v.number())])),
    host: optionalString,
    tags: nullableTags,
    type: optionalString,
    interval: v.optional(v.nullable(v.number())),
  })),
});

/** `/api/v1/check_run`: a list of service checks, status 0 (OK) to 3 (UNKNOWN). */
const checkRunsSchema = v.array(v.looseObject({
  check: v.string(),
  status: v.picklist([0, 1, 2, 3], "expected 0, 1, 2 or 3"),
  host_name: optionalString,
  timestamp: v.optional(v.nullable(v.number())),
  message: optionalString,
  tags: nullableTags,
}));

/** A point of `/api/v1/distribution_points`: `[timestamp, [value, …]]`. */
const distributionPointSchema = v.tuple([v.number(), v.array(v.number())]);

const distributionPointsSchema = v.object({
  series: v.array(v.looseObject({
    metric: v.pipe(v.string(), v.nonEmpty("the metric name is empty")),
    points: v.array(distributionPointSchema),
    host: v.optional(v.string()),
    tags,
    type: v.optional(v.literal("distribution")),
  })),
});

/** The body of `/api/v1/events`. */
const eventSchema = v.looseObject({
  title: v.string(),
  text: v.string(),
  date_happened: v.optional(int),
  priority: optionalString,
  host: optionalString,
  tags,
  alert_type: optionalString,
  aggregation_key: optionalString,
  source_type_name: optionalString,
  related_event_id: v.optional(int),
  device_name: optionalString,
});

/** The body of `/api/v2/events`: one event under `data.attributes`. */
const eventV2Schema = v.object({
  data: v.looseObject({
    type: v.literal("event"),
    attributes: v.looseObject({
      title: v.string(),
      category: v.picklist(["change", "alert"], 'expected "change" or "alert"'),
      attributes: v.looseObject({}),
      message: v.optional(v.string()),
      tags,
      timestamp: v.optional(v.string()),
      host: v.optional(v.string()),
      aggregation_key: v.optional(v.string()),
      integration_id: v.optional(v.string()),
    }),
  }),
});

type EventV2 = v.InferOutput<typeof eventV2Schema>["data"]["attributes"];

/** A stored distribution point, as `/outpost/intake/distribution_points` lists it. */
export interface DistributionPoint {
  metric: string;
  host: string;
  tags: string[];
  timestamp: number;
  values: number[];
  seq: number;
}

type Issues = [v.BaseIssue<unknown>, ...v.BaseIssue<unknown>[]];

/** `series[0].points[1].value: <message>` for the first issue. */
function describe(issues: Issues): string {
  const issue = issues[0];
  let at = "";
  for (const p of issue.path ?? []) {
    at += typeof p.key === "number" ? `[${p.key}]` : at === "" ? String(p.key) : `.${p.key}`;
  }
  return at === "" ? issue.message : `${at}: ${issue.message}`;
}

/**
 * Turns a v2 JSON series body into the decoded protobuf shape; throws naming the bad field.
 *
 * @example
 * ```ts
 * import { decodeSeriesJson } from "./_public.ts";
 * const { series } = decodeSeriesJson({
 *   series: [{ metric: "m", type: 3, points: [{ timestamp: 1, value: 2 }] }],
 * });
 * console.assert(series[0].type === "gauge");
 * ```
 */
export function decodeSeriesJson(body: unknown): { series: DecodedSeries[] } {
  const parsed = v.safeParse(seriesJsonSchema, body);
  if (!parsed.success) throw new Error(describe(parsed.issues));
  return {
    series: parsed.output.series.map((s) => ({
      metric: s.metric,
      type: METRIC_TYPES[s.type ?? 0],
      interval: s.interval ?? 0,
      tags: s.tags ?? [],
      resources: (s.resources ?? []).map((r) => ({ type: r.type, name: r.name })),
      points: s.points.map((p) => ({ value: p.value, timestamp: p.timestamp })),
      unit: s.unit ?? "",
      source_type_name: s.source_type_name ?? "",
      ...(s.metadata !== undefined ? { metadata: s.metadata } : {}),
    })),
  };
}

const checkWith = (schema: v.GenericSchema) => (content: unknown): Problem | null => {
  const parsed = v.safeParse(schema, content);
  return parsed.success ? null : { status: 400, error: describe(parsed.issues) };
};

/** Checks a `/api/v1/series` body; null when it is fine. */
export const checkSeriesV1 = checkWith(seriesV1Schema);

/** Checks a `/api/v1/check_run` body; null when it is fine. */
export const checkCheckRuns = checkWith(checkRunsSchema);

/** Checks a `/api/v1/distribution_points` body; null when it is fine. */
export const checkDistributionPoints = checkWith(distributionPointsSchema);

/** Checks a `/api/v1/events` body (a title and a text at least); null when it is fine. */
export const checkEvent = checkWith(eventSchema);

/** Checks a `/api/v2/events` body (a title, a category and attributes at least). */
export const checkEventV2 = checkWith(eventV2Schema);

/** The answer to a v2 event: its id under `data.attributes.attributes.evt`. */
export function eventV2Answer(rec: StoredRecord): Record<string, unknown> {
  const evt = { id: String(rec.seq), uid: `outpost-${rec.seq}` };
  return { data: { type: "event", attributes: { attributes: { evt } } } };
}

/** The answer to a posted event: the event back with the id it is stored under. */
export function eventAnswer(rec: StoredRecord): Record<string, unknown> {
  const e = rec.content as Record<string, unknown>;
  const known = [
    "title",
    "text",
    "priority",
    "host",
    "tags",
    "alert_type",
    "source_type_name",
    "device_name",
  ];
  const event: Record<string, unknown> = {
    id: rec.seq,
    id_str: String(rec.seq),
    date_happened: e.date_happened ?? Math.trunc(rec.received_ms / 1000),
  };
  for (const k of known) if (e[k] !== undefined) event[k] = e[k];
  return { status: "ok", event };
}

/** An event of `/api/v1/events` or `/api/v2/events` in the shape the agent's `/intake/` events have. */
export function apiEventAsIntakeEvent(rec: StoredRecord): Record<string, unknown> {
  const received = Math.trunc(rec.received_ms / 1000);
  if (rec.route === "/api/v2/events") {
    const { title, message, timestamp, ...rest } =
      (rec.content as { data: { attributes: EventV2 } }).data.attributes;
    const at = timestamp === undefined ? NaN : Date.parse(timestamp);
    return {
      msg_title: title,
      msg_text: message ?? "",
      timestamp: Number.isNaN(at) ? received : Math.trunc(at / 1000),
      ...rest,
      id: rec.seq,
    };
  }
  const { title, text, date_happened, ...rest } = rec.content as Record<string, unknown>;
  return {
    msg_title: title,
    msg_text: text,
    timestamp: date_happened ?? received,
    ...rest,
    id: rec.seq,
  };
}

/** The points of a stored `/api/v1/distribution_points` body, one entry per point. */
export function distributionPointsOf(rec: StoredRecord): DistributionPoint[] {
  const out: DistributionPoint[] = [];
  const body = rec.content as v.InferOutput<typeof distributionPointsSchema>;
  for (const s of body.series) {
    for (const [timestamp, values] of s.points) {
      out.push({
        metric: s.metric,
        host: s.host ?? "",
        tags: s.tags ?? [],
        timestamp,
        values,
        seq: rec.seq,
      });
    }
  }
  return out;
}
