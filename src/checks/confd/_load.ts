/**
 * Reading conf.d: which files count, how each becomes a {@linkcode CheckConfig}, and the errors
 * recorded per check name (the agent keeps running with the rest).
 *
 * @module
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, resolve } from "node:path";
import type { CheckConfig, ConfdResult, DefaultConfig, InstanceConfig } from "../_types.ts";
import { buildCheckId, configDigest, digestHex } from "./_id.ts";
import { parseV2, toPlain } from "./_parse.ts";
import { emitYamlV2, GoFloat, goParseInt, scalarString, type V2Value } from "./_yaml_v2.ts";

/** Options of {@linkcode loadConfd}. */
export interface ConfdOptions {
  /** Directories read in order (`confd_path` first). A missing one gives nothing. */
  confdPaths: string[];
  /** Default configs shipped in the binary, standing in for `<first path>/<name>.d/conf.yaml.default`. */
  defaults: readonly DefaultConfig[];
  /** Values for `%%env_NAME%%`. */
  env: Record<string, string | undefined>;
}

/** A directory entry; `text` set for a built-in default that has no file. */
interface Entry {
  name: string;
  path: string;
  text?: string;
}

interface State {
  configs: CheckConfig[];
  defaults: CheckConfig[];
  /** Check names with a regular (non-default, not logs-only) config: their defaults are dropped. */
  names: Set<string>;
  errors: Record<string, string>;
  env: Record<string, string | undefined>;
}

const NO_INSTANCES = "Configuration file contains no valid instances";

/** See the module documentation of `mod.ts`. */
export function loadConfd({ confdPaths, defaults, env }: ConfdOptions): ConfdResult {
  const state: State = { configs: [], defaults: [], names: new Set(), errors: {}, env };
  confdPaths.forEach((root, i) => scanRoot(state, root, i === 0 ? defaults : []));
  for (const d of state.defaults) if (!state.names.has(d.name)) state.configs.push(d);
  return { configs: state.configs, errors: state.errors };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function isDir(path: string): boolean {
  return statSync(path).isDirectory();
}

function list(dir: string): string[] {
  return readdirSync(dir).sort();
}

function scanRoot(state: State, root: string, builtins: readonly DefaultConfig[]): void {
  let names: string[];
  try {
    names = list(root);
  } catch (e) {
    // A missing conf.d is a host with no integration configs: the built-ins still run.
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") {
      state.errors[root] = `Cannot read conf.d directory "${root}": ${message(e)}`;
      return;
    }
    names = [];
  }
  const byName = new Map(builtins.map((d) => [`${d.name}.d`, d]));
  const entries: { name: string; builtin?: DefaultConfig; onDisk: boolean }[] = names.map((n) => ({
    name: n,
    onDisk: true,
  }));
  for (const [dirName, d] of byName) {
    const existing = entries.find((e) => e.name === dirName);
    if (existing) existing.builtin = d;
    else entries.push({ name: dirName, builtin: d, onDisk: false });
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  for (const entry of entries) {
    const path = join(root, entry.name);
    const dirCheck = entry.name.length > 2 && entry.name.endsWith(".d")
      ? entry.name.slice(0, -2)
      : undefined;
    let dir = false;
    if (entry.onDisk) {
      try {
        dir = isDir(path);
      } catch (e) {
        if (dirCheck) state.errors[dirCheck] = `Cannot read "${resolve(path)}": ${message(e)}`;
      }
    }
    if (dirCheck !== undefined && (dir || entry.builtin)) {
      // A built-in default stands in for its file even when the directory is missing.
      scanDir(state, path, dirCheck, entry.builtin, dir);
      continue;
    }
    // Only `<name>.d` directories hold configs; any other directory (a backup, …) is skipped.
    if (dir) continue;
    const found = collect(state, { name: entry.name, path }, undefined);
    if (found && add(state, found)) state.names.add(found.config.name);
  }
}

/** Files the config to its list; true when it is a regular config (one that hides defaults). */
function add(state: State, found: { config: CheckConfig; logsOnly: boolean }): boolean {
  if (found.config.isDefault) {
    state.defaults.push(found.config);
    return false;
  }
  state.configs.push(found.config);
  return !found.logsOnly;
}

function scanDir(
  state: State,
  dirPath: string,
  checkName: string,
  builtin: DefaultConfig | undefined,
  onDisk: boolean,
): void {
  let names: string[] = [];
  if (onDisk) {
    try {
      names = list(dirPath);
    } catch (e) {
      state.errors[checkName] = `Cannot read "${resolve(dirPath)}": ${message(e)}`;
      names = [];
    }
  }
  const entries: Entry[] = names.map((n) => ({ name: n, path: join(dirPath, n) }));
  if (builtin && !names.includes("conf.yaml.default")) {
    entries.push({
      name: "conf.yaml.default",
      path: join(dirPath, "conf.yaml.default"),
      text: builtin.text,
    });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
  let regular = false;
  for (const entry of entries) {
    if (entry.text === undefined) {
      try {
        // One level only: nested directories are not read.
        if (isDir(entry.path)) continue;
      } catch {
        // A dangling link: reading it below records the error.
      }
    }
    const found = collect(state, entry, checkName);
    if (found && add(state, found)) regular = true;
  }
  if (regular) state.names.add(checkName);
}

/** One file → its config, or null when skipped or failed (the failure is in `state.errors`). */
function collect(
  state: State,
  entry: Entry,
  dirCheckName: string | undefined,
): { config: CheckConfig; logsOnly: boolean } | null {
  const fileName = entry.name;
  // Autodiscovery templates and JMX metric definitions are not check configs here.
  if (fileName === "auto_conf.yaml") return null;
  if (fileName === "metrics.yaml" || fileName === "metrics.yml") return null;
  let ext = extname(fileName);
  let base = fileName;
  const isDefault = ext === ".default";
  if (isDefault) {
    base = fileName.slice(0, -".default".length);
    ext = extname(base);
  }
  if (ext !== ".yaml" && ext !== ".yml") return null;
  const name = dirCheckName ?? base.slice(0, -ext.length);
  const absPath = resolve(entry.path);
  const source = entry.text !== undefined ? `builtin:${name}.d/${fileName}` : `file:${absPath}`;

  let text: string;
  try {
    text = entry.text ?? readFileSync(entry.path, "utf8");
  } catch (e) {
    state.errors[name] = `Cannot read "${absPath}": ${message(e)}`;
    return null;
  }
  if (text.length === 0) return null;

  const result = parseFile(name, text, source, isDefault, state.env);
  if ("error" in result) {
    state.errors[name] = result.error;
    return null;
  }
  // A later good file of the same check clears an earlier file's error, as in the agent.
  delete state.errors[name];
  if (result.instanceErrors.length > 0) state.errors[name] = result.instanceErrors.join("; ");
  return result.config ? { config: result.config, logsOnly: result.logsOnly } : null;
}

type Parsed =
  | { error: string }
  | { config: CheckConfig | null; logsOnly: boolean; instanceErrors: string[] };

function get(map: Map<V2Value, V2Value>, key: string): V2Value {
  return map.get(key) ?? null;
}

function parseFile(
  name: string,
  text: string,
  source: string,
  isDefault: boolean,
  env: Record<string, string | undefined>,
): Parsed {
  let tree: V2Value;
  try {
    tree = parseV2(text);
  } catch (e) {
    return { error: `Cannot parse YAML of ${source}: ${message(e)}` };
  }
  if (tree === null) return { error: NO_INSTANCES };
  if (!(tree instanceof Map)) return { error: `Cannot parse ${source}: expected a map at the top` };

  const instances = get(tree, "instances");
  if (instances !== null && !Array.isArray(instances)) {
    return { error: keyError("instances", "a list") };
  }
  const logs = get(tree, "logs");
  const jmx = get(tree, "jmx_metrics");
  if (jmx === null && logs === null && (instances ?? []).length === 0) {
    return { error: NO_INSTANCES };
  }
  if (logs !== null && !Array.isArray(logs)) return { error: keyError("logs", "a list") };

  const rawInit = get(tree, "init_config");
  if (rawInit !== null && !(rawInit instanceof Map)) {
    return { error: keyError("init_config", "a map") };
  }
  const adIds = get(tree, "ad_identifiers");
  const dockerImages = get(tree, "docker_images");
  const hasAd = Array.isArray(adIds) && adIds.length > 0;
  if (Array.isArray(dockerImages) && dockerImages.length > 0 && !hasAd) {
    return {
      error: "The 'docker_images' section is deprecated, please use 'ad_identifiers' instead",
    };
  }

  const init = rawInit === null ? null : substitute(rawInit, env) as Map<V2Value, V2Value>;
  const initBytes = init === null ? "" : emitYamlV2(init);
  let initCommon: Common;
  try {
    initCommon = readCommon(init ?? new Map(), "init_config", false);
  } catch (e) {
    return { error: message(e) };
  }

  const instanceErrors: string[] = [];
  const good: { index: number; map: Map<V2Value, V2Value>; common: Common; bytes: string }[] = [];
  (instances ?? []).forEach((raw, index) => {
    // A null entry (`- `) is an empty map to Go's decoder.
    if (raw !== null && !(raw instanceof Map)) {
      instanceErrors.push(keyError(`instances[${index}]`, "a map"));
      return;
    }
    const map = substitute(raw ?? new Map(), env) as Map<V2Value, V2Value>;
    try {
      const common = readCommon(map, `instances[${index}]`, true);
      good.push({ index, map, common, bytes: emitYamlV2(map) });
    } catch (e) {
      instanceErrors.push(message(e));
    }
  });
  if (good.length === 0 && jmx === null && logs === null) {
    return { config: null, logsOnly: false, instanceErrors };
  }

  const logsValue = logs === null ? null : substitute(logs, env) as V2Value[];
  const digest = configDigest({
    name,
    instances: good.map((g) => g.bytes),
    initConfig: initBytes,
    logs: logsValue === null ? "" : emitYamlV2(new Map([["logs", logsValue]])),
    adIdentifiers: Array.isArray(adIds) ? adIds.map((a) => scalarString(a) ?? "") : [],
    ignoreAutodiscoveryTags: get(tree, "ignore_autodiscovery_tags") === true,
  });

  const instanceConfigs: InstanceConfig[] = good.map(({ index, map, common, bytes }) => {
    const minCollectionInterval = common.minCollectionInterval ?? initCommon.minCollectionInterval;
    const service = common.service ?? initCommon.service;
    const loader = common.loader ?? initCommon.loader;
    const inst: InstanceConfig = {
      index,
      id: buildCheckId(name, digest, bytes, initBytes, common.name),
      raw: toPlain(map) as Record<string, unknown>,
      bytes,
      tags: common.tags ?? [],
      emptyDefaultHostname: common.emptyDefaultHostname ?? initCommon.emptyDefaultHostname ?? false,
    };
    if (minCollectionInterval !== undefined) inst.minCollectionInterval = minCollectionInterval;
    if (service !== undefined) inst.service = service;
    if (common.name !== undefined) inst.name = common.name;
    if (loader !== undefined) inst.loader = loader;
    return inst;
  });

  const config: CheckConfig = {
    name,
    source,
    provider: "file",
    initConfig: (init === null ? {} : toPlain(init)) as Record<string, unknown>,
    initConfigBytes: initBytes,
    instances: instanceConfigs,
    logs: logsValue === null ? null : toPlain(logsValue) as unknown[],
    isDefault,
    digest: digestHex(digest),
  };
  const logsOnly = logs !== null && jmx === null && good.length === 0 && !hasAd;
  return { config, logsOnly, instanceErrors };
}

function keyError(key: string, expected: string): string {
  return `Cannot parse config key "${key}": expected ${expected}`;
}

/** The keys every check shares, as read from one map (instance or init_config). */
interface Common {
  minCollectionInterval?: number;
  tags?: string[];
  service?: string;
  emptyDefaultHostname?: boolean;
  name?: string;
  loader?: string;
}

function readCommon(map: Map<V2Value, V2Value>, where: string, isInstance: boolean): Common {
  const out: Common = {};
  const num = get(map, "min_collection_interval");
  if (num !== null) {
    if (typeof num !== "bigint" && !(num instanceof GoFloat)) {
      throw new Error(keyError(`${where}.min_collection_interval`, "a number of seconds"));
    }
    const v = num instanceof GoFloat ? num.value : Number(num);
    // 0 (or less) keeps the default rather than meaning "run once".
    if (v > 0) out.minCollectionInterval = v;
  }
  const edh = get(map, "empty_default_hostname");
  if (edh !== null) {
    if (typeof edh !== "boolean") {
      throw new Error(keyError(`${where}.empty_default_hostname`, "a boolean"));
    }
    out.emptyDefaultHostname = edh;
  }
  out.service = text(map, "service", where);
  out.loader = text(map, "loader", where);
  if (isInstance) {
    const tags = get(map, "tags");
    if (tags !== null) {
      const list = Array.isArray(tags) ? tags.map((t) => scalarText(t)) : null;
      if (list === null || list.some((t) => t === null)) {
        throw new Error(keyError(`${where}.tags`, "a list of strings"));
      }
      out.tags = list as string[];
    }
    out.name = text(map, "name", where) || text(map, "namespace", where) || undefined;
  }
  if (out.service === "") delete out.service;
  if (out.loader === "") delete out.loader;
  return out;
}

/** A scalar as Go decodes it into a string field (numbers and booleans keep their text). */
function scalarText(v: V2Value): string | null {
  if (v === null || v instanceof Map || Array.isArray(v)) return null;
  return typeof v === "string" ? v : scalarString(v);
}

function text(map: Map<V2Value, V2Value>, key: string, where: string): string | undefined {
  const v = get(map, key);
  if (v === null) return undefined;
  const s = scalarText(v);
  if (s === null) throw new Error(keyError(`${where}.${key}`, "a string"));
  return s;
}

const ENV_VAR = /%%env_(.+?)%%/g;
const WHOLE_ENV_VAR = /^%%env_(.+?)%%$/;
const GO_BOOLS: Record<string, boolean> = {
  "1": true,
  t: true,
  T: true,
  TRUE: true,
  true: true,
  True: true,
  "0": false,
  f: false,
  F: false,
  FALSE: false,
  false: false,
  False: false,
};

/**
 * Replaces `%%env_NAME%%` in string values (not keys); an unset variable becomes "". As in the
 * agent, a value that is exactly one variable becomes an int or a boolean when the text is one.
 */
function substitute(v: V2Value, env: Record<string, string | undefined>): V2Value {
  if (typeof v === "string") {
    if (!v.includes("%%env_")) return v;
    const out = v.replace(ENV_VAR, (_, name: string) => env[name] ?? "");
    if (WHOLE_ENV_VAR.test(v) && v.match(ENV_VAR)?.length === 1) {
      const i = goParseInt(out);
      if (i !== null) return i;
      if (out in GO_BOOLS) return GO_BOOLS[out];
    }
    return out;
  }
  if (Array.isArray(v)) return v.map((x) => substitute(x, env));
  if (v instanceof Map) {
    const out = new Map<V2Value, V2Value>();
    for (const [k, val] of v) out.set(k, substitute(val, env));
    return out;
  }
  return v;
}
