/** JSON bodies in span tags (MongoDB queries, Elasticsearch and OpenSearch bodies). */

function mask(v: unknown, keep: ReadonlySet<string>): unknown {
  if (Array.isArray(v)) return v.map((x) => mask(x, keep));
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = keep.has(k) ? x : mask(x, keep);
    return out;
  }
  return "?";
}

/**
 * Replaces every value of a JSON document with `"?"`, except under the `keep` keys. Text that
 * is not JSON becomes `?` as a whole, so nothing leaks.
 *
 * @example
 * ```ts
 * import { obfuscateJson } from "./_json.ts";
 * console.assert(obfuscateJson('{"query":{"match":{"name":"abc"}}}') === '{"query":{"match":{"name":"?"}}}');
 * ```
 */
export function obfuscateJson(text: string, keep: ReadonlySet<string> = new Set()): string {
  try {
    return JSON.stringify(mask(JSON.parse(text), keep));
  } catch {
    return "?";
  }
}
