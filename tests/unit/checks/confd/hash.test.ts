import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fnv1_64, murmur3x64_128 } from "../../../../src/checks/confd/mod.ts";

/** h1 ‖ h2 as their little-endian bytes, the usual way murmur3 128 vectors are written. */
function leHex(h: [bigint, bigint]): string {
  return h.map((x) => x.toString(16).padStart(16, "0").match(/../g)!.reverse().join("")).join("");
}

describe("murmur3x64_128()", () => {
  it("matches the reference vector for the quick brown fox", () => {
    const h = murmur3x64_128("The quick brown fox jumps over the lazy dog");
    assert.equal(leHex(h), "6c1b07bc7bbc4be347939ac4a93c437a");
  });

  it("hashes the empty input to zero with seed 0", () => {
    assert.deepEqual(murmur3x64_128(""), [0n, 0n]);
  });

  it("handles every tail length the same for strings and bytes", () => {
    const text = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (let len = 0; len <= text.length; len++) {
      const s = text.slice(0, len);
      assert.deepEqual(murmur3x64_128(s), murmur3x64_128(new TextEncoder().encode(s)));
    }
    assert.notDeepEqual(murmur3x64_128("abcdefghijklmnop"), murmur3x64_128("abcdefghijklmnoq"));
  });

  it("hashes strings as UTF-8", () => {
    assert.deepEqual(murmur3x64_128("é"), murmur3x64_128(new Uint8Array([0xc3, 0xa9])));
  });
});

describe("fnv1_64()", () => {
  it('matches the FNV-1 (not FNV-1a) vector for "a"', () => {
    assert.equal(fnv1_64("a").toString(16), "af63bd4c8601b7be");
  });

  it("returns the offset basis for empty input", () => {
    assert.equal(fnv1_64(""), 0xcbf29ce484222325n);
  });

  it("gives the legacy ID hash of {}\\n from 2020 agent output", () => {
    assert.equal(fnv1_64("{}\n").toString(16), "d884b5186b651429");
  });
});
