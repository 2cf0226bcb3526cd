/**
 * Building blocks for config keys: each gives a valibot schema with a default, a range or a
 * pattern, and the message shown when a value is outside it. Every key is built from these, so
 * no value the agent starts with is unbounded (a test walks the whole schema to hold that).
 */
import { isIP } from "node:net";
import * as v from "valibot";

export const INTEGER = "expected an integer";
export const BOOLEAN = "expected a boolean (true or false)";
export const STRING = "expected a string";
export const LIST = "expected a list of strings";

/** Characters no config string needs: C0 controls but tab, newline and carriage return, and DEL. */
// deno-lint-ignore no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** A string of at most `max` characters without control characters (a list item, a map value). */
export const text = (max: number) =>
  v.pipe(
    v.string(STRING),
    v.maxLength(max, `expected a string of at most ${max} characters`),
    v.check((s) => !CONTROL.test(s), "expected a string without control characters"),
  );

/** Free text (API keys, tags, names): bounded length, no control characters. */
export const str = (def: string, max = 1024) => v.optional(text(max), def);
export const bool = (def: boolean) => v.optional(v.boolean(BOOLEAN), def);
/** An integer in `[min, max]`; `what` names it in the message. */
const bounded = (what: string) => (def: number, min: number, max: number) =>
  v.optional(
    v.pipe(
      v.number(INTEGER),
      v.integer(INTEGER),
      v.minValue(min, `expected ${what} of at least ${min}`),
      v.maxValue(max, `expected ${what} of at most ${max}`),
    ),
    def,
  );
export const int = bounded("an integer");
/** Whole seconds: most timeouts and intervals. */
export const seconds = bounded("a whole number of seconds");
export const port = (def: number) => int(def, 0, 65535);

/**
 * A float in `[min, max]`, or `(min, max]` when `above` is set (backoffs: 0 would retry in a
 * tight loop).
 */
export const num = (def: number, min: number, max: number, { above = false } = {}) =>
  v.optional(
    v.pipe(
      v.number("expected a number"),
      above
        ? v.gtValue(min, `expected a number greater than ${min}`)
        : v.minValue(min, `expected a number of at least ${min}`),
      v.maxValue(max, `expected a number of at most ${max}`),
    ),
    def,
  );
/** A share of something, from 0 to 1. */
export const ratio = (def: number) =>
  v.optional(
    v.pipe(
      v.number("expected a number from 0 to 1"),
      v.minValue(0, "expected a number from 0 to 1"),
      v.maxValue(1, "expected a number from 0 to 1"),
    ),
    def,
  );

/** A list whose items each pass `item`, at most `max` of them. */
export const listOf = <T extends v.GenericSchema>(
  item: T,
  def: v.InferOutput<T>[],
  { max = 10_000, message = LIST } = {},
) =>
  v.optional(
    v.pipe(
      v.array(item, message),
      v.maxLength(max, `expected a list of at most ${max} items`),
    ),
    def,
  );
/** A list of free-text strings (tags, names). */
export const list = (def: string[] = []) => listOf(text(1024), def);

const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
const SIZE = "expected a size in bytes or a number with a unit (b, kb, mb, gb)";
/** A byte size given as a number or as `10Mb`, `512KB`, `1gb`, at most `max` bytes. */
export const size = (def: number, max = TiB) =>
  v.optional(
    v.pipe(
      v.union([
        v.pipe(v.number(), v.integer(), v.minValue(0)),
        v.pipe(
          v.string(),
          v.maxLength(64, SIZE),
          v.regex(/^\s*\d+(\.\d+)?\s*(b|kb|mb|gb)?\s*$/i, SIZE),
        ),
      ], SIZE),
      v.transform((x) => {
        if (typeof x === "number") return x;
        const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(x)!;
        return Math.round(Number(m[1]) * SIZE_UNITS[m[2].toLowerCase()]);
      }),
      v.maxValue(max, `expected a size of at most ${max} bytes`),
    ),
    def,
  );

/** One of a fixed set of strings. */
export const oneOf = <const T extends readonly string[]>(options: T, def: T[number]) =>
  v.optional(v.picklist(options, `expected one of ${options.join(", ")}`), def);

/** A string that matches `re` in full, bounded in length before the pattern runs. */
export const pattern = (def: string, re: RegExp, expected: string, max = 1024) =>
  v.optional(
    v.pipe(v.string(STRING), v.maxLength(max, expected), v.regex(re, expected)),
    def,
  );

const LABEL = "[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?";
/** RFC 1123 names, plus `_` which internal DNS often has; an optional final dot. */
const HOSTNAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*\\.?$`, "i");
const HOST = "expected a host name or an IP address";

/** True when `s` is a host name or an IPv4/IPv6 address (IPv6 with or without brackets). */
export function isHost(s: string): boolean {
  if (s.length > 254) return false;
  const bare = s.startsWith("[") && s.endsWith("]") ? s.slice(1, -1) : s;
  return isIP(bare) !== 0 || HOSTNAME.test(s);
}

/** A host name or address to bind or connect to; `""` only where `optional`. */
export const host = (def: string, { optional = false, listen = false } = {}) =>
  v.optional(
    v.pipe(
      v.string(STRING),
      v.check(
        (s) => (optional && s === "") || isHost(s),
        optional
          ? `${HOST}, or "" for none`
          : listen
          ? `${HOST} (0.0.0.0 for every interface)`
          : HOST,
      ),
    ),
    def,
  );

/** A Datadog site: a bare domain such as `datadoghq.eu`; `""` means the default, as in Datadog. */
export const site = (def: string) =>
  v.optional(
    v.pipe(
      v.string(STRING),
      v.check(
        (s) => s === "" || (s.length <= 254 && HOSTNAME.test(s) && s.includes(".")),
        "expected a domain such as datadoghq.com or datadoghq.eu (no scheme, no path)",
      ),
      v.transform((s) => s || def),
    ),
    def,
  );

/** True when `s` parses as an absolute http:// or https:// URL with a host. */
export function isHttpUrl(s: string): boolean {
  if (s.length > 2048) return false;
  try {
    const u = new URL(s);
    return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
  } catch {
    return false;
  }
}
const URL_EXPECTED = "expected an http:// or https:// URL";

/** An http(s) URL, or `""` for none. */
export const url = (def = "") =>
  v.optional(
    v.pipe(v.string(STRING), v.check((s) => s === "" || isHttpUrl(s), `${URL_EXPECTED}, or ""`)),
    def,
  );
/** The same check for a map's keys (`additional_endpoints`). */
export const urlKey = v.pipe(v.string(STRING), v.check(isHttpUrl, URL_EXPECTED));

/** Longest path accepted: Linux's PATH_MAX. */
const PATH_MAX = 4096;
/** A file system path, absolute or relative to the working directory; `""` only where `optional`. */
export const path = (def: string, { optional = true } = {}) =>
  v.optional(
    v.pipe(
      v.string(STRING),
      v.maxLength(PATH_MAX, `expected a path of at most ${PATH_MAX} characters`),
      v.check((s) => !s.includes("\0"), "expected a path without NUL characters"),
      v.check((s) => optional || s !== "", "expected a path, not an empty string"),
    ),
    def,
  );

/** Seconds in an hour, a day and a week: upper bounds of timeouts and intervals. */
export const HOUR = 3600;
export const DAY = 24 * HOUR;
export const WEEK = 7 * DAY;
/** Binary size units, for `size()` bounds. */
export const MiB = 1024 ** 2;
export const GiB = 1024 ** 3;
export const TiB = 1024 ** 4;
