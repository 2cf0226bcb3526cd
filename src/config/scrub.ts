/**
 * The scrubber: removes credentials from text and from parsed config objects before they
 * leave the process (log lines, `outpost config`, the API, flares). The replacement is
 * `********`; API and app keys keep a short tail so that an operator can tell keys apart.
 *
 * Text is scrubbed line by line, then multi-line rules (PEM blocks, `community_strings:`
 * lists) run over the whole text. YAML files are parsed and scrubbed as objects, so a key's
 * meaning (not its spelling on one line) decides what is masked.
 *
 * @module
 */
import { parseAllDocuments, stringify as stringifyYaml } from "yaml";

/** What every masked secret becomes. */
export const MASK = "********";

/** Options shared by the scrubbing functions. */
export interface ScrubOptions {
  /** Exact keys to mask as well (`flare_stripped_keys`). @default [] */
  extraKeys?: string[];
  /**
   * Adds the flare's own rule: `api_key: <2+ characters that are not stars>` becomes
   * `api_key: "********"`, catching keys that are not 32 hex characters.
   * @default false
   */
  flare?: boolean;
}

type Rule = [RegExp, (m: string, ...g: any[]) => string];

/** Keeps the last `n` characters of `s`, masking the rest with stars of the same length. */
function keepTail(s: string, n: number): string {
  return "*".repeat(Math.max(0, s.length - n)) + s.slice(s.length - n);
}

// Key names whose values are secrets in `key: value`, `key=value`, `key = value` text forms.
// A `[\w-]*` prefix lets `db_password`, `x_access_token`, `snmp_community_string` match.
const KEY_WORDS = [
  "pass",
  "password",
  "pswd",
  "pwd",
  "token",
  "jwt",
  "_secret",
  "_secret_id",
  "access_key",
  "private_key",
  "consumer_key",
  "token_id",
  "community_string",
  "community",
  "auth_?key",
  "priv_?key",
  "authentication_key",
  "privacy_key",
  "cookie",
  "authority",
  "dd-api-key",
  "sec-websocket-key",
].join("|");

// Line rules, in order. Each keeps what names the secret and masks the secret; a value that
// is already masked (starts with 8 stars) is left alone so rules do not fight each other.
const LINE_RULES: Rule[] = [
  // URL credentials: scheme://user:password@host
  [/([a-z][a-z0-9+.-]*:\/\/[^:\s/@]+:)([^@\s/]+)@/gi, (_m, pre) => `${pre}${MASK}@`],
  // Bearer tokens: a 64-hex agent token keeps its last 5, anything else is masked whole.
  [
    /\b(Bearer\s+)([a-fA-F0-9]{59})([a-fA-F0-9]{5})\b/g,
    (_m, pre, _s, tail) => `${pre}${"*".repeat(59)}${tail}`,
  ],
  [/\b(Bearer\s+)(?!\*)[^\s"',;]+/g, (_m, pre) => `${pre}${MASK}`],
  // Any other Authorization scheme (Basic, Token, …): the whole credential goes.
  [
    /\b(authorization["']?\s*[:=]\s*["']?)(?!Bearer\s)(?!\*{8})(?:[A-Za-z]+\s+)?[^\s"',;]+/gi,
    (_m, pre) => `${pre}${MASK}`,
  ],
  // URL-style parameters.
  [/\b((?:api_?key|app_?key|application_key)=)([^\s&"']+)/gi, (_m, pre, v) => pre + keepTail(v, 4)],
  // ddapp_ application keys and remote-config keys.
  [/\bddapp_[a-zA-Z0-9]+\b/g, (m) => keepTail(m, 4)],
  [/\bDDRCM_[A-Z0-9]+\b/g, (m) => keepTail(m, 5)],
  // Password flags on command lines: `--password hunter2`, `-pwd=hunter2`.
  [/(\s--?(?:pass|password|pswd|pwd)(?:=|\s+))(?!\*{8})(\S+)/gi, (_m, pre) => `${pre}${MASK}`],
  // Password-like and token-like keys.
  [
    new RegExp(
      `\\b([\\w-]*(?:${KEY_WORDS})\\b["']?\\s*(?:=|:\\s|\\s=\\s)\\s*)(?!\\*{8})(["']?)[^\\s"',]+\\2`,
      "gi",
    ),
    (_m, pre, q) => `${pre}${q}${MASK}${q}`,
  ],
  // Header-style keys: x-foo-key, x-foo-token, x-foo-auth, x-foo-secret.
  [
    /\b(x-[\w-]*-(?:key|token|auth|secret)\b["']?\s*[:=]\s*)(?!\*{8})(["']?)[^\s"',]+\2/gi,
    (_m, pre, q) => `${pre}${q}${MASK}${q}`,
  ],
  // A bare API (32 hex) or app (40 hex) key as a YAML value is quoted: a leading `*` would
  // otherwise read as a YAML alias.
  [
    /(:[ \t]+)([a-fA-F0-9]{40}|[a-fA-F0-9]{32})\b/g,
    (_m, pre, key) => `${pre}"${keepTail(key, 4)}"`,
  ],
  [/\b[a-fA-F0-9]{40}\b/g, (m) => keepTail(m, 4)],
  [/\b[a-fA-F0-9]{32}\b/g, (m) => keepTail(m, 4)],
];

const FLARE_RULE: Rule = [
  /\b(api_key:\s*)["']?[^\s*"']{2,}["']?/g,
  (_m, pre) => `${pre}"${MASK}"`,
];

const MULTI_LINE_RULES: Rule[] = [
  [/-----BEGIN[A-Z0-9 ]*-----[\s\S]*?-----END[A-Z0-9 ]*-----/g, () => MASK],
  // A YAML list of SNMP community strings under `community_strings:`.
  [
    /(community_strings:[ \t]*\r?\n)((?:[ \t]*-[ \t]*.*(?:\r?\n|$))+)/g,
    (_m, head, items: string) => head + items.replace(/(-[ \t]*).*/g, `$1${MASK}`),
  ],
];

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Builds the exact-key rule for `flare_stripped_keys`. */
function extraKeyRule(keys: string[]): Rule | null {
  if (keys.length === 0) return null;
  return [
    new RegExp(
      `(^|[\\s{,"'])((?:${
        keys.map(escapeRegExp).join("|")
      })["']?\\s*(?:=|:\\s|\\s=\\s)\\s*)(?!\\*{8})(["']?)[^\\s"',]+\\3`,
      "gim",
    ),
    (_m, lead, pre, q) => `${lead}${pre}${q}${MASK}${q}`,
  ];
}

function lineRules({ extraKeys = [], flare = false }: ScrubOptions): Rule[] {
  // The logger scrubs every line with no options: spare it a new array per call.
  if (extraKeys.length === 0 && !flare) return LINE_RULES;
  const rules = [...LINE_RULES];
  const extra = extraKeyRule(extraKeys);
  if (extra) rules.push(extra);
  if (flare) rules.push(FLARE_RULE);
  return rules;
}

/**
 * Scrubs free text: every line through the line rules, then the multi-line rules over the
 * whole text.
 *
 * @example Mask URL credentials
 * ```ts
 * import { scrubText } from "./scrub.ts";
 * scrubText("proxy https://bob:hunter2@proxy:3128"); // "proxy https://bob:********@proxy:3128"
 * ```
 */
export function scrubText(text: string, options: ScrubOptions = {}): string {
  const rules = lineRules(options);
  let out = text.split("\n").map((line) => {
    for (const [re, fn] of rules) line = line.replace(re, fn);
    return line;
  }).join("\n");
  for (const [re, fn] of MULTI_LINE_RULES) out = out.replace(re, fn);
  return out;
}

// Keys of a YAML object whose scalar values are masked whole.
const SECRET_KEY = new RegExp(
  [
    "pass|pwd", // anywhere in the key: password_file, db_pwd_old
    "(token|jwt|_secret|_secret_id|access_key|private_key|consumer_key|token_id)$",
    "^(community_string|community|auth_?key|priv_?key|authentication_key|privacy_key|authorization|cookie)$",
    "^x-.*-(key|token|auth|secret)$",
    "^(dd-api-key|authority|private-token|kong-admin-token|accesstoken|session_token|sec-websocket-key)$",
  ].join("|"),
  "i",
);
const API_KEY = /^(api[-_]?key|ap(p|plication)[-_]?key)$/i;
const SECRET_LIST_KEY = /^community_strings$/i;
const SECRET_HANDLE = /^ENC\[.+\]$/;

/** How much of an API or app key stays visible in a YAML object: more for longer keys. */
function keyTail(len: number): number {
  return len <= 4 ? 0 : len < 8 ? 1 : len < 16 ? 2 : len < 32 ? 3 : 4;
}

/**
 * Returns a scrubbed deep copy of a parsed config object. `ENC[…]` handles are kept: they name
 * a secret without being one. Map keys are scrubbed as text too (they can be URLs).
 * `options` may also be the list of extra exact keys to mask.
 *
 * @example Keep an API key's tail
 * ```ts
 * import { scrubObject } from "./scrub.ts";
 * scrubObject({ api_key: "0123456789abcdef0123456789abcdef", db: { password: "x" } });
 * // { api_key: "****************************cdef", db: { password: "********" } }
 * ```
 */
export function scrubObject<T>(value: T, options: ScrubOptions | string[] = {}): T {
  const o = Array.isArray(options) ? { extraKeys: options } : options;
  const extra = new Set((o.extraKeys ?? []).map((k) => k.toLowerCase()));
  const textOptions = { extraKeys: o.extraKeys };
  const walk = (x: unknown, key: string | null): unknown => {
    if (key !== null && isScalar(x) && !(typeof x === "string" && SECRET_HANDLE.test(x))) {
      const s = String(x);
      if (API_KEY.test(key) && s !== "") return keepTail(s, keyTail(s.length));
      if (SECRET_KEY.test(key) || extra.has(key.toLowerCase())) return MASK;
    }
    if (key === "additional_endpoints" && x && typeof x === "object" && !Array.isArray(x)) {
      return Object.fromEntries(
        Object.entries(x).map(([url, keys]) => [scrubText(url, textOptions), maskLeaves(keys)]),
      );
    }
    if (key !== null && SECRET_LIST_KEY.test(key) && Array.isArray(x)) return maskLeaves(x);
    if (typeof x === "string") return SECRET_HANDLE.test(x) ? x : scrubText(x, textOptions);
    if (Array.isArray(x)) return x.map((e) => walk(e, null));
    if (x && typeof x === "object") {
      return Object.fromEntries(
        Object.entries(x).map(([k, e]) => [scrubText(k, textOptions), walk(e, k)]),
      );
    }
    return x;
  };
  return walk(value, null) as T;
}

function isScalar(x: unknown): x is string | number | bigint {
  return typeof x === "string" || typeof x === "number" || typeof x === "bigint";
}

/** Masks every scalar under `x`, keeping the shape. */
function maskLeaves(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(maskLeaves);
  if (x && typeof x === "object") {
    return Object.fromEntries(Object.entries(x).map(([k, e]) => [k, maskLeaves(e)]));
  }
  return x === null || x === undefined ? x : MASK;
}

/**
 * Scrubs YAML text as objects: parsed, scrubbed with {@linkcode scrubObject}, printed again
 * (comments are dropped with everything else that is not data). Text that does not parse
 * is scrubbed as text, so a broken file still leaves the host clean.
 *
 * @example
 * ```ts
 * import { scrubYaml } from "./scrub.ts";
 * scrubYaml("db:\n  password: hunter2\n"); // "db:\n  password: \"********\"\n"
 * ```
 */
export function scrubYaml(text: string, options: ScrubOptions = {}): string {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs) || docs.some((d) => d.errors.length > 0)) {
    return scrubText(text, options);
  }
  return docs.map((d) => {
    const data = d.toJS();
    return data === null || data === undefined ? "" : stringifyYaml(scrubObject(data, options));
  }).join("---\n");
}

/**
 * Scrubs a file's content by its name: names containing `.yaml` or `.yml` as YAML objects,
 * everything else as text.
 */
export function scrubFile(name: string, text: string, options: ScrubOptions = {}): string {
  return /\.ya?ml/i.test(name) ? scrubYaml(text, options) : scrubText(text, options);
}
