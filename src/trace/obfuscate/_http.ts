/** The `http.url` tag: optionally without its query string or path segments holding digits. */

/** The HTTP options of `apm_config.obfuscation.http`. */
export interface HttpOptions {
  removeQueryString?: boolean;
  removePathDigits?: boolean;
}

/**
 * Obfuscates a URL: userinfo is dropped, the query becomes a bare `?` with
 * `removeQueryString`, and each path segment with a digit becomes `?` with
 * `removePathDigits`. A URL that cannot be parsed becomes `?`.
 *
 * @example
 * ```ts
 * import { obfuscateUrl } from "./_http.ts";
 * const url = obfuscateUrl("http://user:password@foo.com/1/2/3?q=james", { removeQueryString: true });
 * console.assert(url === "http://foo.com/1/2/3?");
 * ```
 */
export function obfuscateUrl(value: string, opts: HttpOptions): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    // Relative URLs (`/users/1?x=y`) are common in tracer tags: parse them against a dummy base.
    try {
      u = new URL(value, "http://relative.invalid");
    } catch {
      return "?";
    }
    if (!value.startsWith("/")) return "?";
    return relative(u, value, opts);
  }
  u.username = "";
  u.password = "";
  let path = u.pathname;
  if (opts.removePathDigits) path = path.split("/").map((s) => /\d/.test(s) ? "?" : s).join("/");
  const origin = u.host ? `${u.protocol}//${u.host}` : u.protocol;
  return `${origin}${path}${query(u, value, opts)}${u.hash}`;
}

function query(u: URL, raw: string, opts: HttpOptions): string {
  if (opts.removeQueryString && (u.search !== "" || raw.includes("?"))) return "?";
  return u.search;
}

function relative(u: URL, raw: string, opts: HttpOptions): string {
  let path = u.pathname;
  if (opts.removePathDigits) path = path.split("/").map((s) => /\d/.test(s) ? "?" : s).join("/");
  return `${path}${query(u, raw, opts)}${u.hash}`;
}
