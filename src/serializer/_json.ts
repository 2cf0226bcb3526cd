/**
 * JSON shapes of `/api/v1/check_run` items and `/intake/` events (spec §3.6).
 */
import { type Event, MAX_TIMESTAMP, type ServiceCheck } from "../metrics/model.ts";

/** Source type events without one are grouped under. */
export const DEFAULT_EVENT_SOURCE = "api";

/**
 * True when an event's or service check's timestamp (0 meaning `now`) is in [0, MAX_TIMESTAMP]
 * and a service check's status is 0–3: otherwise JSON would carry `null` or a nonsense date.
 */
export function validItem(item: Event | ServiceCheck): boolean {
  const ts = item.timestamp;
  if (!(ts >= 0 && ts <= MAX_TIMESTAMP)) return false;
  return !("status" in item) || [0, 1, 2, 3].includes(item.status);
}

/** One `/api/v1/check_run` object; a zero timestamp becomes `now`. */
export function serviceCheckJson(c: ServiceCheck, now: number): Record<string, unknown> {
  return {
    check: c.name,
    host_name: c.host,
    timestamp: Math.trunc(c.timestamp || now),
    status: c.status,
    message: c.message,
    tags: c.tags.length > 0 ? c.tags : null,
  };
}

/** One event object: title, text, timestamp and host always, the rest only when set. */
export function eventJson(e: Event, now: number): Record<string, unknown> {
  const out: Record<string, unknown> = {
    msg_title: e.title,
    msg_text: e.text,
    timestamp: Math.trunc(e.timestamp || now),
  };
  if (e.priority) out.priority = e.priority;
  out.host = e.host;
  if (e.tags.length > 0) out.tags = e.tags;
  if (e.alertType) out.alert_type = e.alertType;
  if (e.aggregationKey) out.aggregation_key = e.aggregationKey;
  if (e.sourceTypeName) out.source_type_name = e.sourceTypeName;
  if (e.eventType) out.event_type = e.eventType;
  return out;
}

/** Events grouped by source type ("api" when empty), source types sorted. */
export function groupEvents(events: readonly Event[]): Array<[string, Event[]]> {
  const groups = new Map<string, Event[]>();
  for (const e of events) {
    const key = e.sourceTypeName || DEFAULT_EVENT_SOURCE;
    let g = groups.get(key);
    if (!g) groups.set(key, g = []);
    g.push(e);
  }
  return [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
