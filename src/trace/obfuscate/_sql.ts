/**
 * The SQL obfuscator of the Datadog Agent's default ("legacy") mode, ported in behaviour: a
 * tokenizer that knows just enough SQL, then filters that drop comments and `AS` aliases,
 * replace literals with `?`, and collapse groups such as `IN (?, ?, ?)` into `( ? )`. Tokens
 * are joined by single spaces, except before a comma (and `=` after `:`).
 */

/** Options of one obfuscation, as the Agent's `SQLConfig` names them in JSON. */
export interface SqlOptions {
  /** `postgresql` and `mssql` change a few tokens; anything else is generic SQL. */
  dbms?: string;
  /** Collect the tables read or written into `metadata.tablesCSV`. */
  tableNames?: boolean;
  collectCommands?: boolean;
  collectComments?: boolean;
  /** Replace digits in table and column names with `?`. */
  replaceDigits?: boolean;
  keepSqlAlias?: boolean;
  /** Obfuscate the query inside `$func$…$func$` instead of replacing it with `?`. */
  dollarQuotedFunc?: boolean;
}

/** What was found in a query besides its obfuscated text. */
export interface SqlMetadata {
  size: number;
  tablesCSV: string;
  commands: string[];
  comments: string[];
  procedures: string[];
}

/** An obfuscated query. */
export interface ObfuscatedSql {
  query: string;
  metadata: SqlMetadata;
}

/** A query the tokenizer could not read (unterminated string or comment, stray byte). */
export class SqlObfuscationError extends Error {
  override name = "SqlObfuscationError";
}

// Token kinds: a single character is its own code; named kinds are above every code point.
const K = 0x110000;
const LEX_ERROR = K + 1,
  ID = K + 2,
  LIMIT = K + 3,
  NULL = K + 4,
  STRING = K + 5,
  DQ_STRING = K + 6,
  DOLLAR_STRING = K + 7,
  DOLLAR_FUNC = K + 8,
  NUMBER = K + 9,
  BOOLEAN = K + 10,
  VALUE_ARG = K + 11,
  COMMENT = K + 13,
  VARIABLE = K + 14,
  SAVEPOINT = K + 15,
  PREPARED = K + 16,
  ESCAPE_SEQ = K + 17,
  NULL_SAFE_EQ = K + 18,
  LE = K + 19,
  GE = K + 20,
  NE = K + 21,
  NOT = K + 22,
  AS = K + 23,
  ALTER = K + 24,
  DROP = K + 25,
  CREATE = K + 26,
  GRANT = K + 27,
  REVOKE = K + 28,
  COMMIT = K + 29,
  BEGIN = K + 30,
  TRUNCATE = K + 31,
  SELECT = K + 32,
  FROM = K + 33,
  UPDATE = K + 34,
  DELETE = K + 35,
  INSERT = K + 36,
  INTO = K + 37,
  JOIN = K + 38,
  TABLE_NAME = K + 39,
  COLON_CAST = K + 40,
  JSON_OP = K + 41,
  FILTERED_GROUPABLE = K + 42,
  FILTERED_GROUPABLE_PAREN = K + 43,
  FILTERED = K + 44,
  FILTERED_BRACKETED = K + 45,
  END = K + 46;

const KEYWORDS: Record<string, number> = {
  NULL,
  TRUE: BOOLEAN,
  FALSE: BOOLEAN,
  SAVEPOINT,
  LIMIT,
  AS,
  ALTER,
  CREATE,
  GRANT,
  REVOKE,
  COMMIT,
  BEGIN,
  TRUNCATE,
  DROP,
  SELECT,
  FROM,
  UPDATE,
  DELETE,
  INSERT,
  INTO,
  JOIN,
};

/** Keyword kinds that count as commands, with the name reported. */
const COMMANDS = new Map<number, string>([
  [SELECT, "SELECT"],
  [UPDATE, "UPDATE"],
  [INSERT, "INSERT"],
  [DELETE, "DELETE"],
  [JOIN, "JOIN"],
  [ALTER, "ALTER"],
  [DROP, "DROP"],
  [CREATE, "CREATE"],
  [GRANT, "GRANT"],
  [REVOKE, "REVOKE"],
  [COMMIT, "COMMIT"],
  [BEGIN, "BEGIN"],
  [TRUNCATE, "TRUNCATE"],
]);

const NON_ASCII_LETTER = /\p{L}/u;
const NON_ASCII_SPACE = /\s/u;

function isAsciiLetter(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}
function isUnicodeLetter(ch: string, c: number): boolean {
  return isAsciiLetter(c) || (c >= 0x80 && NON_ASCII_LETTER.test(ch));
}
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
function isSpace(ch: string, c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) ||
    (c >= 0x80 && (c === 0x85 || NON_ASCII_SPACE.test(ch)));
}
function digitVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return 16;
}

/** Reads one query token by token. */
class Tokenizer {
  readonly #s: string;
  #i = 0;
  #curlys = 0;
  readonly #escapes: boolean;
  readonly #opts: SqlOptions;
  /** A backslash was seen inside a string: reading it the other way may succeed. */
  seenEscape = false;
  error = "";
  text = "";

  constructor(s: string, literalEscapes: boolean, opts: SqlOptions) {
    this.#s = s;
    this.#escapes = !literalEscapes;
    this.#opts = opts;
  }

  #code(i: number): number {
    return i < this.#s.length ? this.#s.charCodeAt(i) : -1;
  }
  #isLeadingLetter(i: number): boolean {
    const c = this.#code(i);
    if (c === 0x5f || c === 0x40) return true;
    return c >= 0 && isUnicodeLetter(this.#s[i], c);
  }
  #isLetter(i: number): boolean {
    return this.#code(i) === 0x23 || this.#isLeadingLetter(i);
  }

  #fail(message: string): number {
    if (!this.error) this.error = `at position ${this.#i}: ${message}`;
    return LEX_ERROR;
  }

  /** The next token's kind; its text is in `text`. */
  scan(): number {
    const s = this.#s;
    while (this.#i < s.length && isSpace(s[this.#i], s.charCodeAt(this.#i))) this.#i++;
    const start = this.#i;
    if (start >= s.length) return END;
    const c = s.charCodeAt(start);
    const postgres = this.#opts.dbms === "postgresql";
    if (this.#isLeadingLetter(start) && !(postgres && c === 0x40)) return this.#identifier(start);
    if (isDigit(c)) return this.#number(start, false);
    this.#i++;
    const next = this.#code(this.#i);
    const single = (kind: number) => {
      this.text = s.slice(start, this.#i);
      return kind;
    };
    const take = (n: number, kind: number) => {
      this.#i += n;
      return single(kind);
    };
    switch (c) {
      case 0x3a: // :
        if (next === 0x3a) return take(1, COLON_CAST);
        if (next >= 0 && isSpace(s[this.#i], next)) return single(c);
        if (next !== 0x3d) return this.#bindVar(start);
        return single(c);
      case 0x7e: // ~
        return next === 0x2a ? take(1, c) : single(c);
      case 0x3f: // ?
        if (postgres) return next === 0x7c || next === 0x26 ? take(1, JSON_OP) : single(JSON_OP);
        return single(c);
      case 0x3d:
      case 0x2c:
      case 0x3b:
      case 0x28:
      case 0x29:
      case 0x2b:
      case 0x2a:
      case 0x26:
      case 0x7c:
      case 0x5e:
      case 0x5b:
      case 0x5d:
        return single(c);
      case 0x2e: // .
        return isDigit(next) ? this.#number(start, true, this.#i) : single(c);
      case 0x2f: // /
        if (next === 0x2f) return this.#lineComment(start);
        if (next === 0x2a) return this.#blockComment(start);
        return single(c);
      case 0x2d: // -
        if (next === 0x2d) return this.#lineComment(start);
        if (next === 0x3e && postgres) {
          return take(this.#code(this.#i + 1) === 0x3e ? 2 : 1, JSON_OP);
        }
        if (isDigit(next)) return this.#number(start, false, this.#i);
        if (next === 0x2e && isDigit(this.#code(this.#i + 1))) {
          this.#i++;
          return this.#number(start, true, this.#i);
        }
        return single(c);
      case 0x23: // #
        if (this.#opts.dbms === "mssql") return this.#identifier(start);
        if (postgres) {
          if (next === 0x3e) return take(this.#code(this.#i + 1) === 0x3e ? 2 : 1, JSON_OP);
          if (next === 0x2d) return take(1, JSON_OP);
          return single(c);
        }
        return this.#lineComment(start);
      case 0x3c: // <
        if (next === 0x3e) return take(1, NE);
        if (next === 0x3d) {
          return this.#code(this.#i + 1) === 0x3e ? take(2, NULL_SAFE_EQ) : take(1, LE);
        }
        if (next === 0x40 && postgres) return take(1, JSON_OP);
        return single(c);
      case 0x3e: // >
        return next === 0x3d ? take(1, GE) : single(c);
      case 0x21: // !
        if (next === 0x3d) return take(1, NE);
        if (next === 0x7e) return take(this.#code(this.#i + 1) === 0x2a ? 2 : 1, NE);
        if (
          next === 0x28 || next === 0x60 || next === 0x27 || next === 0x22 || next === 0x2b ||
          next === 0x2d || (next >= 0 && (isSpace(s[this.#i], next) || this.#isLetter(this.#i))) ||
          isDigit(next)
        ) return single(NOT);
        return this.#fail(`unexpected char after "!"`);
      case 0x27:
        return this.#string(0x27, STRING);
      case 0x22:
        return this.#string(0x22, DQ_STRING);
      case 0x60:
        return this.#string(0x60, ID);
      case 0x25: // %
        if (next === 0x28) return this.#variableIdentifier(start);
        if (next >= 0 && this.#isLetter(this.#i)) return take(1, VARIABLE);
        return single(c);
      case 0x24: // $
        if (isDigit(next)) {
          while (isDigit(this.#code(this.#i))) this.#i++;
          return single(PREPARED);
        }
        return this.#dollarString();
      case 0x40: // @ (postgres)
        if (postgres) return next === 0x3e ? take(1, JSON_OP) : single(c);
        return this.#curly(start, c);
      case 0x7b: // {
        return this.#curly(start, c);
      case 0x7d: // }
        if (this.#curlys === 0) return this.#fail("unexpected byte 125");
        this.#curlys--;
        return single(c);
    }
    return this.#fail(`unexpected byte ${c}`);
  }

  #curly(start: number, c: number): number {
    if (start === 0 || this.#curlys > 0) {
      // Top-level escapes such as `{call proc(?)}` stay readable instead of becoming one `?`.
      this.#curlys++;
      this.text = this.#s.slice(start, this.#i);
      return c;
    }
    while (this.#i < this.#s.length && this.#s.charCodeAt(this.#i) !== 0x7d) this.#i++;
    if (this.#i >= this.#s.length) return this.#fail("unexpected EOF in escape sequence");
    this.#i++;
    this.text = this.#s.slice(start, this.#i);
    return ESCAPE_SEQ;
  }

  #identifier(start: number): number {
    this.#i = start + 1;
    for (;;) {
      const c = this.#code(this.#i);
      if (c < 0) break;
      if (isDigit(c) || c === 0x2e || c === 0x2a || this.#isLetter(this.#i)) this.#i++;
      else break;
    }
    this.text = this.#s.slice(start, this.#i);
    return KEYWORDS[this.text.toUpperCase()] ?? ID;
  }

  #mantissa(base: number): void {
    while (this.#i < this.#s.length && digitVal(this.#s.charCodeAt(this.#i)) < base) this.#i++;
  }

  /** A number from `start`; `from` is where its digits begin (after a sign). */
  #number(start: number, seenDecimalPoint: boolean, from = start): number {
    this.#i = from;
    const s = this.#s;
    const exponent = () => {
      const e = this.#code(this.#i);
      if (e === 0x65 || e === 0x45) {
        this.#i++;
        const sign = this.#code(this.#i);
        if (sign === 0x2b || sign === 0x2d) this.#i++;
        this.#mantissa(10);
      }
    };
    const fraction = () => {
      if (this.#code(this.#i) === 0x2e) {
        this.#i++;
        this.#mantissa(10);
      }
      exponent();
    };
    if (seenDecimalPoint) {
      this.#mantissa(10);
      exponent();
    } else if (s.charCodeAt(this.#i) === 0x30) {
      this.#i++;
      const x = this.#code(this.#i);
      if (x === 0x78 || x === 0x58) {
        this.#i++;
        this.#mantissa(16);
      } else {
        this.#mantissa(8);
        let decimal = false;
        const d = this.#code(this.#i);
        if (d === 0x38 || d === 0x39) {
          decimal = true;
          this.#mantissa(10);
        }
        const f = this.#code(this.#i);
        if (f === 0x2e || f === 0x65 || f === 0x45) fraction();
        else if (decimal) return this.#fail("invalid octal number");
      }
    } else {
      this.#mantissa(10);
      fraction();
    }
    this.text = s.slice(start, this.#i);
    return NUMBER;
  }

  #lineComment(start: number): number {
    const s = this.#s;
    const nl = s.indexOf("\n", this.#i);
    this.#i = nl < 0 ? s.length : nl + 1;
    this.text = s.slice(start, this.#i);
    return COMMENT;
  }

  #blockComment(start: number): number {
    const end = this.#s.indexOf("*/", this.#i + 1);
    if (end < 0) {
      this.#i = this.#s.length;
      return this.#fail("unexpected EOF in comment");
    }
    this.#i = end + 2;
    this.text = this.#s.slice(start, this.#i);
    return COMMENT;
  }

  #bindVar(start: number): number {
    if (!(isDigit(this.#code(this.#i)) || (this.#i < this.#s.length && this.#isLetter(this.#i)))) {
      return this.#fail("bind variables should start with letters or digits");
    }
    for (;;) {
      const c = this.#code(this.#i);
      if (c >= 0 && (isDigit(c) || c === 0x2e || this.#isLetter(this.#i))) this.#i++;
      else break;
    }
    this.text = this.#s.slice(start, this.#i);
    return VALUE_ARG;
  }

  #variableIdentifier(start: number): number {
    const close = this.#s.indexOf(")", this.#i);
    this.#i = close < 0 ? this.#s.length : close + 1;
    if (!(this.#i < this.#s.length && this.#isLetter(this.#i))) {
      return this.#fail("invalid character after variable identifier");
    }
    this.#i++;
    this.text = this.#s.slice(start, this.#i);
    return VARIABLE;
  }

  /** A quoted string or identifier after its opening `delim`; doubled delimiters embed one. */
  #string(delim: number, kind: number): number {
    const s = this.#s;
    let out = "";
    for (;;) {
      if (this.#i >= s.length) return this.#fail("unexpected EOF in string");
      let ch = s[this.#i++];
      const c = ch.charCodeAt(0);
      if (c === delim) {
        if (this.#code(this.#i) === delim) this.#i++;
        else break;
      } else if (c === 0x5c) {
        this.seenEscape = true;
        if (this.#escapes) {
          if (this.#i >= s.length) return this.#fail("unexpected EOF in string");
          ch = s[this.#i++];
        }
      }
      out += ch;
    }
    // An empty or blank string keeps its quotes so the query stays valid.
    this.text = out.trim() === "" ? String.fromCharCode(delim, delim) : out;
    return kind;
  }

  #dollarString(): number {
    const s = this.#s;
    const close = s.indexOf("$", this.#i);
    if (close < 0) return this.#fail("unexpected EOF in string");
    const delim = s.slice(this.#i - 1, close + 1);
    const end = s.indexOf(delim, close + 1);
    if (end < 0) {
      this.#i = s.length;
      return this.#fail("unexpected EOF in dollar-quoted string");
    }
    const body = s.slice(close + 1, end);
    this.#i = end + delim.length;
    if (this.#opts.dollarQuotedFunc && delim === "$func$") {
      try {
        this.text = `$func$${run(new Tokenizer(body, !this.#escapes, this.#opts)).query}$func$`;
        return DOLLAR_FUNC;
      } catch {
        this.text = body;
        return DOLLAR_STRING;
      }
    }
    this.text = body;
    return DOLLAR_STRING;
  }
}

const isFilteredGroupable = (k: number) =>
  k === FILTERED_GROUPABLE || k === FILTERED_GROUPABLE_PAREN;
const markFilteredGroupable = (k: number) =>
  k === 0x28 ? FILTERED_GROUPABLE_PAREN : FILTERED_GROUPABLE;
const replaceDigitsIn = (s: string) => s.replace(/[0-9]+/g, "?");

/** Runs the filters over every token and joins what is left. */
function run(tok: Tokenizer, opts: SqlOptions = {}): ObfuscatedSql {
  const out: string[] = [];
  let last = 0;
  let groupFilter = 0;
  let groupMulti = 0;
  const tables = new Set<string>();
  const tableList: string[] = [];
  const commands: string[] = [];
  const comments: string[] = [];
  let size = 0;
  for (;;) {
    let kind = tok.scan();
    if (kind === END) break;
    if (kind === LEX_ERROR) throw new SqlObfuscationError(tok.error || "cannot tokenize the query");
    let text: string | null = tok.text;

    // Metadata: comments, commands and tables.
    if (opts.collectComments && kind === COMMENT) {
      const comment = text.replaceAll("\n", " ").trim();
      size += comment.length;
      comments.push(comment);
    }
    if (opts.collectCommands && COMMANDS.has(kind)) {
      const command = COMMANDS.get(kind)!;
      size += command.length;
      commands.push(command);
    }
    if (opts.tableNames) {
      const afterFrom = (last === FROM || last === JOIN) && /^\p{L}/u.test(text);
      if (afterFrom || last === UPDATE || last === INTO) {
        const name = opts.replaceDigits ? replaceDigitsIn(text) : text;
        if (!tables.has(name)) {
          tables.add(name);
          if (tableList.length > 0) size++;
          size += name.length;
          tableList.push(name);
        }
        kind = TABLE_NAME;
      }
    }

    // Discard: comments, `AS alias` (unless kept), `;`.
    if (last === FILTERED_BRACKETED || last === AS) {
      if (last === FILTERED_BRACKETED && kind !== 0x5d) {
        if (kind !== ID) {
          throw new SqlObfuscationError("expected an identifier in a bracketed alias");
        }
        kind = FILTERED_BRACKETED;
        text = null;
      } else if (kind === 0x5b) {
        kind = FILTERED_BRACKETED;
        text = null;
      } else if (!opts.keepSqlAlias) {
        kind = FILTERED;
        text = null;
      }
    } else if (kind === COMMENT) {
      kind = FILTERED;
      text = null;
    } else if (kind === 0x3b) {
      kind = markFilteredGroupable(kind);
      text = null;
    } else if (kind === AS && !opts.keepSqlAlias) {
      text = null;
    }

    // Replace: literals become `?`.
    if (text !== null) {
      if (
        last === SAVEPOINT || (last === 0x3d && kind === DQ_STRING) ||
        kind === DOLLAR_STRING || kind === STRING || kind === NUMBER || kind === NULL ||
        kind === VARIABLE || kind === PREPARED || kind === BOOLEAN || kind === ESCAPE_SEQ ||
        kind === 0x3f
      ) {
        kind = markFilteredGroupable(kind);
        text = "?";
      } else if ((kind === TABLE_NAME || kind === ID) && opts.replaceDigits) {
        text = replaceDigitsIn(text);
      }
    }

    // Group: `( ?, ?, ? )` and `( ? ), ( ? )` become one `( ? )`.
    if ((last === 0x28 && isFilteredGroupable(kind)) || (kind === 0x28 && groupMulti > 0)) {
      groupMulti++;
    }
    const subquery = kind === SELECT || kind === DELETE || kind === UPDATE || kind === ID;
    if (groupMulti > 0 && last === FILTERED_GROUPABLE_PAREN && subquery) {
      groupFilter = groupMulti = 0;
      if (text !== null) text = `( ${text}`;
    } else if (isFilteredGroupable(kind)) {
      groupFilter++;
      if (groupFilter > 1) {
        kind = markFilteredGroupable(kind);
        text = null;
      }
    } else if (groupFilter > 0 && (kind === 0x2c || kind === 0x3f)) {
      kind = markFilteredGroupable(kind);
      text = null;
    } else if (groupMulti > 1) {
      kind = markFilteredGroupable(kind);
      text = null;
    } else if (kind !== 0x2c && kind !== 0x28 && kind !== 0x29) {
      groupFilter = groupMulti = 0;
    }

    if (text !== null) {
      if (out.length > 0 && kind !== 0x2c && !(kind === 0x3d && last === 0x3a)) out.push(" ");
      out.push(text);
    }
    last = kind;
  }
  if (out.length === 0) throw new SqlObfuscationError("result is empty");
  return {
    query: out.join(""),
    metadata: { size, tablesCSV: tableList.join(","), commands, comments, procedures: [] },
  };
}

/**
 * Obfuscates one SQL query: literals become `?`, comments and aliases go, value groups
 * collapse. Throws a {@link SqlObfuscationError} when the query cannot be tokenized.
 *
 * @example The spec's worked example
 * ```ts
 * import { obfuscateSql } from "./_sql.ts";
 * const { query } = obfuscateSql("SELECT * FROM users WHERE id = 42 AND name = 'bob'");
 * console.assert(query === "SELECT * FROM users WHERE id = ? AND name = ?");
 * ```
 */
export function obfuscateSql(query: string, opts: SqlOptions = {}): ObfuscatedSql {
  const tok = new Tokenizer(query, false, opts);
  try {
    return run(tok, opts);
  } catch (e) {
    // A backslash may be a literal character (standard SQL) rather than an escape: try again.
    if (!tok.seenEscape) throw e;
    return run(new Tokenizer(query, true, opts), opts);
  }
}
