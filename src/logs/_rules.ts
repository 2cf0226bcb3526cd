/**
 * Processing rules: Go RE2 patterns turned into JS regexes once, at load, and the Go replacement
 * template of `mask_sequences` turned into a function with Go's semantics.
 *
 * @module
 */
import type { ProcessingRule } from "./_message.ts";

/** What a rule looks like in YAML, its shape already checked by the schema. */
export interface RawRule {
  type: ProcessingRule["type"];
  name: string;
  pattern: string;
  replace_placeholder: string;
}

/** Constructs RE2 lacks; accepting them would let a pattern mean something else (or backtrack). */
const NOT_RE2: Array<[RegExp, string]> = [
  [/\(\?<?[=!]/, "look-arounds ((?=, (?!, (?<=, (?<!)"],
  [/\\[1-9]/, "back-references (\\1 …)"],
];

/**
 * Compiles one rule; throws an `Error` whose message says what is wrong with the pattern (the
 * caller prefixes the source and the rule's index and name).
 */
export function compileRule(raw: RawRule): ProcessingRule {
  for (const [re, what] of NOT_RE2) {
    if (re.test(raw.pattern)) {
      throw new Error(`pattern ${JSON.stringify(raw.pattern)} uses ${what}, which RE2 lacks`);
    }
  }
  let source = raw.pattern.replace(/\(\?P</g, "(?<");
  let flags = "";
  // Go's leading inline flags; JS only takes them as regex flags.
  const inline = /^\(\?([imsU]+)\)/.exec(source);
  if (inline) {
    if (inline[1].includes("U")) throw new Error("the (?U) flag is not supported");
    flags = inline[1];
    source = source.slice(inline[0].length);
  }
  if (raw.type === "multi_line") source = `^(?:${source})`;
  if (raw.type === "mask_sequences") flags += "g";
  const regex = build(source, flags, raw.pattern);
  return {
    type: raw.type,
    name: raw.name,
    regex,
    replace: goReplacer(raw.type === "mask_sequences" ? raw.replace_placeholder : ""),
  };
}

/** `u` first (as the spec asks); Go accepts escapes of any punctuation, which `u` refuses. */
function build(source: string, flags: string, pattern: string): RegExp {
  try {
    return new RegExp(source, flags + "u");
  } catch {
    try {
      return new RegExp(source, flags);
    } catch (e) {
      throw new Error(
        `pattern ${JSON.stringify(pattern)} does not compile: ${(e as Error).message}`,
      );
    }
  }
}

/**
 * A replacer implementing Go's `Regexp.ReplaceAllString` template: `$1`, `${1}`, `$name`,
 * `${name}`, `$$`. A name is the longest run of letters, digits and `_` (so `$1x` is group
 * `1x`); an unknown group expands to nothing.
 */
export function goReplacer(template: string): (match: string, ...args: unknown[]) => string {
  if (!template.includes("$")) return () => template;
  const parts: Array<string | { group: string }> = [];
  const re = /\$(?:\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g;
  let last = 0;
  for (let m = re.exec(template); m !== null; m = re.exec(template)) {
    parts.push(template.slice(last, m.index));
    if (m[0] === "$$") parts.push("$");
    else parts.push({ group: m[1] ?? m[2] });
    last = re.lastIndex;
  }
  parts.push(template.slice(last));
  return (match: string, ...args: unknown[]) => {
    // args: p1..pn, offset, whole string, [named groups object]
    const named = typeof args.at(-1) === "object" ? args.at(-1) as Record<string, string> : {};
    const groups = args.slice(0, args.findIndex((a) => typeof a === "number"));
    let out = "";
    for (const p of parts) {
      if (typeof p === "string") out += p;
      else if (/^\d+$/.test(p.group)) {
        const i = Number(p.group);
        out += i === 0 ? match : (groups[i - 1] as string | undefined) ?? "";
      } else out += named?.[p.group] ?? "";
    }
    return out;
  };
}
