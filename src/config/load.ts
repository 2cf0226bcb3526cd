/**
 * Loading: the YAML file, then `DD_*` environment overrides, then `ENC[…]` secrets, then
 * validation. Invalid values are collected into one {@linkcode ConfigError} that names every
 * bad key; unknown keys only produce warnings.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import * as v from "valibot";
import { parse as parseYaml } from "yaml";
import type { Runtime } from "../runtime/types.ts";
import { OutpostError } from "../errors.ts";
import { type Config, configSchema, type RawConfig } from "./schema.ts";
import { applyEnv } from "./_env.ts";
import { fetchSecrets, findHandles, replaceHandles } from "./secrets.ts";

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
  const warnings = unknownKeys(raw, configSchema, []).map((k) =>
    `Unknown config key "${k}" is ignored`
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
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError([
      `Cannot read config file "${file}": ${(e as NodeJS.ErrnoException).code ?? e}`,
    ]);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    const first = (e as Error).message.split("\n")[0];
    throw new ConfigError([`Cannot parse config file "${file}": ${first}`]);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) {
    throw new ConfigError([
      `Cannot parse config file "${file}": expected a mapping of keys at the top level`,
    ]);
  }
  return doc as RawConfig;
}

function unknownKeys(raw: unknown, schema: any, path: string[]): string[] {
  while (schema.type === "optional") schema = schema.wrapped;
  if (schema.type !== "object" || !raw || typeof raw !== "object" || Array.isArray(raw)) return [];
  return Object.entries(raw).flatMap(([k, value]) =>
    k in schema.entries
      ? unknownKeys(value, schema.entries[k], [...path, k])
      : [[...path, k].join(".")]
  );
}

function describe(issues: v.BaseIssue<unknown>[], fromEnv: Map<string, string>): string[] {
  return issues.map((issue) => {
    const key = issue.path?.map((p) => String(p.key)).join(".") ?? "";
    const source = fromEnv.has(key) ? ` (from ${fromEnv.get(key)})` : "";
    return `Invalid config key "${key}"${source}: ${issue.message}, got ${
      typeName(issue.input)
    } ${issue.received}`;
  });
}

function typeName(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return "list";
  return typeof x === "object" ? "map" : typeof x;
}
