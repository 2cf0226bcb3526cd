/**
 * `DD_*` environment bindings, derived from the schema as the Datadog Agent derives them
 * from its registered keys: `DD_` + the key path upper-cased with `.` as `_`. Lists are
 * space-separated, maps are JSON, and a variable replaces the file's value.
 */
import { configSchema, type RawConfig } from "./schema.ts";

type Kind = "string" | "number" | "boolean" | "list" | "map" | "size";

/** One key that can be set from the environment. */
export interface EnvBinding {
  path: string[];
  names: string[];
  kind: Kind;
}

// Names the Datadog Agent accepts besides the derived one.
const ALIASES: Record<string, string[]> = {
  dd_url: ["DD_URL"],
  "apm_config.target_traces_per_second": ["DD_APM_TARGET_TPS"],
  "apm_config.errors_per_second": ["DD_APM_ERROR_TPS"],
  "apm_config.max_events_per_second": ["DD_APM_MAX_EPS"],
};

/** The trace agent's short names: `apm_config.receiver_port` is `DD_APM_RECEIVER_PORT` and
 * `apm_config.apm_dd_url` is `DD_APM_DD_URL`, besides the derived `DD_APM_CONFIG_*`. */
function apmName(path: string[]): string[] {
  if (path[0] !== "apm_config" || path.length < 2) return [];
  return [`DD_APM_${path.slice(1).join("_").toUpperCase().replace(/^APM_/, "")}`];
}

/** Every binding of the schema, computed once. */
export const ENV_BINDINGS: EnvBinding[] = collect(configSchema, []);

function collect(schema: any, path: string[]): EnvBinding[] {
  if (schema.type === "optional") return collect(schema.wrapped, path);
  if (schema.type === "object") {
    return Object.entries(schema.entries).flatMap(([k, s]) => collect(s, [...path, k]));
  }
  const kind: Kind = schema.type === "array"
    ? "list"
    : schema.type === "record"
    ? "map"
    : schema.type === "union"
    ? "size"
    : schema.type;
  const key = path.join(".");
  return [{
    path,
    kind,
    names: [`DD_${path.join("_").toUpperCase()}`, ...apmName(path), ...(ALIASES[key] ?? [])],
  }];
}

const TRUE = new Set(["1", "t", "true"]);
const FALSE = new Set(["0", "f", "false"]);

/** Turns an environment string into the value its key expects; leaves it a string when it cannot. */
function coerce(kind: Kind, text: string): unknown {
  const t = text.trim();
  switch (kind) {
    case "number":
    case "size":
      return t !== "" && Number.isFinite(Number(t)) ? Number(t) : text;
    case "boolean": {
      const l = t.toLowerCase();
      return TRUE.has(l) ? true : FALSE.has(l) ? false : text;
    }
    case "list":
      // Lists of objects (processing rules, dual-shipping endpoints) come as JSON, as the
      // Datadog Agent takes them; other lists are space separated.
      if (t.startsWith("[")) {
        try {
          return JSON.parse(t);
        } catch { /* not JSON: a space-separated list whose first item starts with "[" */ }
      }
      return t === "" ? [] : t.split(/\s+/);
    case "map":
      try {
        return JSON.parse(t);
      } catch {
        return text;
      }
    default:
      return text;
  }
}

/**
 * Overlays the environment on `raw` (mutating it) and returns the dotted keys that came from
 * the environment, with the variable that set each.
 */
export function applyEnv(
  raw: RawConfig,
  env: Record<string, string | undefined>,
): Map<string, string> {
  const fromEnv = new Map<string, string>();
  for (const b of ENV_BINDINGS) {
    const name = b.names.find((n) => env[n] !== undefined);
    if (name === undefined) continue;
    let node: any = raw;
    for (const k of b.path.slice(0, -1)) {
      if (typeof node[k] !== "object" || node[k] === null) node[k] = {};
      node = node[k];
    }
    node[b.path.at(-1)!] = coerce(b.kind, env[name]!);
    fromEnv.set(b.path.join("."), name);
  }
  return fromEnv;
}
