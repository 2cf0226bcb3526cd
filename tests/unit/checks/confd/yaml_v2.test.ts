import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import {
  emitYamlV2,
  formatGoFloat,
  GoFloat,
  resolvePlain,
} from "../../../../src/checks/confd/mod.ts";

/** Output of `key: <value>`, the value's own line(s). */
function value(v: unknown): string {
  return emitYamlV2({ k: v as string }).slice(3);
}

describe("emitYamlV2()", () => {
  it("writes an empty map as {} and an empty list as []", () => {
    assert.equal(emitYamlV2({}), "{}\n");
    assert.equal(emitYamlV2({ a: {}, b: [] }), "a: {}\nb: []\n");
  });

  it("sorts keys and does not indent sequences inside maps", () => {
    assert.equal(
      emitYamlV2({ tags: ["env:prod", "team:a"], name: "db1", min_collection_interval: 30 }),
      "min_collection_interval: 30\nname: db1\ntags:\n- env:prod\n- team:a\n",
    );
  });

  it("indents nested maps by two and lists of maps and lists as yaml.v2 does", () => {
    const v = { a: { b: { c: 1 } }, e: [{ x: 1, z: [1, 2] }, [3, 4]], f: null };
    assert.equal(
      emitYamlV2(v),
      "a:\n  b:\n    c: 1\ne:\n- x: 1\n  z:\n  - 1\n  - 2\n- - 3\n  - 4\nf: null\n",
    );
  });

  it("orders keys naturally: non-letters first, numbers by value", () => {
    const v = { a10: 1, a9: 2, a: 3, B: 4, _x: 5, "1": 6 };
    assert.equal(emitYamlV2(v), '_x: 5\n"1": 6\nB: 4\na: 3\na9: 2\na10: 1\n');
  });

  it("orders keys of mixed kinds as Go's reflect kinds", () => {
    const m = new Map<unknown, unknown>([["s", 1], [2n, 2], [true, 3], [new GoFloat(1.5), 4], [
      null,
      5,
    ]]);
    assert.equal(emitYamlV2(m as Map<never, never>), "true: 3\n1.5: 4\n2: 2\nnull: 5\ns: 1\n");
  });

  it("double-quotes strings that would read back as another type", () => {
    for (
      const s of [
        "30",
        "true",
        "yes",
        "No",
        "off",
        "y",
        "~",
        "null",
        "",
        "0x1F",
        "1e3",
        "1.0",
        ".5",
        "0755",
        "1_000",
        "2001-12-14",
        "1:30",
        ".inf",
      ]
    ) {
      assert.equal(value(s), `${JSON.stringify(s)}\n`, s);
    }
  });

  it("leaves strings plain when nothing requires quoting", () => {
    for (
      const s of [
        "localhost",
        "env:prod",
        "it's",
        'a"b',
        "a-b",
        "a#b",
        "é ü",
        "0x",
        "1.2.3",
        "<<",
        "-x",
        "http://h:80/p?q=1",
      ]
    ) {
      assert.equal(value(s), `${s}\n`, s);
    }
  });

  it("single-quotes strings with indicators, colons, comments and edge spaces", () => {
    const cases: [string, string][] = [
      [" lead", "' lead'"],
      ["trail ", "'trail '"],
      ["a: b", "'a: b'"],
      ["a #b", "'a #b'"],
      ["- x", "'- x'"],
      ["*a", "'*a'"],
      ["&a", "'&a'"],
      ["!a", "'!a'"],
      ["%a", "'%a'"],
      ["@a", "'@a'"],
      ["`a", "'`a'"],
      ["{a", "'{a'"],
      ["[a", "'[a'"],
      ['"a', `'"a'`],
      ["'q", "'''q'"],
      ["|a", "'|a'"],
      [">a", "'>a'"],
      ["? a", "'? a'"],
      ["#a", "'#a'"],
      ["---", "'---'"],
    ];
    for (const [s, out] of cases) assert.equal(value(s), `${out}\n`, s);
  });

  it("double-quotes and escapes control and non-BMP characters", () => {
    assert.equal(value("tab\there"), '"tab\\there"\n');
    assert.equal(value("bell\u0007"), '"bell\\a"\n');
    assert.equal(value("\u0001"), '"\\x01"\n');
    assert.equal(value("😀"), '"\\U0001F600"\n');
    assert.equal(value("a\\b\u0007"), '"a\\\\b\\a"\n');
  });

  it("writes multi-line strings as literal blocks with chomping indicators", () => {
    assert.equal(emitYamlV2({ q: "SELECT 1\nFROM t" }), "q: |-\n  SELECT 1\n  FROM t\n");
    assert.equal(emitYamlV2({ q: "a\nb\n" }), "q: |\n  a\n  b\n");
    assert.equal(emitYamlV2({ q: "a\n\n" }), "q: |+\n  a\n\n");
    assert.equal(emitYamlV2({ q: " a\nb" }), "q: |2-\n   a\n  b\n");
    assert.equal(emitYamlV2({ l: ["a\nb"] }), "l:\n- |-\n  a\n  b\n");
    // A trailing space before a break cannot be a block: double quotes.
    assert.equal(emitYamlV2({ q: "a \nb" }), 'q: "a \\nb"\n');
  });

  it("folds long plain strings at spaces past column 80", () => {
    const s = Array(30).fill("word").join(" ");
    const out = emitYamlV2({ long: s });
    const lines = out.split("\n");
    assert.equal(lines[0], `long: ${Array(16).fill("word").join(" ")}`);
    assert.equal(lines[1], `  ${Array(14).fill("word").join(" ")}`);
    assert.equal(parse(out).long, s);
  });

  it("writes a key longer than 128 bytes as a complex key", () => {
    const k = "k".repeat(129);
    assert.equal(emitYamlV2({ [k]: 1 }), `? ${k}\n: 1\n`);
  });

  it("prints numbers as Go does", () => {
    const v = {
      a: 30,
      b: 1.5,
      c: new GoFloat(1),
      d: new GoFloat(1e6),
      e: 1000000,
      f: new GoFloat(1e-5),
      g: 10n ** 19n,
      h: -3,
    };
    assert.equal(
      emitYamlV2(v),
      "a: 30\nb: 1.5\nc: 1\nd: 1e+06\ne: 1000000\nf: 1e-05\ng: 10000000000000000000\nh: -3\n",
    );
    assert.equal(
      emitYamlV2({
        nan: new GoFloat(NaN),
        inf: new GoFloat(Infinity),
        minus: new GoFloat(-Infinity),
      }),
      "inf: .inf\nminus: -.inf\nnan: .nan\n",
    );
    // "n" and "y" are YAML 1.1 booleans, so even as keys they are quoted.
    assert.equal(emitYamlV2({ n: 1, y: 2, x: 3 }), '"n": 1\nx: 3\n"y": 2\n');
    assert.equal(emitYamlV2({ t: true, f: false }), "f: false\nt: true\n");
  });

  it("round-trips nested values through a YAML 1.1 reader", () => {
    const samples = [
      {
        instances: [{
          host: "h",
          port: 1,
          tags: ["a:b", "c"],
          opts: { x: "30", y: "yes", z: " s " },
        }],
      },
      { a: [[], {}, [{}], ["x", ["y"]]], b: { c: { d: { e: "deep" } } }, q: "line1\nline2\n" },
      { s: "quote ' and \" and \\", u: "ünïcödé", e: "", n: null },
    ];
    for (const v of samples) {
      assert.deepEqual(parse(emitYamlV2(v), { version: "1.1" }), v);
    }
  });
});

describe("resolvePlain()", () => {
  it("reads YAML 1.1 scalars as yaml.v2 does", () => {
    assert.deepEqual(resolvePlain("yes"), { tag: "bool", value: true });
    assert.deepEqual(resolvePlain("Off"), { tag: "bool", value: false });
    assert.deepEqual(resolvePlain("~"), { tag: "null", value: null });
    assert.deepEqual(resolvePlain("0x1F"), { tag: "int", value: 31n });
    assert.deepEqual(resolvePlain("0755"), { tag: "int", value: 493n });
    assert.deepEqual(resolvePlain("1_000"), { tag: "int", value: 1000n });
    assert.deepEqual(resolvePlain("08"), { tag: "float", value: 8 });
    assert.deepEqual(resolvePlain("1.0"), { tag: "float", value: 1 });
    assert.deepEqual(resolvePlain(".5"), { tag: "float", value: 0.5 });
    assert.deepEqual(resolvePlain("-.inf"), { tag: "float", value: -Infinity });
    assert.deepEqual(resolvePlain("18446744073709551615"), {
      tag: "int",
      value: 18446744073709551615n,
    });
    assert.deepEqual(resolvePlain("2001-12-14"), { tag: "timestamp", value: "2001-12-14" });
    assert.deepEqual(resolvePlain("2001-13-14"), { tag: "str", value: "2001-13-14" });
    assert.deepEqual(resolvePlain("1e400"), { tag: "str", value: "1e400" });
    assert.deepEqual(resolvePlain("hello"), { tag: "str", value: "hello" });
  });
});

describe("formatGoFloat()", () => {
  it("uses the shortest digits and an exponent outside [1e-4, 1e6)", () => {
    const cases: [number, string][] = [
      [0.1, "0.1"],
      [100000, "100000"],
      [123456, "123456"],
      [1234567, "1.234567e+06"],
      [1e21, "1e+21"],
      [0.0001, "0.0001"],
      [2.5e-5, "2.5e-05"],
      [-0, "-0"],
      [1e100, "1e+100"],
    ];
    for (const [f, s] of cases) assert.equal(formatGoFloat(f), s, String(f));
  });
});
