import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type DecodedLine, Decoder } from "../../../src/logs/_decoder.ts";
import type { Encoding } from "../../../src/logs/mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function decode(chunks: Uint8Array[], encoding: Encoding = "utf-8", maxMessageSize = 256_000) {
  const out: DecodedLine[] = [];
  let errors = 0;
  const d = new Decoder({
    encoding,
    maxMessageSize,
    onLine: (l) => out.push(l),
    onDecodingError: (n) => errors += n,
  });
  for (const c of chunks) d.write(c);
  return { out, errors, text: out.map((l) => dec.decode(l.content)), d };
}

describe("Decoder", () => {
  it("splits on newlines across chunks, drops \\r before them, keeps raw lengths", () => {
    const { out, text } = decode([enc.encode("  a\r\nb"), enc.encode("c\n\n"), enc.encode("d")]);
    assert.deepEqual(text, ["  a", "bc", ""]);
    assert.deepEqual(out.map((l) => l.rawLen), [5, 3, 1]);
  });

  it("holds a partial line until flush", () => {
    const { text, d } = decode([enc.encode("x\npartial")]);
    assert.deepEqual(text, ["x"]);
    assert.equal(d.pendingBytes, 7);
  });

  it("cuts a long line into pieces marked ...TRUNCATED... at both ends, raw lengths summing up", () => {
    const line = "a".repeat(25) + "\n";
    const { out, text } = decode([enc.encode(line)], "utf-8", 10);
    assert.deepEqual(text, [
      "aaaaaaaaaa...TRUNCATED...",
      "...TRUNCATED...aaaaaaaaaa...TRUNCATED...",
      "...TRUNCATED...aaaaa",
    ]);
    assert.equal(out.reduce((n, l) => n + l.rawLen, 0), line.length);
    assert.ok(out.every((l) => l.truncated));
  });

  it("cuts a 10 MB line arriving in 64 KiB chunks without holding more than the limit", () => {
    const big = new Uint8Array(10 * 1024 * 1024).fill(0x62);
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < big.length; i += 65536) chunks.push(big.subarray(i, i + 65536));
    chunks.push(enc.encode("\nnext\n"));
    const out: DecodedLine[] = [];
    let maxPending = 0;
    const d = new Decoder({
      encoding: "utf-8",
      maxMessageSize: 256_000,
      onLine: (l) => out.push(l),
    });
    for (const c of chunks) {
      d.write(c);
      maxPending = Math.max(maxPending, d.pendingBytes);
    }
    assert.ok(maxPending <= 256_000, `held ${maxPending}`);
    assert.equal(out.length, Math.ceil(big.length / 256_000) + 1);
    assert.equal(dec.decode(out.at(-1)!.content), "next");
    assert.ok(out.slice(0, -1).every((l) => l.content.length <= 256_000 + 2 * 15));
  });

  it("never splits a UTF-8 character when cutting", () => {
    const { text } = decode([enc.encode("ééééé\n")], "utf-8", 5);
    assert.ok(text.every((t) => !t.includes("\ufffd")), JSON.stringify(text));
    assert.equal(text.join("").replaceAll("...TRUNCATED...", ""), "ééééé");
  });

  it("replaces invalid UTF-8 and counts the lines", () => {
    const { text, errors } = decode([
      new Uint8Array([0x6f, 0x6b, 0x0a, 0x61, 0xff, 0xfe, 0x62, 0x0a]),
    ]);
    assert.deepEqual(text, ["ok", "a\ufffd\ufffdb"]);
    assert.equal(errors, 1);
  });

  it("decodes UTF-16 LE and BE into UTF-8 with raw lengths in source bytes", () => {
    const le = new Uint8Array([0x68, 0, 0xe9, 0, 0x0a, 0, 0x0a, 0x01, 0x0a, 0]); // "hé\n", "\u010a\n"
    const a = decode([le.subarray(0, 3), le.subarray(3)], "utf-16-le");
    assert.deepEqual(a.text, ["hé", "\u010a"]);
    assert.deepEqual(a.out.map((l) => l.rawLen), [6, 4]);
    const be = new Uint8Array([0, 0x68, 0, 0xe9, 0, 0x0a, 0x01, 0x0a, 0, 0x0a]);
    assert.deepEqual(decode([be], "utf-16-be").text, ["hé", "\u010a"]);
  });
});
