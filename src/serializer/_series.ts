/**
 * Series encoders: one `MetricSeries` record of `/api/v2/series` (protobuf) and one object of
 * `/api/v1/series` (JSON), per serie. Both take the `device:` tag out of the tags.
 */
import { MAX_TIMESTAMP, type Serie, type SeriesType } from "../metrics/model.ts";
import { ProtoWriter } from "./_proto.ts";

const DEVICE = "device:";
const RESOURCE = "dd.internal.resource:";

/** `MetricPayload.MetricType`, current enum (UNSPECIFIED 0, COUNT 1, RATE 2, GAUGE 3). */
export const METRIC_TYPE: Record<SeriesType, number> = { count: 1, rate: 2, gauge: 3 };

/** Origin product of everything the agent sends. */
export const ORIGIN_PRODUCT_AGENT = 10;
/** Origin category of DogStatsD metrics. */
export const ORIGIN_CATEGORY_DOGSTATSD = 10;
/** Origin field 3 value for series that must not be indexed. */
const ORIGIN_NO_INDEX = 9;

// Field numbers of MetricPayload.MetricSeries (spec §3.4).
const F_SERIES = 1;
const F_RESOURCES = 1, F_METRIC = 2, F_TAGS = 3, F_POINTS = 4, F_TYPE = 5;
const F_SOURCE_TYPE = 7, F_INTERVAL = 8, F_METADATA = 9;

/**
 * The `Metadata { origin }` message as field `field`, tag included. Series from checks carry
 * `sourceTypeName` ("System"); the rest come from DogStatsD. The check's own service number
 * is not in the model, so checks get category and service 0 (unknown).
 */
export function originField(
  field: number,
  { fromDogStatsD, noIndex = false }: { fromDogStatsD: boolean; noIndex?: boolean },
): Uint8Array {
  const w = new ProtoWriter(32);
  w.fork(field);
  w.fork(1);
  if (noIndex) w.uint(3, ORIGIN_NO_INDEX);
  w.uint(4, ORIGIN_PRODUCT_AGENT);
  w.uint(5, fromDogStatsD ? ORIGIN_CATEGORY_DOGSTATSD : 0);
  w.ldelim();
  w.ldelim();
  return w.finish();
}

/** True when the intake can take the point: a finite value at a time in [0, MAX_TIMESTAMP]. */
export function validPoint([ts, value]: readonly [number, number]): boolean {
  return Number.isFinite(value) && ts >= 0 && ts <= MAX_TIMESTAMP;
}

/**
 * How many points of `s` cannot be encoded ({@linkcode validPoint}); all of them when its
 * interval is not a number in [0, 2^53]. No allocation: the caller copies only a bad serie.
 */
export function invalidPoints(s: Serie): number {
  if (!(s.interval >= 0 && s.interval <= Number.MAX_SAFE_INTEGER)) return s.points.length;
  let n = 0;
  for (const p of s.points) if (!validPoint(p)) n++;
  return n;
}

// The four origins a serie can have, encoded once: [fromDogStatsD][noIndex].
const ORIGINS = [false, true].map((fromDogStatsD) =>
  [false, true].map((noIndex) => originField(F_METADATA, { fromDogStatsD, noIndex }))
);

/**
 * Encodes `s` as one field-1 `MetricSeries` record, so that records concatenate into a valid
 * `MetricPayload`. Resources: the host (always, even empty), one `device` per `device:` tag
 * and one per `dd.internal.resource:<type>:<name>` tag; those tags are not sent as tags.
 */
export function encodeSerieV2(w: ProtoWriter, s: Serie): Uint8Array {
  w.reset();
  w.fork(F_SERIES);
  w.fork(F_RESOURCES);
  w.string(1, "host");
  w.string(2, s.host);
  w.ldelim();
  for (const tag of s.tags) {
    if (tag.startsWith(DEVICE)) {
      w.fork(F_RESOURCES);
      w.string(1, "device");
      w.string(2, tag.slice(DEVICE.length));
      w.ldelim();
    } else if (tag.startsWith(RESOURCE)) {
      const rest = tag.slice(RESOURCE.length);
      const colon = rest.indexOf(":");
      if (colon <= 0) continue; // malformed internal tag: neither a resource nor a user tag
      w.fork(F_RESOURCES);
      w.string(1, rest.slice(0, colon));
      w.string(2, rest.slice(colon + 1));
      w.ldelim();
    }
  }
  w.string(F_METRIC, s.name);
  for (const tag of s.tags) {
    if (tag.startsWith(DEVICE) || tag.startsWith(RESOURCE)) continue;
    w.string(F_TAGS, tag, true);
  }
  for (const [ts, value] of s.points) {
    w.fork(F_POINTS);
    w.double(1, value);
    w.int64(2, ts);
    w.ldelim();
  }
  w.uint(F_TYPE, METRIC_TYPE[s.type]);
  w.string(F_SOURCE_TYPE, s.sourceTypeName);
  w.int64(F_INTERVAL, s.interval);
  w.raw(ORIGINS[s.sourceTypeName === "" ? 1 : 0][s.noIndex ? 1 : 0]);
  w.ldelim();
  return w.finish();
}

/** The `/api/v1/series` object of `s`, keys in the agent's order (spec §3.6). */
export function serieV1(s: Serie): Record<string, unknown> {
  let device: string | undefined;
  const tags: string[] = [];
  for (const tag of s.tags) {
    if (tag.startsWith(DEVICE)) device = tag.slice(DEVICE.length);
    else tags.push(tag);
  }
  const out: Record<string, unknown> = {
    metric: s.name,
    points: s.points.map(([ts, v]) => [Math.trunc(ts), v]),
    tags,
    host: s.host,
  };
  if (device !== undefined) out.device = device;
  out.type = s.type;
  out.interval = Math.trunc(s.interval);
  if (s.sourceTypeName !== "") out.source_type_name = s.sourceTypeName;
  return out;
}
