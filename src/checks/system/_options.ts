/**
 * Reads and validates the options of the system checks: the instance first, then init_config.
 * A bad value throws at load time with a message that names the key.
 */

/** The options of one instance: instance values win over init_config ones. */
export class Options {
  readonly #instance: Record<string, unknown>;
  readonly #init: Record<string, unknown>;
  readonly #check: string;

  constructor(check: string, instance: Record<string, unknown>, init: Record<string, unknown>) {
    this.#check = check;
    this.#instance = instance;
    this.#init = init;
  }

  #raw(key: string): unknown {
    const v = this.#instance[key];
    return v === undefined || v === null ? this.#init[key] ?? undefined : v;
  }

  #fail(key: string, expected: string): never {
    throw new Error(`Cannot parse ${this.#check} option "${key}": expected ${expected}`);
  }

  /** The first of `keys` that is set (newer name first, then old names). */
  #first(keys: string[]): [string, unknown] {
    for (const key of keys) {
      const v = this.#raw(key);
      if (v !== undefined && v !== null) return [key, v];
    }
    return [keys[0]!, undefined];
  }

  /** A boolean option; `fallback` when absent. */
  bool(key: string, fallback: boolean): boolean {
    const v = this.#raw(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v === "boolean") return v;
    // YAML 1.1 (the Datadog Agent's parser) and Python's is_affirmative take these too.
    const word = String(v).toLowerCase();
    if (["true", "yes", "on", "y", "1"].includes(word)) return true;
    if (["false", "no", "off", "n", "0"].includes(word)) return false;
    return this.#fail(key, "a boolean");
  }

  /** A finite number (numeric strings too) of at least `min`; `fallback` when absent. */
  number(key: string, fallback: number, { min = -Infinity }: { min?: number } = {}): number {
    const v = this.#raw(key);
    if (v === undefined || v === null) return fallback;
    const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
    if (typeof n !== "number" || !Number.isFinite(n) || n < min) {
      return this.#fail(key, min > -Infinity ? `a number >= ${min}` : "a number");
    }
    return n;
  }

  /** A string option (a number is taken as its text); undefined when absent. */
  string(key: string): string | undefined {
    const v = this.#raw(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v === "string") return v;
    if (typeof v === "number") return String(v);
    return this.#fail(key, "a string");
  }

  /** A list of strings (a single string counts as a list of one). */
  strings(...keys: string[]): string[] {
    const [key, v] = this.#first(keys);
    if (v === undefined) return [];
    const list = typeof v === "string" ? [v] : v;
    if (!Array.isArray(list)) return this.#fail(key, "a list of strings");
    return list.map((item) => {
      if (typeof item === "string") return item;
      if (typeof item === "number") return String(item);
      return this.#fail(key, "a list of strings");
    });
  }

  /** One regular expression (Go RE2 syntax is close enough to JS for the patterns users write). */
  regex(...keys: string[]): RegExp | undefined {
    const [key, v] = this.#first(keys);
    if (v === undefined || v === "") return undefined;
    if (typeof v !== "string") return this.#fail(key, "a regular expression");
    return compile(v, () => this.#fail(key, "a regular expression"));
  }

  /** A list of strings from init_config only; undefined when none of `keys` is set there. */
  initStrings(...keys: string[]): string[] | undefined {
    for (const key of keys) {
      const v = this.#init[key];
      if (v === undefined || v === null) continue;
      const list = typeof v === "string" ? [v] : v;
      if (!Array.isArray(list) || list.some((x) => typeof x !== "string")) {
        return this.#fail(key, "a list of strings");
      }
      return list as string[];
    }
    return undefined;
  }

  /** Compiles `pattern`, failing with a message that names `key`. */
  compile(key: string, pattern: string): RegExp {
    return compile(pattern, () => this.#fail(key, "a regular expression"));
  }

  /** `device_tag_re`: a map of regular expression → `k:v,k2:v2` tags. */
  deviceTagRe(): Record<string, string> {
    const key = "device_tag_re";
    const v = this.#raw(key);
    if (v === undefined || v === null) return {};
    if (typeof v !== "object" || Array.isArray(v)) return this.#fail(key, "a map of regex to tags");
    const out: Record<string, string> = {};
    for (const [pattern, tags] of Object.entries(v)) {
      if (typeof tags !== "string") return this.#fail(key, "a map of regex to tags");
      compile(pattern, () => this.#fail(key, "a map of regex to tags"));
      out[pattern] = tags;
    }
    return out;
  }

  /** A list of regular expressions (a single string counts as a list of one). */
  regexes(...keys: string[]): RegExp[] {
    const [key] = this.#first(keys);
    return this.strings(...keys).map((p) =>
      compile(p, () => this.#fail(key, "a regular expression"))
    );
  }
}

function compile(pattern: string, fail: () => never): RegExp {
  try {
    return new RegExp(pattern);
  } catch {
    return fail();
  }
}

/** Whether `value` matches one of `patterns` from its start, as Python's `re.match` does. */
export function matchesFromStart(patterns: readonly RegExp[], value: string): boolean {
  return patterns.some((re) => {
    const m = re.exec(value);
    return m !== null && m.index === 0;
  });
}
