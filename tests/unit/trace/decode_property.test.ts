import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeClientStats,
  decodeTracerPayloadV07,
  decodeTracesJson,
  decodeTracesV04,
  decodeTracesV05,
  TraceDecodeError,
} from "../../../src/trace/mod.ts";
import { obfuscateSql, SqlObfuscationError } from "../../../src/trace/obfuscate/mod.ts";
import { v04Body, webTrace } from "./_helpers.ts";

const VALID = v04Body([
  webTrace(77n, 4, 1_700_000_000_000_000_000n),
  webTrace(78n, 2, 1_700_000_000_000_000_000n),
]);

/** A valid body with a few bytes changed, cut or appended: the inputs that reach deep branches. */
const mutated = fc.tuple(
  fc.array(fc.tuple(fc.nat(VALID.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
  fc.nat(VALID.length),
  fc.uint8Array({ maxLength: 8 }),
).map(([edits, cut, tail]) => {
  const b = VALID.slice(0, cut === 0 ? VALID.length : cut);
  for (const [at, v] of edits) if (at < b.length) b[at] = v;
  const out = new Uint8Array(b.length + tail.length);
  out.set(b);
  out.set(tail, b.length);
  return out;
});

function onlyDecodeErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    assert.ok(
      e instanceof TraceDecodeError,
      `unexpected ${(e as Error)?.name}: ${(e as Error)?.message}`,
    );
  }
}

test("the msgpack decoders answer any bytes with a result or a TraceDecodeError, nothing else", () => {
  fc.assert(
    fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 200 })), (bytes) => {
      onlyDecodeErrors(() => decodeTracesV04(bytes));
      onlyDecodeErrors(() => decodeTracesV05(bytes));
      onlyDecodeErrors(() => decodeTracerPayloadV07(bytes));
      onlyDecodeErrors(() => decodeClientStats(bytes));
    }),
    { numRuns: 3000 },
  );
});

test("decodeTracesJson() answers any text with traces or a TraceDecodeError", () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.string(), fc.json()),
      (text) => onlyDecodeErrors(() => decodeTracesJson(text)),
    ),
    { numRuns: 2000 },
  );
});

test("obfuscateSql() answers any text with a query or a SqlObfuscationError, and never keeps a digit literal", () => {
  const sqlish = fc.array(
    fc.constantFrom(
      "SELECT",
      "*",
      "FROM",
      "t",
      "WHERE",
      "a",
      "=",
      "42",
      "'x'",
      "IN",
      "(",
      ")",
      ",",
      "$1",
      "-- c\n",
      "/* c */",
      "AS",
      "b",
      '"q"',
      "`i`",
      "3.5e2",
      "NULL",
      ";",
      "%(p)s",
      "{",
      "}",
    ),
    { maxLength: 30 },
  ).map((parts) => parts.join(" "));
  fc.assert(
    fc.property(fc.oneof(sqlish, fc.string()), (query) => {
      try {
        const out = obfuscateSql(query).query;
        // Numbers standing alone are literals: none may survive. (Quoted identifiers such as
        // "0" are names, kept without their quotes as the Agent keeps them.)
        assert.ok(
          /["`]/.test(query) || !/(^|[\s(,=])\d+(\.\d+)?([\s),]|$)/.test(out),
          `${JSON.stringify(query)} → ${JSON.stringify(out)}`,
        );
      } catch (e) {
        assert.ok(
          e instanceof SqlObfuscationError,
          `unexpected ${(e as Error)?.name}: ${(e as Error)?.message}`,
        );
      }
    }),
    { numRuns: 3000 },
  );
});
