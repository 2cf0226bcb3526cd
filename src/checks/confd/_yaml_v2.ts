/**
 * What Go's `gopkg.in/yaml.v2` (v2.4) does to a config, redone so check IDs match the Datadog
 * Agent's: how a plain scalar resolves (to null, bool, int, float, a timestamp kept as a string,
 * or a string), and how `yaml.Marshal` writes a decoded value back (sorted keys, indentless
 * sequences in maps, quoting, literal blocks, folding of long lines at 80 columns).
 *
 * The emitter follows libyaml's scalar analysis and writers. Parity is not guaranteed for:
 * - lone surrogates (Go sees invalid UTF-8 and writes `!!binary` base64);
 * - strings that look like timestamps: checked by shape and date ranges, not by Go's full
 *   `time.Parse` (odd zones may quote differently);
 * - non-ASCII digits inside keys (natural order reads them as 0);
 * - explicit tags other than `!!str`, `!!int`, `!!float`, `!!bool`, `!!null` (kept as strings);
 * - documents that the JS YAML parser and Go's parser disagree on (both reject most bad syntax,
 *   but not always the same way).
 *
 * @module
 */

/** A Go `float64`: kept apart from ints because `1.0` prints `1` but `1e6` prints `1e+06`. */
export class GoFloat {
  constructor(readonly value: number) {}
}

/**
 * A value as yaml.v2 holds it: `bigint` is a Go int, {@linkcode GoFloat} a float64; a JS
 * `number` counts as an int when it is a safe integer, else as a float. Maps may be JS `Map`s
 * (any scalar keys) or plain objects (string keys); `undefined` is null.
 */
export type V2Value =
  | null
  | undefined
  | boolean
  | bigint
  | number
  | GoFloat
  | string
  | V2Value[]
  | Map<V2Value, V2Value>
  | { [key: string]: V2Value };

/** How yaml.v2 resolves a plain scalar. */
export type V2Resolved =
  | { tag: "null"; value: null }
  | { tag: "bool"; value: boolean }
  | { tag: "int"; value: bigint }
  | { tag: "float"; value: number }
  | { tag: "timestamp" | "str"; value: string };

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

const RESOLVE_MAP = new Map<string, V2Resolved>();
for (const s of ["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"]) {
  RESOLVE_MAP.set(s, { tag: "bool", value: true });
}
for (const s of ["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"]) {
  RESOLVE_MAP.set(s, { tag: "bool", value: false });
}
for (const s of ["", "~", "null", "Null", "NULL"]) RESOLVE_MAP.set(s, { tag: "null", value: null });
for (const s of [".nan", ".NaN", ".NAN"]) RESOLVE_MAP.set(s, { tag: "float", value: NaN });
for (const s of [".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"]) {
  RESOLVE_MAP.set(s, { tag: "float", value: Infinity });
}
for (const s of ["-.inf", "-.Inf", "-.INF"]) RESOLVE_MAP.set(s, { tag: "float", value: -Infinity });

const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const BASE60_FLOAT = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;

/** Go `strconv.ParseUint(s, base, 64)` for one base; null on a syntax or range error. */
function parseUintBase(s: string, base: number): bigint | null {
  if (s === "") return null;
  const digits = base === 16
    ? /^[0-9a-fA-F]+$/
    : base === 8
    ? /^[0-7]+$/
    : base === 2
    ? /^[01]+$/
    : /^[0-9]+$/;
  if (!digits.test(s)) return null;
  const prefix = base === 16 ? "0x" : base === 8 ? "0o" : base === 2 ? "0b" : "";
  const v = BigInt(prefix + s);
  return v > UINT64_MAX ? null : v;
}

/** Go `strconv.ParseUint(s, 0, 64)`: `0x`, `0o`, `0b` and a leading `0` (octal) prefixes. */
function parseUint0(s: string): bigint | null {
  if (s === "") return null;
  if (s[0] === "0") {
    const p = s[1]?.toLowerCase();
    if (s.length >= 3 && p === "b") return parseUintBase(s.slice(2), 2);
    if (s.length >= 3 && p === "o") return parseUintBase(s.slice(2), 8);
    if (s.length >= 3 && p === "x") return parseUintBase(s.slice(2), 16);
    return s.length === 1 ? 0n : parseUintBase(s.slice(1), 8);
  }
  return parseUintBase(s, 10);
}

/** Go `strconv.ParseInt(s, 0, 64)`; null on a syntax or range error. */
export function goParseInt(s: string): bigint | null {
  let neg = false;
  let rest = s;
  if (s[0] === "+" || s[0] === "-") {
    neg = s[0] === "-";
    rest = s.slice(1);
  }
  const u = parseUint0(rest);
  if (u === null) return null;
  const v = neg ? -u : u;
  return v < INT64_MIN || v > INT64_MAX ? null : v;
}

/** Go `strconv.ParseFloat` for the decimal forms yaml.v2 lets through; null when out of range. */
function parseFloat64(s: string): number | null {
  const v = Number(s);
  return Number.isFinite(v) ? v : null;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const TS_DATE = /^(\d{4})-(\d{1,2})-(\d{1,2})$/;
const TS_ZONED =
  /^(\d{4})-(\d{1,2})-(\d{1,2})[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const TS_SPACED = /^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?$/;

/** yaml.v2's timestamp forms (`2006-1-2`, with `T`/`t` and a zone, or a space and no zone). */
function isTimestamp(s: string): boolean {
  const m = TS_DATE.exec(s) ?? TS_ZONED.exec(s) ?? TS_SPACED.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo)) return false;
  if (m[4] === undefined) return true;
  return Number(m[4]) < 24 && Number(m[5]) < 60 && Number(m[6]) < 60;
}

/**
 * Resolves an untagged plain scalar as yaml.v2 does (YAML 1.1 booleans such as `yes` and `off`,
 * `~`, `0x1F`, `0755` octal, `1_000`, `.inf`; timestamps stay strings when decoded).
 */
export function resolvePlain(s: string): V2Resolved {
  const c = s[0];
  const hint = s === ""
    ? "N"
    : c === "+" || c === "-"
    ? "S"
    : c >= "0" && c <= "9"
    ? "D"
    : "yYnNtTfFoO~".includes(c)
    ? "M"
    : c === "."
    ? "."
    : "";
  if (hint === "") return { tag: "str", value: s };
  const known = RESOLVE_MAP.get(s);
  if (known) return known;
  if (hint === ".") {
    if (/^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(s)) {
      const f = parseFloat64(s);
      if (f !== null) return { tag: "float", value: f };
    }
  } else if (hint === "D" || hint === "S") {
    if (isTimestamp(s)) return { tag: "timestamp", value: s };
    const plain = s.replaceAll("_", "");
    const i = goParseInt(plain);
    if (i !== null) return { tag: "int", value: i };
    const u = parseUint0(plain);
    if (u !== null) return { tag: "int", value: u };
    if (YAML_STYLE_FLOAT.test(plain)) {
      const f = parseFloat64(plain);
      if (f !== null) return { tag: "float", value: f };
    }
    if (plain.startsWith("-0b")) {
      const b = parseUintBase(plain.slice(3), 2);
      if (b !== null && -b >= INT64_MIN) return { tag: "int", value: -b };
    }
  }
  return { tag: "str", value: s };
}

/**
 * A float64 as Go's `strconv.FormatFloat(f, 'g', -1, 64)` prints it (`1`, `1.5`, `1e+06`,
 * `1e-05`), with yaml.v2's `.inf`, `-.inf` and `.nan`.
 */
export function formatGoFloat(f: number): string {
  if (Number.isNaN(f)) return ".nan";
  if (f === Infinity) return ".inf";
  if (f === -Infinity) return "-.inf";
  if (f === 0) return Object.is(f, -0) ? "-0" : "0";
  const neg = f < 0;
  // toExponential() without an argument gives the shortest digits that round-trip, as Go does.
  const [mant, e] = Math.abs(f).toExponential().split("e");
  const digits = mant.replace(".", "");
  const exp = Number(e);
  let out: string;
  // strconv.FormatFloat(f, 'g', -1, 64) switches to an exponent outside [-4, 6).
  if (exp < -4 || exp >= 6) {
    const frac = digits.length > 1 ? "." + digits.slice(1) : "";
    const x = Math.abs(exp);
    out = `${digits[0]}${frac}e${exp < 0 ? "-" : "+"}${x < 10 ? "0" : ""}${x}`;
  } else if (exp < 0) {
    out = "0." + "0".repeat(-exp - 1) + digits;
  } else if (digits.length <= exp + 1) {
    out = digits + "0".repeat(exp + 1 - digits.length);
  } else {
    out = digits.slice(0, exp + 1) + "." + digits.slice(exp + 1);
  }
  return neg ? "-" + out : out;
}

// ---------------------------------------------------------------------------------------------
// Value classification (Go kinds, for key order and printing)

type Scalar =
  | { kind: "null" }
  | { kind: "bool"; v: boolean }
  | { kind: "int"; v: bigint }
  | { kind: "float"; v: number }
  | { kind: "str"; v: string };

/** reflect.Kind numbers, which order keys of different kinds. */
const KIND_ORDER = { bool: 1, int: 2, uint: 11, float: 14, null: 20, str: 24 } as const;

function scalarOf(v: V2Value): Scalar | null {
  if (v === null || v === undefined) return { kind: "null" };
  if (typeof v === "boolean") return { kind: "bool", v };
  if (typeof v === "bigint") return { kind: "int", v };
  if (typeof v === "number") {
    return Number.isSafeInteger(v) && !Object.is(v, -0)
      ? { kind: "int", v: BigInt(v) }
      : { kind: "float", v };
  }
  if (v instanceof GoFloat) return { kind: "float", v: v.value };
  if (typeof v === "string") return { kind: "str", v };
  return null;
}

function kindRank(s: Scalar): number {
  if (s.kind === "int") return s.v > INT64_MAX ? KIND_ORDER.uint : KIND_ORDER.int;
  return KIND_ORDER[s.kind];
}

function keyFloat(s: Scalar): number | null {
  if (s.kind === "int") return Number(s.v);
  if (s.kind === "float") return s.v;
  if (s.kind === "bool") return s.v ? 1 : 0;
  return null;
}

const isLetter = (c: string) => /\p{L}/u.test(c);
const isDigit = (c: string) => /\p{Nd}/u.test(c);

/** yaml.v2's `keyList.Less`: numbers by value, then kinds, then strings in natural order. */
function keyLess(a: Scalar, b: Scalar): boolean {
  const af = keyFloat(a);
  const bf = keyFloat(b);
  const ak = kindRank(a);
  const bk = kindRank(b);
  if (af !== null && bf !== null) {
    if (af !== bf) return af < bf;
    if (ak !== bk) return ak < bk;
    if (a.kind === "bool" && b.kind === "bool") return !a.v && b.v;
    return (a as { v: bigint | number }).v < (b as { v: bigint | number }).v;
  }
  if (a.kind !== "str" || b.kind !== "str") return ak < bk;
  const ar = Array.from(a.v);
  const br = Array.from(b.v);
  for (let i = 0; i < ar.length && i < br.length; i++) {
    if (ar[i] === br[i]) continue;
    const al = isLetter(ar[i]);
    const bl = isLetter(br[i]);
    if (al && bl) return ar[i].codePointAt(0)! < br[i].codePointAt(0)!;
    if (al || bl) return bl;
    let an = 0n;
    let bn = 0n;
    if (ar[i] === "0" || br[i] === "0") {
      for (let j = i - 1; j >= 0 && isDigit(ar[j]); j--) {
        if (ar[j] !== "0") {
          an = 1n;
          bn = 1n;
          break;
        }
      }
    }
    let ai = i;
    for (; ai < ar.length && isDigit(ar[ai]); ai++) an = an * 10n + BigInt(Number(ar[ai]) || 0);
    let bi = i;
    for (; bi < br.length && isDigit(br[bi]); bi++) bn = bn * 10n + BigInt(Number(br[bi]) || 0);
    if (an !== bn) return an < bn;
    if (ai !== bi) return ai < bi;
    return ar[i].codePointAt(0)! < br[i].codePointAt(0)!;
  }
  return ar.length < br.length;
}

function entriesOf(v: Map<V2Value, V2Value> | { [key: string]: V2Value }): [Scalar, V2Value][] {
  const raw: [V2Value, V2Value][] = v instanceof Map ? [...v] : Object.entries(v);
  const out = raw.map(([k, val]): [Scalar, V2Value] => {
    const s = scalarOf(k);
    if (!s) throw new TypeError("Cannot emit YAML: map keys must be scalars");
    return [s, val];
  });
  return out.sort((x, y) => keyLess(x[0], y[0]) ? -1 : keyLess(y[0], x[0]) ? 1 : 0);
}

// ---------------------------------------------------------------------------------------------
// The emitter: libyaml's state, reduced to the block styles yaml.Marshal produces

const BEST_INDENT = 2;
const BEST_WIDTH = 80;

const isBreak = (c: string | undefined) =>
  c === "\r" || c === "\n" || c === "\u0085" || c === "\u2028" || c === "\u2029";
const isSpace = (c: string | undefined) => c === " ";
const isBlank = (c: string | undefined) => c === " " || c === "\t";
const isBlankz = (c: string | undefined) => isBlank(c) || isBreak(c) || c === "\0";

function isPrintable(c: string): boolean {
  const cp = c.codePointAt(0)!;
  return cp === 0x0a || (cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd && cp !== 0xfeff);
}

interface Analysis {
  multiline: boolean;
  flowPlain: boolean;
  blockPlain: boolean;
  singleQuoted: boolean;
  block: boolean;
}

/** libyaml's `yaml_emitter_analyze_scalar`: which styles can hold this text. */
function analyze(value: string[]): Analysis {
  if (value.length === 0) {
    return {
      multiline: false,
      flowPlain: false,
      blockPlain: true,
      singleQuoted: true,
      block: false,
    };
  }
  let blockInd = false;
  let flowInd = false;
  let lineBreaks = false;
  let special = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  let prevSpace = false;
  let prevBreak = false;
  const head = value.slice(0, 3).join("");
  if (head === "---" || head === "...") blockInd = flowInd = true;
  let precededByWs = true;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    const followedByWs = i + 1 >= value.length || isBlank(value[i + 1]);
    if (i === 0) {
      if ("#,[]{}&*!|>'\"%@`".includes(c)) {
        flowInd = blockInd = true;
      } else if (c === "?" || c === ":") {
        flowInd = true;
        if (followedByWs) blockInd = true;
      } else if (c === "-" && followedByWs) {
        flowInd = blockInd = true;
      }
    } else {
      if (",?[]{}".includes(c)) {
        flowInd = true;
      } else if (c === ":") {
        flowInd = true;
        if (followedByWs) blockInd = true;
      } else if (c === "#" && precededByWs) {
        flowInd = blockInd = true;
      }
    }
    if (!isPrintable(c)) special = true;
    if (isSpace(c)) {
      if (i === 0) leadingSpace = true;
      if (i === value.length - 1) trailingSpace = true;
      if (prevBreak) breakSpace = true;
      prevSpace = true;
      prevBreak = false;
    } else if (isBreak(c)) {
      lineBreaks = true;
      if (i === 0) leadingBreak = true;
      if (i === value.length - 1) trailingBreak = true;
      if (prevSpace) spaceBreak = true;
      prevSpace = false;
      prevBreak = true;
    } else {
      prevSpace = prevBreak = false;
    }
    precededByWs = isBlankz(c);
  }
  const a: Analysis = {
    multiline: lineBreaks,
    flowPlain: true,
    blockPlain: true,
    singleQuoted: true,
    block: true,
  };
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) {
    a.flowPlain = a.blockPlain = false;
  }
  if (trailingSpace) a.block = false;
  if (breakSpace) a.flowPlain = a.blockPlain = a.singleQuoted = false;
  if (spaceBreak || special) {
    a.flowPlain =
      a.blockPlain =
      a.singleQuoted =
      a.block =
        false;
  }
  if (lineBreaks) a.flowPlain = a.blockPlain = false;
  if (flowInd) a.flowPlain = false;
  if (blockInd) a.blockPlain = false;
  return a;
}

type Style = "plain" | "single" | "double" | "literal";

interface Context {
  mapping?: boolean;
  simpleKey?: boolean;
}

class Emitter {
  out = "";
  #column = 0;
  #indent = -1;
  #indents: number[] = [];
  #whitespace = true;
  #indention = true;
  #mappingContext = false;

  #put(c: string): void {
    this.out += c;
    this.#column++;
  }

  #putBreak(): void {
    this.out += "\n";
    this.#column = 0;
  }

  #writeBreak(c: string): void {
    if (c === "\n") {
      this.#putBreak();
    } else {
      this.out += c;
      this.#column = 0;
    }
  }

  writeIndent(): void {
    const indent = Math.max(this.#indent, 0);
    if (
      !this.#indention || this.#column > indent || (this.#column === indent && !this.#whitespace)
    ) this.#putBreak();
    while (this.#column < indent) this.#put(" ");
    this.#whitespace = true;
    this.#indention = true;
  }

  #indicator(text: string, needWs: boolean, isWs: boolean, isIndention: boolean): void {
    if (needWs && !this.#whitespace) this.#put(" ");
    for (const c of text) this.#put(c);
    this.#whitespace = isWs;
    this.#indention = this.#indention && isIndention;
  }

  #increaseIndent(flow: boolean, indentless: boolean): void {
    this.#indents.push(this.#indent);
    if (this.#indent < 0) this.#indent = flow ? BEST_INDENT : 0;
    else if (!indentless) this.#indent += BEST_INDENT;
  }

  #popIndent(): void {
    this.#indent = this.#indents.pop()!;
  }

  node(v: V2Value, ctx: Context): void {
    this.#mappingContext = ctx.mapping ?? false;
    const s = scalarOf(v);
    if (s) return this.#scalar(s, ctx);
    if (Array.isArray(v)) return this.#sequence(v);
    return this.#mapping(v as Map<V2Value, V2Value>);
  }

  #sequence(items: V2Value[]): void {
    if (items.length === 0) {
      this.#indicator("[", true, true, false);
      this.#indicator("]", false, false, false);
      return;
    }
    this.#increaseIndent(false, this.#mappingContext && !this.#indention);
    for (const item of items) {
      this.writeIndent();
      this.#indicator("-", true, false, true);
      this.node(item, {});
    }
    this.#popIndent();
  }

  #mapping(m: Map<V2Value, V2Value> | { [key: string]: V2Value }): void {
    const entries = entriesOf(m);
    if (entries.length === 0) {
      this.#indicator("{", true, true, false);
      this.#indicator("}", false, false, false);
      return;
    }
    this.#increaseIndent(false, false);
    for (const [k, val] of entries) {
      this.writeIndent();
      const text = Array.from(scalarText(k));
      const simple = !analyze(text).multiline &&
        new TextEncoder().encode(text.join("")).length <= 128;
      if (simple) {
        this.#scalar(k, { mapping: true, simpleKey: true });
        this.#indicator(":", false, false, false);
      } else {
        this.#indicator("?", true, false, true);
        this.#scalar(k, { mapping: true });
        this.writeIndent();
        this.#indicator(":", true, false, true);
      }
      this.node(val, { mapping: true });
    }
    this.#popIndent();
  }

  #scalar(s: Scalar, ctx: Context): void {
    const value = Array.from(scalarText(s));
    const a = analyze(value);
    let style: Style = "plain";
    if (s.kind === "str") {
      const plainOk = resolvePlain(s.v).tag === "str" && !BASE60_FLOAT.test(s.v);
      style = s.v.includes("\n") ? "literal" : plainOk ? "plain" : "double";
    }
    // yaml_emitter_select_scalar_style, for block context (flow only ever holds nothing here).
    if (ctx.simpleKey && a.multiline) style = "double";
    if (style === "plain") {
      if (!a.blockPlain) style = "single";
      if (value.length === 0 && ctx.simpleKey) style = "single";
    }
    if (style === "single" && !a.singleQuoted) style = "double";
    if (style === "literal" && (!a.block || ctx.simpleKey)) style = "double";

    this.#increaseIndent(true, false);
    const allowBreaks = !ctx.simpleKey;
    if (style === "plain") this.#plain(value, allowBreaks);
    else if (style === "single") this.#single(value, allowBreaks);
    else if (style === "double") this.#double(value, allowBreaks);
    else this.#literal(value);
    this.#popIndent();
  }

  #plain(value: string[], allowBreaks: boolean): void {
    if (!this.#whitespace) this.#put(" ");
    let spaces = false;
    let breaks = false;
    for (let i = 0; i < value.length; i++) {
      const c = value[i];
      if (isSpace(c)) {
        if (allowBreaks && !spaces && this.#column > BEST_WIDTH && !isSpace(value[i + 1])) {
          this.writeIndent();
        } else {
          this.#put(c);
        }
        spaces = true;
      } else if (isBreak(c)) {
        if (!breaks && c === "\n") this.#putBreak();
        this.#writeBreak(c);
        this.#indention = true;
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        this.#put(c);
        this.#indention = false;
        spaces = breaks = false;
      }
    }
    this.#whitespace = false;
    this.#indention = false;
  }

  #single(value: string[], allowBreaks: boolean): void {
    this.#indicator("'", true, false, false);
    let spaces = false;
    let breaks = false;
    for (let i = 0; i < value.length; i++) {
      const c = value[i];
      if (isSpace(c)) {
        if (
          allowBreaks && !spaces && this.#column > BEST_WIDTH && i > 0 && i < value.length - 1 &&
          !isSpace(value[i + 1])
        ) {
          this.writeIndent();
        } else {
          this.#put(c);
        }
        spaces = true;
      } else if (isBreak(c)) {
        if (!breaks && c === "\n") this.#putBreak();
        this.#writeBreak(c);
        this.#indention = true;
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        if (c === "'") this.#put("'");
        this.#put(c);
        this.#indention = false;
        spaces = breaks = false;
      }
    }
    this.#indicator("'", false, false, false);
    this.#whitespace = false;
    this.#indention = false;
  }

  #double(value: string[], allowBreaks: boolean): void {
    this.#indicator('"', true, false, false);
    let spaces = false;
    for (let i = 0; i < value.length; i++) {
      const c = value[i];
      const cp = c.codePointAt(0)!;
      if (!isPrintable(c) || cp === 0xfeff || isBreak(c) || c === '"' || c === "\\") {
        this.#put("\\");
        const short = DOUBLE_ESCAPES.get(cp);
        if (short) {
          this.#put(short);
        } else {
          const [p, w] = cp <= 0xff ? ["x", 2] : cp <= 0xffff ? ["u", 4] : ["U", 8];
          this.#put(p);
          for (const d of cp.toString(16).toUpperCase().padStart(w, "0")) this.#put(d);
        }
        spaces = false;
      } else if (isSpace(c)) {
        if (allowBreaks && !spaces && this.#column > BEST_WIDTH && i > 0 && i < value.length - 1) {
          this.writeIndent();
          if (isSpace(value[i + 1])) this.#put("\\");
        } else {
          this.#put(c);
        }
        spaces = true;
      } else {
        this.#put(c);
        spaces = false;
      }
    }
    this.#indicator('"', false, false, false);
    this.#whitespace = false;
    this.#indention = false;
  }

  #literal(value: string[]): void {
    this.#indicator("|", true, false, false);
    if (isSpace(value[0]) || isBreak(value[0])) {
      this.#indicator(String(BEST_INDENT), false, false, false);
    }
    const last = value.length - 1;
    let chomp = "";
    if (!isBreak(value[last])) chomp = "-";
    else if (last === 0 || isBreak(value[last - 1])) chomp = "+";
    if (chomp) this.#indicator(chomp, false, false, false);
    this.#putBreak();
    this.#indention = true;
    this.#whitespace = true;
    let breaks = true;
    for (const c of value) {
      if (isBreak(c)) {
        this.#writeBreak(c);
        this.#indention = true;
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        this.#put(c);
        this.#indention = false;
        breaks = false;
      }
    }
  }
}

const DOUBLE_ESCAPES = new Map<number, string>([
  [0x00, "0"],
  [0x07, "a"],
  [0x08, "b"],
  [0x09, "t"],
  [0x0a, "n"],
  [0x0b, "v"],
  [0x0c, "f"],
  [0x0d, "r"],
  [0x1b, "e"],
  [0x22, '"'],
  [0x5c, "\\"],
  [0x85, "N"],
  [0xa0, "_"],
  [0x2028, "L"],
  [0x2029, "P"],
]);

function scalarText(s: Scalar): string {
  switch (s.kind) {
    case "null":
      return "null";
    case "bool":
      return s.v ? "true" : "false";
    case "int":
      return s.v.toString();
    case "float":
      return formatGoFloat(s.v);
    case "str":
      return s.v;
  }
}

/**
 * Serializes `value` as Go's `yaml.Marshal` (gopkg.in/yaml.v2) does, byte for byte in the cases
 * the module notes do not exclude.
 *
 * @example An instance as the Datadog Agent hashes it
 * ```ts
 * import { emitYamlV2 } from "./_yaml_v2.ts";
 * const text = emitYamlV2({ port: 8080, host: "localhost", tags: ["env:prod"], flag: "yes" });
 * console.log(text); // "flag: \"yes\"\nhost: localhost\nport: 8080\ntags:\n- env:prod\n"
 * ```
 */
export function emitYamlV2(value: V2Value): string {
  const e = new Emitter();
  e.node(value, {});
  e.writeIndent();
  return e.out;
}

/** The text a scalar has in yaml.v2 output before quoting (`null`, `true`, `1e+06`, …). */
export function scalarString(v: V2Value): string | null {
  const s = scalarOf(v);
  return s ? scalarText(s) : null;
}
