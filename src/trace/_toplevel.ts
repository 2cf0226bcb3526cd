/**
 * Top-level spans (logs-apmstats B.3): the entry spans of a service within a chunk. Stats
 * count them, so the agent marks them when the tracer did not.
 */
import type { Span } from "./_span.ts";

/**
 * Marks with metric `_top_level = 1` each span that is a root, whose parent is not in the
 * chunk, or whose parent belongs to another service.
 */
export function computeTopLevel(spans: Span[]): void {
  const services = new Map<bigint, string>();
  for (const s of spans) services.set(s.spanId, s.service);
  for (const s of spans) {
    if (s.parentId === 0n) {
      s.metrics["_top_level"] = 1;
      continue;
    }
    const parent = services.get(s.parentId);
    if (parent === undefined || parent !== s.service) s.metrics["_top_level"] = 1;
  }
}

/** With `Datadog-Client-Computed-Top-Level`, copies the tracer's `_dd.top_level` marks. */
export function copyTopLevel(spans: Span[]): void {
  for (const s of spans) if (s.metrics["_dd.top_level"] === 1) s.metrics["_top_level"] = 1;
}

/** True when the span was marked top-level, by the agent or the tracer. */
export function isTopLevel(s: Span): boolean {
  return s.metrics["_top_level"] === 1 || s.metrics["_dd.top_level"] === 1;
}

/**
 * The root of a chunk: the span with no parent, else the last span whose parent is not in
 * the chunk, else the last span.
 */
export function rootOf(spans: Span[]): Span {
  // Tracers usually send the root last: search from the end.
  for (let i = spans.length - 1; i >= 0; i--) if (spans[i].parentId === 0n) return spans[i];
  const ids = new Set<bigint>();
  for (const s of spans) ids.add(s.spanId);
  for (let i = spans.length - 1; i >= 0; i--) if (!ids.has(spans[i].parentId)) return spans[i];
  return spans[spans.length - 1];
}
