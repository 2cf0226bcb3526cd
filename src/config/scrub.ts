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
  /**
   * Secret values known by value (the config's, the environment's, the auth token): masked
   * wherever they appear, and fed with every value the object scrubber masks.
   */
  known?: KnownSecrets;
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
  "passphrase",
  "token",
  "jwt",
  "secret",
  "secret_id",
  "secret_key",
  "access_key",
  "account_key",
  "credentials?",
  "connection_string",
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

/** A one-letter flag whose value is a password, for the commands that define it so. */
interface CommandFlag {
  /** The command's name, as a pattern. */
  command: RegExp;
  flag: string;
  /** The value follows the flag without a space (`mysql -pSECRET`; `-p SECRET` prompts). */
  attached: boolean;
  /** Matches the command as a list item: its name or its path. */
  named: RegExp;
}

const COMMAND_FLAGS: CommandFlag[] = [
  commandFlag(/redis-cli/, "-a", false),
  commandFlag(/sshpass/, "-p", false),
  commandFlag(
    /(?:mysql|mysqldump|mysqladmin|mysqlcheck|mysqlimport|mysqlshow|mariadb)/,
    "-p",
    true,
  ),
];

function commandFlag(command: RegExp, flag: string, attached: boolean): CommandFlag {
  return { command, flag, attached, named: new RegExp(`(?:^|/)${command.source}$`) };
}

/** `--vault-token`, `--password`, `-api-key`: a flag named as a secret config key would be. */
function isSecretFlag(flag: string): boolean {
  const key = flag.replace(/^-+/, "").replace(/[-.]/g, "_");
  return SECRET_KEY.test(key) || API_KEY.test(key);
}

/** `value` replaced by `by`, keeping the quotes around it. */
function quoted(value: string, by: string): string {
  const q = value[0] === '"' || value[0] === "'" ? value[0] : "";
  return q + by + q;
}

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
  // Secret flags on command lines: `--password hunter2`, `-pwd=x`, `--vault-token s.x`. A
  // value starting with `-` is the next flag, not a value.
  [
    /(^|[\s"'=])(--?[A-Za-z][\w.-]*)(=|[ \t]+)(?!\*{8})(?!-)("[^"]*"|'[^']*'|[^\s"']+)/g,
    (m, lead, flag, sep, value: string) =>
      isSecretFlag(flag) ? `${lead}${flag}${sep}${quoted(value, MASK)}` : m,
  ],
  // One-letter password flags of the commands that define them: `redis-cli -a x`, `mysql -px`.
  ...COMMAND_FLAGS.map(({ command, flag, attached }): Rule => [
    new RegExp(
      `((?:^|[\\s/"'])${command.source}(?=\\s)[^\\n]*?\\s${flag}${
        attached ? "" : "[ \\t]+"
      })(?!\\*{8})(\\S+)`,
      "g",
    ),
    (_m, pre) => `${pre}${MASK}`,
  ]),
  // `curl -u user:password`, `--user user:password`.
  [/(\s(?:-u|--user)[ \t]+[^\s:"']+:)(?!\*{8})([^\s"']+)/g, (_m, pre) => `${pre}${MASK}`],
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
  // AWS access key ids keep their tail, like API keys; a bare secret access key (40 base64
  // characters mixing cases and digits, as random keys do and paths seldom do) goes whole.
  [
    /\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA)[A-Z0-9]{16}\b/g,
    (m) => keepTail(m, 4),
  ],
  [
    /(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]*[A-Z])(?=[A-Za-z0-9/+]*[a-z])(?=[A-Za-z0-9/+]*[0-9])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g,
    () => MASK,
  ],
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
  const { known } = options;
  let rules = lineRules(options);
  let multiLine = MULTI_LINE_RULES;
  if (known) {
    text = known.mask(text);
    // What a rule masks here is learned, to be masked where no rule would see it.
    const learning = ([re, fn]: Rule): Rule => [re, (m, ...g) => {
      const out = fn(m, ...g);
      if (out !== m) known.addMasked(m, out);
      return out;
    }];
    rules = rules.map(learning);
    multiLine = multiLine.map(learning);
  }
  let out = text.split("\n").map((line) => {
    for (const [re, fn] of rules) line = line.replace(re, fn);
    return line;
  }).join("\n");
  for (const [re, fn] of multiLine) out = out.replace(re, fn);
  return out;
}

// Keys of a YAML object whose scalar values are masked whole.
const SECRET_KEY = new RegExp(
  [
    "pass|pwd", // anywhere in the key: password_file, db_pwd_old
    "(token|jwt|secret|secret_id|secret_key|access_key|private_key|consumer_key|token_id)$",
    "(account_key|signing_key|encryption_key|master_key|credentials?|connection_string)$",
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
  const known = o.known;
  const textOptions = { extraKeys: o.extraKeys, known };
  const masked = (raw: string, by: string) => {
    known?.add(raw, by);
    return by;
  };
  const walk = (x: unknown, key: string | null): unknown => {
    if (key !== null && isScalar(x) && !(typeof x === "string" && SECRET_HANDLE.test(x))) {
      const s = String(x);
      if (API_KEY.test(key) && s !== "") return masked(s, keepTail(s, keyTail(s.length)));
      if (SECRET_KEY.test(key) || extra.has(key.toLowerCase())) return masked(s, MASK);
    }
    if (key === "additional_endpoints" && x && typeof x === "object" && !Array.isArray(x)) {
      return Object.fromEntries(
        Object.entries(x).map((
          [url, keys],
        ) => [scrubText(url, textOptions), maskLeaves(keys, known)]),
      );
    }
    if (key !== null && SECRET_LIST_KEY.test(key) && Array.isArray(x)) return maskLeaves(x, known);
    if (typeof x === "string") {
      if (SECRET_HANDLE.test(x)) return x;
      const out = scrubText(x, textOptions);
      if (out !== x) known?.add(x, out);
      return out;
    }
    if (Array.isArray(x)) {
      // A list can be a command line split into arguments: a secret flag and its value are
      // two items, so the value is masked by its place after the flag.
      const commands = commandsIn(x);
      return x.map((e, i) => {
        const arg = commandArg(x, i, commands);
        return arg === null ? walk(e, null) : masked(String(e), arg);
      });
    }
    if (x && typeof x === "object") {
      return Object.fromEntries(
        Object.entries(x).map(([k, e]) => [scrubText(k, textOptions), walk(e, k)]),
      );
    }
    return x;
  };
  return walk(value, null) as T;
}

/** The {@linkcode COMMAND_FLAGS} whose command is an item of `list`. */
function commandsIn(list: unknown[]): CommandFlag[] {
  return COMMAND_FLAGS.filter((f) => list.some((a) => typeof a === "string" && f.named.test(a)));
}

/**
 * Item `i` of an argument list, masked, when it is the value of a secret flag before it
 * (`["--vault-token", "s.x"]`, `["redis-cli", "-a", "x"]`) or a password attached to its flag
 * (`["mysql", "-px"]`); null when it is no secret argument. `commands` are the list's
 * {@linkcode commandsIn}.
 */
function commandArg(list: unknown[], i: number, commands: CommandFlag[]): string | null {
  const item = list[i];
  if (!isScalar(item)) return null;
  const s = String(item);
  if (s.startsWith(MASK)) return null;
  const prev = i > 0 ? list[i - 1] : undefined;
  if (typeof prev === "string") {
    if (/^--?[A-Za-z][\w.-]*$/.test(prev) && isSecretFlag(prev)) return MASK;
    if (commands.some((f) => !f.attached && f.flag === prev)) return MASK;
  }
  const attached = commands.find((f) =>
    f.attached && s.startsWith(f.flag) && s.length > f.flag.length
  );
  return attached && !s.startsWith(attached.flag + MASK) ? attached.flag + MASK : null;
}

function isScalar(x: unknown): x is string | number | bigint {
  return typeof x === "string" || typeof x === "number" || typeof x === "bigint";
}

/** Masks every scalar under `x`, keeping the shape. */
function maskLeaves(x: unknown, known?: KnownSecrets): unknown {
  if (Array.isArray(x)) return x.map((e) => maskLeaves(e, known));
  if (x && typeof x === "object") {
    return Object.fromEntries(Object.entries(x).map(([k, e]) => [k, maskLeaves(e, known)]));
  }
  if (x === null || x === undefined) return x;
  if (isScalar(x)) known?.add(String(x), MASK);
  return MASK;
}

// Proxy variables are not DD_* but decide where the agent's traffic goes.
const PROXY_VARS = /^(https?_proxy|no_proxy|all_proxy)$/i;

/**
 * The `DD_*` and proxy variables of `env` as sorted `NAME=value` lines, each value scrubbed as
 * the config key it sets, so `DD_API_KEY` keeps a tail and `DD_*_PASSWORD` goes.
 *
 * @example
 * ```ts
 * import { scrubbedEnvLines } from "./scrub.ts";
 * scrubbedEnvLines({ DD_SITE: "datadoghq.eu", HOME: "/root", DD_PROXY_PASSWORD: "x" });
 * // ["DD_PROXY_PASSWORD=********", "DD_SITE=datadoghq.eu"]
 * ```
 */
export function scrubbedEnvLines(env: Record<string, string | undefined>): string[] {
  const lines: string[] = [];
  for (const name of Object.keys(env).sort()) {
    const value = env[name];
    if (value === undefined || !(name.startsWith("DD_") || PROXY_VARS.test(name))) continue;
    const key = name.replace(/^DD_/, "").toLowerCase();
    lines.push(`${name}=${(scrubObject({ [key]: value }) as Record<string, string>)[key]}`);
  }
  return lines;
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
  return scrubYamlObjects(text, options) ?? scrubText(text, options);
}

/** YAML text scrubbed as objects, or null when it does not parse. */
function scrubYamlObjects(text: string, options: ScrubOptions): string | null {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs) || docs.some((d) => d.errors.length > 0)) return null;
  return docs.map((d) => {
    const data = d.toJS();
    return data === null || data === undefined ? "" : stringifyYaml(scrubObject(data, options));
  }).join("---\n");
}

/** A file's scrubbed content, and what kept it from being scrubbed as its format asks. */
export interface ScrubbedFile {
  text: string;
  /** Null when the file was scrubbed as its format asks. */
  shortfall: string | null;
}

/**
 * Scrubs a file's content by its name: `.heapsnapshot` files by the strings of their table,
 * names containing `.yaml` or `.yml` as YAML objects (as text when they do not parse, which
 * the result says), everything else as text. Throws when a heap snapshot does not parse.
 */
export function scrubFileReport(
  name: string,
  text: string,
  options: ScrubOptions = {},
): ScrubbedFile {
  if (/\.heapsnapshot$/i.test(name)) {
    return { text: scrubHeapSnapshot(text, options), shortfall: null };
  }
  if (!/\.ya?ml/i.test(name)) return { text: scrubText(text, options), shortfall: null };
  const yaml = scrubYamlObjects(text, options);
  return yaml !== null ? { text: yaml, shortfall: null } : {
    text: scrubText(text, options),
    shortfall: "the YAML does not parse, so it was scrubbed line by line as text: a secret " +
      "whose key is on another line than its value may be left",
  };
}

/** {@linkcode scrubFileReport}'s text alone. */
export function scrubFile(name: string, text: string, options: ScrubOptions = {}): string {
  return scrubFileReport(name, text, options).text;
}

/**
 * Scrubs every string of a heap snapshot (V8 format: the text lives in its `strings` table).
 * A heap snapshot holds every string in memory, the API key and the config text among them:
 * each one goes through the text scrubber, `options.known` values first. Throws when the data
 * is not a heap snapshot, so that it is left out rather than sent as is.
 */
export function scrubHeapSnapshot(data: Uint8Array | string, options: ScrubOptions = {}): string {
  const snapshot = JSON.parse(typeof data === "string" ? data : new TextDecoder().decode(data));
  if (!Array.isArray(snapshot?.strings)) throw new Error("no strings table in the heap snapshot");
  snapshot.strings = snapshot.strings.map((s: unknown) =>
    typeof s === "string" ? scrubText(s, options) : s
  );
  return JSON.stringify(snapshot);
}

/**
 * Values shorter than this are not masked by value: that would mask ordinary words, and
 * `true` or `null` in JSON.
 */
const MIN_KNOWN_LENGTH = 6;
/**
 * Length of the fragments of a secret that are masked too: a heap snapshot cuts long strings,
 * and a log tail can start inside a line, leaving part of a secret without its key.
 */
const FRAGMENT = 8;

/**
 * Secret values known by value, each with its scrubbed form: masked wherever they appear
 * (whole, or any {@linkcode FRAGMENT}-character piece of the masked part).
 *
 * @example
 * ```ts
 * import { KnownSecrets } from "./scrub.ts";
 * const known = new KnownSecrets();
 * known.add("s.Vault0Token42", "********");
 * known.mask("token s.Vault0Token42, cut: Vault0Token"); // "token ********, cut: ********"
 * ```
 */
export class KnownSecrets {
  readonly #exact = new Map<string, string>();
  readonly #fragments = new Set<string>();
  // Pairs of characters that start a fragment: most positions of a text fail here cheaply.
  readonly #starts = new Uint8Array(1 << 16);
  #ordered: Array<[string, string]> | null = null;

  /** Values known so far. */
  get size(): number {
    return this.#exact.size;
  }

  /** The scrubbed form of `raw`, when it is known. */
  get(raw: string): string | undefined {
    return this.#exact.get(raw);
  }

  /**
   * Learns `raw` and what it is scrubbed to. A value masked whole (or to a key's tail) gives
   * its fragments; of a value scrubbed in part (a URL, a command line), the piece that changed
   * is learned as a secret of its own; of a masked block of text (a PEM key), each word that
   * mixes letters and digits is. A URL's password is learned too: it lives in memory decoded
   * once the URL is parsed.
   */
  add(raw: string, scrubbed: string = MASK): void {
    if (raw.length < MIN_KNOWN_LENGTH || raw === scrubbed || this.#exact.has(raw)) return;
    // A number masked by value would break every JSON number that holds its digits; a value
    // that holds a mask is scrubbed output (its fragments would be runs of stars).
    if (/^[-+.\deE]+$/.test(raw) || raw.includes(MASK)) return;
    this.#exact.set(raw, scrubbed);
    this.#ordered = null;
    const whole = /^\*+[^*]{0,5}$/.test(scrubbed);
    const secret = whole ? raw : changedPart(raw, scrubbed);
    if (/\s/.test(secret)) {
      for (const word of secret.split(/\s+/)) if (looksRandom(word)) this.add(word, MASK);
    } else if (!whole) {
      this.add(secret, MASK);
    } else if (!/["\\]/.test(secret)) {
      // JSON syntax must survive the mask: fragments hold no quote nor backslash.
      for (let i = 0; i + FRAGMENT <= secret.length; i++) {
        const f = secret.slice(i, i + FRAGMENT);
        this.#fragments.add(f);
        this.#starts[pairIndex(f, 0)] = 1;
      }
    }
    const password = URL.canParse(raw) ? safeDecode(new URL(raw).password) : "";
    if (password.length >= MIN_KNOWN_LENGTH) this.add(password, MASK);
  }

  /**
   * Learns what a text rule masked (`match` became `masked`) when it looks like a secret
   * rather than a word: a text rule can mask a plain word (`token: none`), which must not then
   * be masked everywhere.
   */
  addMasked(match: string, masked: string): void {
    const whole = /^\*+[^*]{0,5}$/.test(masked);
    const secret = whole ? match : changedPart(match, masked);
    if (/\s/.test(secret)) this.add(match, masked);
    else if (looksRandom(secret)) this.add(secret, whole ? masked : MASK);
  }

  /** `text` with every known value replaced by its scrubbed form and every fragment masked. */
  mask(text: string): string {
    if (this.#exact.size === 0) return text;
    // Longest first: a URL is replaced whole before its password alone.
    this.#ordered ??= [...this.#exact].sort((a, b) => b[0].length - a[0].length);
    for (const [raw, scrubbed] of this.#ordered) {
      if (text.includes(raw)) text = text.replaceAll(raw, scrubbed);
    }
    if (this.#fragments.size === 0 || text.length < FRAGMENT) return text;
    let out = "";
    let done = 0; // text before this is in `out`
    let coveredTo = -1; // end of the run of fragments being masked
    for (let i = 0; i + FRAGMENT <= text.length; i++) {
      if (this.#starts[pairIndex(text, i)] === 0) continue;
      if (!this.#fragments.has(text.slice(i, i + FRAGMENT))) continue;
      if (i > coveredTo) {
        if (coveredTo >= 0) out += MASK;
        out += text.slice(done, i);
      }
      coveredTo = i + FRAGMENT;
      done = coveredTo;
    }
    if (coveredTo < 0) return text;
    return out + MASK + text.slice(done);
  }
}

/** A word of 8 characters or more that mixes letters and digits: a key, not prose. */
function looksRandom(word: string): boolean {
  return word.length >= FRAGMENT && /\d/.test(word) && /[A-Za-z]/.test(word) && !/\s/.test(word);
}

/** What `raw` lost to become `scrubbed`: the middle that differs between the two. */
function changedPart(raw: string, scrubbed: string): string {
  let head = 0;
  while (head < raw.length && raw[head] === scrubbed[head]) head++;
  let tail = 0;
  while (
    tail < raw.length - head && raw[raw.length - 1 - tail] === scrubbed[scrubbed.length - 1 - tail]
  ) tail++;
  return raw.slice(head, raw.length - tail);
}

function pairIndex(s: string, i: number): number {
  return ((s.charCodeAt(i) << 8) ^ s.charCodeAt(i + 1)) & 0xffff;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
