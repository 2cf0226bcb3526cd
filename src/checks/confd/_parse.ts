/**
 * YAML text → the values Go's yaml.v2 would decode into `interface{}`: plain scalars resolved
 * by {@linkcode resolvePlain}, ints as `bigint`, floats as {@linkcode GoFloat}, maps as `Map`s
 * with scalar keys (last duplicate wins), `<<` merge keys applied, aliases expanded.
 *
 * @module
 */
import { type Document, isAlias, isMap, isScalar, isSeq, type Node, parseAllDocuments } from "yaml";
import { GoFloat, resolvePlain, scalarString, type V2Value } from "./_yaml_v2.ts";

/** Deepest nesting accepted; deeper (or a self-referencing alias) is an error. */
const MAX_DEPTH = 100;

/** The first document of `text` as yaml.v2 decodes it; throws an Error naming line and column. */
export function parseV2(text: string): V2Value {
  const docs = parseAllDocuments(text, {
    schema: "failsafe",
    uniqueKeys: false,
    merge: false,
    prettyErrors: true,
  });
  const list = Array.isArray(docs) ? docs : [docs];
  const doc = list[0] as Document.Parsed | undefined;
  if (!doc) return null;
  const err = doc.errors[0];
  if (err) {
    // The library appends a source excerpt after the first line; keep "… at line L, column C".
    throw new Error(err.message.split("\n")[0].replace(/:$/, ""));
  }
  return toValue(doc, doc.contents as Node | null, 0);
}

function toValue(doc: Document.Parsed, node: Node | null | undefined, depth: number): V2Value {
  if (depth > MAX_DEPTH) throw new Error(`YAML nests deeper than ${MAX_DEPTH} levels`);
  if (node === null || node === undefined) return null;
  if (isAlias(node)) {
    const target = node.resolve(doc) as Node | undefined;
    if (!target) throw new Error(`Unknown anchor "${node.source}" referenced`);
    return toValue(doc, target, depth + 1);
  }
  if (isScalar(node)) return scalar(node.value, node.type, node.tag);
  if (isSeq(node)) return node.items.map((n) => toValue(doc, n as Node, depth + 1));
  if (isMap(node)) {
    const out = new Map<V2Value, V2Value>();
    const index = new Map<string, V2Value>();
    const set = (k: V2Value, v: V2Value) => {
      const id = keyId(k);
      if (index.has(id)) out.delete(index.get(id));
      index.set(id, k);
      out.set(k, v);
    };
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      if (isScalar(keyNode) && keyNode.type === "PLAIN" && !keyNode.tag && keyNode.value === "<<") {
        merge(doc, pair.value as Node | null, depth, set);
        continue;
      }
      const k = toValue(doc, keyNode, depth + 1);
      if (k instanceof Map || Array.isArray(k)) {
        throw new Error("Invalid map key: keys must be scalars, not maps or lists");
      }
      set(k, toValue(doc, pair.value as Node | null, depth + 1));
    }
    return out;
  }
  return null;
}

/** yaml.v2 merges a map, or a list of maps with the first one winning. */
function merge(
  doc: Document.Parsed,
  node: Node | null,
  depth: number,
  set: (k: V2Value, v: V2Value) => void,
): void {
  const resolved = isAlias(node) ? node.resolve(doc) as Node | undefined : node;
  const maps = isSeq(resolved) ? [...resolved.items].reverse() as Node[] : [resolved];
  for (const m of maps) {
    const v = toValue(doc, m, depth + 1);
    if (!(v instanceof Map)) {
      throw new Error("A map merge (<<) needs a map or a list of maps as its value");
    }
    for (const [k, val] of v) set(k, val);
  }
}

function scalar(value: unknown, type: string | undefined, tag: string | undefined): V2Value {
  const text = String(value ?? "");
  if (type !== "PLAIN") return text;
  const short = tag?.replace("tag:yaml.org,2002:", "!!");
  if (short === "!!str") return text;
  if (short !== undefined && !["!!int", "!!float", "!!bool", "!!null"].includes(short)) return text;
  const r = resolvePlain(text);
  if (short === "!!float" && r.tag === "int") return new GoFloat(Number(r.value));
  if (short !== undefined && `!!${r.tag}` !== short) {
    throw new Error(`Cannot decode ${JSON.stringify(text)} as ${short}`);
  }
  switch (r.tag) {
    case "float":
      return new GoFloat(r.value);
    default:
      return r.value;
  }
}

/** Identity of a key as a Go map sees it (int 1 and float 1 are different keys). */
function keyId(k: V2Value): string {
  const kind = k instanceof GoFloat ? "f" : typeof k;
  return `${kind}:${scalarString(k)}`;
}

/**
 * A decoded value as checks see it: plain objects with string keys, numbers (ints beyond
 * 2^53 lose precision), booleans, strings, arrays, null.
 */
export function toPlain(v: V2Value): unknown {
  if (v instanceof GoFloat) return v.value;
  if (typeof v === "bigint") return Number(v);
  if (Array.isArray(v)) return v.map(toPlain);
  if (v instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, val] of v) out[typeof k === "string" ? k : scalarString(k) ?? ""] = toPlain(val);
    return out;
  }
  return v ?? null;
}
