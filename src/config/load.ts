/**
 * Loading: the YAML file, then `DD_*` environment overrides, then `ENC[…]` secrets, then
 * validation. Invalid values are collected into one {@linkcode ConfigError} that names every
 * bad key; unknown keys only produce warnings. Both lists are capped at
 * {@linkcode MAX_LISTED} lines plus one "and N more".
 *
 * The cost is linear in the file's size: the file is capped at {@linkcode MAX_CONFIG_BYTES},
 * and duplicate keys are found with one set per mapping (the YAML library's own check compares
 * every key with every other, which took minutes for 80,000 keys).
 *
 * @module
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from "node:fs";
import { resolve } from "node:path";
import * as v from "valibot";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import type { Runtime } from "../runtime/types.ts";
import { OutpostError } from "../errors.ts";
import { type Config, configSchema, type RawConfig } from "./schema.ts";
import { applyEnv } from "./_env.ts";
import { fetchSecrets, findHandles, replaceHandles } from "./secrets.ts";

/** Largest config file read: the Datadog Agent's fully commented template is about 200 KiB. */
export const MAX_CONFIG_BYTES = 4 * 1024 ** 2;
/** Deepest nesting of mappings and lists accepted; the schema itself is 3 levels deep. */
export const MAX_CONFIG_DEPTH = 64;
/** Problems and warnings listed one by one; the rest are counted in a last line. */
export const MAX_LISTED = 20;

/** Where the agent looks for its config when `-c` is not given, in order. */
export const DEFAULT_CONFIG_PATHS = ["/etc/outpost/datadog.yaml", "./datadog.yaml"];

/** Options of {@linkcode loadConfig}. */
export interface LoadOptions {
  /** Explicit config file (`-c`); it must exist. */
  path?: string;
  /** Paths tried in order when `path` is not given. @default DEFAULT_CONFIG_PATHS */
  searchPaths?: string[];
  /** The environment. @default process.env */
  env?: Record<string, string | undefined>;
  /** Values under the file's (for example `--dev` paths). @default {} */
  defaults?: RawConfig;
}

/** A loaded configuration with where it came from. */
export interface LoadedConfig {
  config: Config;
  /** Absolute path of the file read, or null when none was found. */
  file: string | null;
  /** Unknown keys and similar non-fatal findings, one line each. */
  warnings: string[];
  /** Dotted keys set from the environment → the variable that set them. */
  fromEnv: Map<string, string>;
}

/** The config cannot be used; `problems` has one line per bad key. */
export class ConfigError extends OutpostError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super("config_invalid", problems.join("\n"));
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/**
 * Loads and validates the configuration.
 *
 * @example Defaults with one environment override
 * ```ts
 * import { loadConfig } from "./load.ts";
 * import { runtime } from "../runtime/mod.ts";
 * const { config } = await loadConfig(runtime, { searchPaths: [], env: { DD_LOG_LEVEL: "debug" } });
 * console.log(config.log_level); // "debug"
 * ```
 */
export async function loadConfig(
  runtime: Runtime,
  options: LoadOptions = {},
): Promise<LoadedConfig> {
  const { path, searchPaths = DEFAULT_CONFIG_PATHS, env = process.env, defaults = {} } = options;
  const file = path !== undefined ? resolve(path) : findFile(searchPaths);
  const raw: RawConfig = { ...defaults, ...(file ? readYaml(file) : {}) };
  const unknown: string[] = [];
  unknownKeys(raw, configSchema, "", unknown);
  const warnings = capped(
    unknown.map((k) => `Unknown config key "${k}" is ignored`),
    "unknown keys are ignored",
  );
  const fromEnv = applyEnv(raw, env);

  const handles = [...findHandles(raw)];
  if (handles.length > 0) {
    const backend = v.safeParse(
      v.pick(configSchema, [
        "secret_backend_command",
        "secret_backend_arguments",
        "secret_backend_timeout",
        "secret_backend_output_max_size",
      ]),
      raw,
    );
    if (!backend.success) throw new ConfigError(describe(backend.issues, fromEnv));
    const o = backend.output;
    const secrets = await fetchSecrets(runtime, handles, {
      command: o.secret_backend_command,
      arguments: o.secret_backend_arguments,
      timeout: o.secret_backend_timeout,
      outputMaxSize: o.secret_backend_output_max_size,
    });
    replaceHandles(raw, secrets);
  }

  const parsed = v.safeParse(configSchema, raw);
  if (!parsed.success) throw new ConfigError(describe(parsed.issues, fromEnv));
  return { config: parsed.output, file, warnings, fromEnv };
}

function findFile(paths: string[]): string | null {
  for (const p of paths) if (existsSync(p)) return resolve(p);
  return null;
}

function readYaml(file: string): RawConfig {
  let text: string;
  try {
    text = readCapped(file);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError([
      `Cannot read config file "${file}": ${(e as NodeJS.ErrnoException).code ?? e}`,
    ]);
  }
  const fail = (why: string) => new ConfigError([`Cannot parse config file "${file}": ${why}`]);
  const lines = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: false, lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    // The parser recurses per level: a deep enough nesting overflows its stack first.
    if (err.message.includes("call stack")) {
      throw fail(`nested more than ${MAX_CONFIG_DEPTH} levels`);
    }
    throw fail(yamlProblem(err.message, lines.linePos(err.pos[0]), text));
  }
  const problem = shapeProblem(doc.contents, lines);
  if (problem) throw fail(problem);
  let js: unknown;
  try {
    js = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw fail((e as Error).message.split("\n")[0]);
  }
  if (js === null || js === undefined) return {};
  if (typeof js !== "object" || Array.isArray(js)) {
    throw fail("expected a mapping of keys at the top level");
  }
  return js as RawConfig;
}

/**
 * `line 4, column 3: all mapping items must start at the same column (line 4: "  bad: :")`:
 * the place first, the parser's reason in our style, and the line itself, never a dangling
 * colon where the parser would draw its code frame.
 */
function yamlProblem(message: string, at: { line: number; col: number }, text: string): string {
  const reason = message.split("\n")[0].replace(/ at line \d+, column \d+:?\s*$/, "").trim();
  const src = text.split("\n")[at.line - 1]?.replace(/\r$/, "") ?? "";
  const quoted = src.length > 80 ? `${src.slice(0, 80)}…` : src;
  return `line ${at.line}, column ${at.col}: ${reason[0].toLowerCase()}${
    reason.slice(1)
  } (line ${at.line}: ${JSON.stringify(quoted)})`;
}

/** The file's text, refused past {@linkcode MAX_CONFIG_BYTES} without reading further. */
function readCapped(file: string): string {
  const fd = openSync(file, "r");
  try {
    const tooBig = () =>
      new ConfigError([
        `Cannot read config file "${file}": larger than ${MAX_CONFIG_BYTES} bytes (4 MiB)`,
      ]);
    if (fstatSync(fd).size > MAX_CONFIG_BYTES) throw tooBig();
    // Read to one byte past the cap: a device or a file that grows is refused too.
    const buf = new Uint8Array(MAX_CONFIG_BYTES + 1);
    let n = 0;
    for (let r; n < buf.length && (r = readSync(fd, buf, n, buf.length - n, null)) > 0;) n += r;
    if (n > MAX_CONFIG_BYTES) throw tooBig();
    return new TextDecoder().decode(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}

/**
 * The first duplicate key or too-deep nesting in the document, or null. One pass with a set
 * per mapping, so the work grows with the number of nodes.
 */
function shapeProblem(root: unknown, lines: LineCounter): string | null {
  const stack: Array<[unknown, number]> = [[root, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth > MAX_CONFIG_DEPTH) {
      return `nested more than ${MAX_CONFIG_DEPTH} levels at line ${lineOf(node, lines)}`;
    }
    if (isSeq(node)) {
      for (const item of node.items) stack.push([item, depth + 1]);
      continue;
    }
    const seen = new Map<unknown, Node>();
    for (const { key, value } of node.items) {
      if (isScalar(key)) {
        const first = seen.get(key.value);
        if (first) {
          return `key "${String(key.value)}" appears twice (lines ${lineOf(first, lines)} and ${
            lineOf(key, lines)
          })`;
        }
        seen.set(key.value, key);
      }
      stack.push([value, depth + 1]);
    }
  }
  return null;
}

function lineOf(node: Node, lines: LineCounter): number {
  return node.range ? lines.linePos(node.range[0]).line : 0;
}

/** Appends the dotted paths of `raw`'s keys that the schema does not know to `out`. */
function unknownKeys(raw: unknown, schema: any, prefix: string, out: string[]): void {
  while (schema.type === "optional") schema = schema.wrapped;
  if (schema.type !== "object" || !raw || typeof raw !== "object" || Array.isArray(raw)) return;
  for (const [k, value] of Object.entries(raw)) {
    const path = prefix ? `${prefix}.${k}` : k;
    // Own keys only: "constructor" or "toString" are not config keys.
    if (Object.hasOwn(schema.entries, k)) unknownKeys(value, schema.entries[k], path, out);
    else out.push(path);
  }
}

/** `lines` cut to {@linkcode MAX_LISTED}, with one more line that counts the rest. */
function capped(lines: string[], rest: string): string[] {
  if (lines.length <= MAX_LISTED + 1) return lines;
  return [...lines.slice(0, MAX_LISTED), `… and ${lines.length - MAX_LISTED} more ${rest}`];
}

// Values of these keys are not echoed in a message: it goes to stderr and to the log.
const SECRET_KEY = /api_key|password|secret|token|proxy|additional_endpoints/;
const SHOWN_CHARS = 64;

function describe(issues: v.BaseIssue<unknown>[], fromEnv: Map<string, string>): string[] {
  const lines: string[] = [];
  const reported = new Set<string>();
  for (const issue of issues) {
    const path = issue.path ?? [];
    const key = path.map((p) => String(p.key)).join(".");
    // One line per key (a list counts as one key): the first thing wrong is enough to fix it.
    const end = path.findIndex((p) => p.type === "array");
    const id = end < 0 ? key : path.slice(0, end).map((p) => String(p.key)).join(".");
    if (reported.has(id)) continue;
    reported.add(id);
    const source = fromEnv.has(key) ? ` (from ${fromEnv.get(key)})` : "";
    lines.push(
      `Invalid config key "${key}"${source}: ${issue.message}, got ${
        shown(issue.input, SECRET_KEY.test(key), issue.received)
      }`,
    );
  }
  return capped(lines, "invalid keys");
}

function shown(x: unknown, secret: boolean, received: string): string {
  if (typeof x === "string") {
    if (secret) return `a string of ${x.length} characters`;
    const cut = x.length > SHOWN_CHARS ? `${x.slice(0, SHOWN_CHARS)}…` : x;
    return `string ${JSON.stringify(cut)}`;
  }
  if (x === null || x === undefined) return "no value (the key is empty)";
  if (Array.isArray(x)) return `a list of ${x.length} item${x.length === 1 ? "" : "s"}`;
  if (typeof x === "object") {
    const n = Object.keys(x).length;
    return `a map of ${n} key${n === 1 ? "" : "s"}`;
  }
  return `${typeof x} ${secret ? "(hidden)" : received}`;
}
