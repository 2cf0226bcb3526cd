/**
 * JSON in span tags and from checks (MongoDB queries, Elasticsearch and OpenSearch bodies,
 * SQL execution plans): every value becomes `"?"`, except under the `keep` keys, and under
 * the `sql` keys, whose string values are SQL-obfuscated instead.
 */

/** Which keys keep their values and which hold SQL. */
export interface JsonObfuscationOptions {
  keep?: ReadonlySet<string>;
  sql?: ReadonlySet<string>;
  /** The SQL obfuscator for the `sql` keys' values (null when it cannot read one). */
  obfuscateSql?: (query: string) => string | null;
}

function mask(v: unknown, o: JsonObfuscationOptions): unknown {
  if (Array.isArray(v)) return v.map((x) => mask(x, o));
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (o.keep?.has(k)) out[k] = x;
      else if (o.sql?.has(k) && typeof x === "string") out[k] = o.obfuscateSql?.(x) ?? "?";
      else out[k] = mask(x, o);
    }
    return out;
  }
  return "?";
}

/**
 * Obfuscates a JSON document (re-serialized compactly). Text that is not JSON becomes `?` as a
 * whole, so nothing leaks.
 *
 * @example
 * ```ts
 * import { obfuscateJson } from "./_json.ts";
 * console.assert(obfuscateJson('{"query":{"match":{"name":"abc"}}}') === '{"query":{"match":{"name":"?"}}}');
 * ```
 */
export function obfuscateJson(text: string, options: JsonObfuscationOptions = {}): string {
  try {
    return JSON.stringify(mask(JSON.parse(text), options));
  } catch {
    return "?";
  }
}
