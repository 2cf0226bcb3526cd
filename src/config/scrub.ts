/**
 * The scrubber: removes credentials from text and from parsed config objects before they
 * leave the process (log lines, `outpost config`, the API, flares). The replacement is
 * `********`; API and app keys keep a short tail so that an operator can tell keys apart.
 *
 * @module
 */

const MASK = "********";

/** Keeps the last `n` characters of `s`, masking the rest with stars of the same length. */
function keepTail(s: string, n: number): string {
  return "*".repeat(Math.max(0, s.length - n)) + s.slice(s.length - n);
}

// Text rules, applied in order to every line. Each keeps what names the secret and masks the secret.
const TEXT_RULES: Array<[RegExp, (m: string, ...g: string[]) => string]> = [
  // URL credentials: scheme://user:password@host
  [/([a-z][a-z0-9+.-]*:\/\/[^:\s/@]+:)([^@\s/]+)@/gi, (_m, pre) => `${pre}${MASK}@`],
  // Bearer tokens: a 64-hex agent token keeps its last 5, anything else is masked whole.
  [
    /\b(Bearer\s+)([a-fA-F0-9]{59})([a-fA-F0-9]{5})\b/g,
    (_m, pre, _s, tail) => `${pre}${"*".repeat(59)}${tail}`,
  ],
  [/\b(Bearer\s+)(?!\*)[^\s"',;]+/g, (_m, pre) => `${pre}${MASK}`],
  // URL-style parameters.
  [/\b((?:api_?key|app_?key|application_key)=)([^\s&"']+)/gi, (_m, pre, v) => pre + keepTail(v, 4)],
  // ddapp_ application keys and remote-config keys.
  [/\b(ddapp_[a-zA-Z0-9]+)\b/g, (m) => keepTail(m, 4)],
  [/\b(DDRCM_[A-Z0-9]+)\b/g, (m) => keepTail(m, 5)],
  // Password-like and token-like keys in `key: value`, `key=value` and `key = value` forms.
  [
    /\b([\w-]*(?:pass|password|pswd|pwd|token|jwt|_secret|_secret_id|access_key|private_key|consumer_key|token_id|community_string|community|auth_?key|priv_?key|authentication_key|privacy_key|authorization|cookie|dd-api-key)\b["']?\s*(?:=|:\s|\s=\s)\s*)(?!\*{8})(["']?)[^\s"',]+\2/gi,
    (_m, pre, q) => `${pre}${q}${MASK}${q}`,
  ],
  // Header-style keys: x-foo-key, x-foo-token, x-foo-auth, x-foo-secret.
  [
    /\b(x-[\w-]*-(?:key|token|auth|secret)\b["']?\s*[:=]\s*)(?!\*{8})[^\s"',]+/gi,
    (_m, pre) => `${pre}${MASK}`,
  ],
  // Bare API keys (32 hex) and app keys (40 hex).
  [/\b[a-fA-F0-9]{40}\b/g, (m) => keepTail(m, 4)],
  [/\b[a-fA-F0-9]{32}\b/g, (m) => keepTail(m, 4)],
];

const PEM = /-----BEGIN[A-Z ]*-----[\s\S]*?-----END[A-Z ]*-----/g;

/**
 * Scrubs free text line by line, then masks multi-line PEM blocks.
 *
 * @example
 * ```ts
 * import { scrubText } from "./scrub.ts";
 * scrubText("proxy https://bob:hunter2@proxy:3128"); // "proxy https://bob:********@proxy:3128"
 * ```
 */
export function scrubText(text: string): string {
  let out = text.replace(PEM, MASK);
  for (const [re, fn] of TEXT_RULES) out = out.replace(re, fn as any);
  return out;
}

const SECRET_KEY =
  /(pass|password|pswd|pwd|token|jwt|_secret|_secret_id|access_key|private_key|consumer_key|token_id|community_string|community|auth_?key|priv_?key|authentication_key|privacy_key|authorization|cookie)$|^x-.*-(key|token|auth|secret)$|^(dd-api-key|authority|private-token|kong-admin-token|accesstoken|session_token|sec-websocket-key)$/i;
const API_KEY = /^(api[-_]?key|ap(p|plication)[-_]?key)$/i;

/** How much of an API or app key stays visible in a YAML object: more for longer keys. */
function keyTail(len: number): number {
  return len <= 4 ? 0 : len < 8 ? 1 : len < 16 ? 2 : len < 32 ? 3 : 4;
}

/**
 * Returns a scrubbed deep copy of a parsed config object. `ENC[…]` handles are kept: they name
 * a secret without being one. `extraKeys` are exact keys to mask as well (`flare_stripped_keys`).
 */
export function scrubObject<T>(value: T, extraKeys: string[] = []): T {
  const extra = new Set(extraKeys.map((k) => k.toLowerCase()));
  const walk = (x: unknown, key: string | null): unknown => {
    if (key !== null && typeof x === "string" && !/^ENC\[.+\]$/.test(x) && x !== "") {
      if (API_KEY.test(key)) return keepTail(x, keyTail(x.length));
      if (SECRET_KEY.test(key) || extra.has(key.toLowerCase())) return MASK;
    }
    if (key === "additional_endpoints" && x && typeof x === "object" && !Array.isArray(x)) {
      return Object.fromEntries(
        Object.entries(x).map((
          [url, keys],
        ) => [url, Array.isArray(keys) ? keys.map(() => MASK) : MASK]),
      );
    }
    if (typeof x === "string") return scrubText(x);
    if (Array.isArray(x)) return x.map((e) => walk(e, null));
    if (x && typeof x === "object") {
      return Object.fromEntries(Object.entries(x).map(([k, e]) => [k, walk(e, k)]));
    }
    return x;
  };
  return walk(value, null) as T;
}
