import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ByteCache,
  hashBytes,
  Interner,
  parseFloatBytes,
  parseIntBytes,
} from "../../../src/dogstatsd/_bytes.ts";

const enc = new TextEncoder();
const float = (s: string) => parseFloatBytes(enc.encode(s), 0, s.length);

test("parseFloatBytes() agrees with Number on long decimals and rejects what Go rejects", () => {
  for (const s of ["861.2900000000001", "0.30000000000000004", "123456789012345678", "-1e-7"]) {
    assert.equal(float(s), Number(s), s);
  }
  const digits400 = "9".repeat(400);
  for (const s of ["", ".", "-", "1e", "0x10", "1_000", " 1", "1e400", "Infinityy", digits400]) {
    assert.equal(float(s), undefined, s);
  }
});

test("parseIntBytes() takes an optional sign and digits only", () => {
  const int = (s: string) => parseIntBytes(enc.encode(s), 0, s.length);
  assert.deepEqual(["12", "+7", "-3", "", "+", "1.0", "9a"].map(int), [
    12,
    7,
    -3,
    undefined,
    undefined,
    undefined,
    undefined,
  ]);
});

test("Interner.get() returns the same string for the same bytes and decodes UTF-8", () => {
  const i = new Interner(8);
  const a = enc.encode("xenv:prodx");
  const b = enc.encode("env:prod");
  assert.equal(i.get(a, 1, 9), "env:prod");
  assert.equal(i.get(b, 0, 8), "env:prod");
  const u = enc.encode("café");
  assert.equal(i.get(u, 0, u.length), "café");
  assert.equal(i.get(u, 0, u.length), "café");
});

test("ByteCache.get() never returns a value stored for other bytes", () => {
  const c = new ByteCache<number>(2);
  const k = (s: string) => enc.encode(s);
  const ab = k("ab");
  assert.equal(c.get(ab, 0, 2), undefined);
  c.set(ab, 0, 2, 1);
  assert.equal(c.get(k("ab"), 0, 2), 1);
  assert.equal(c.get(k("ba"), 0, 2), undefined);
  c.set(k("ba"), 0, 2, 2);
  c.get(k("cd"), 0, 2);
  c.set(k("cd"), 0, 2, 3); // over capacity: starts over
  assert.equal(c.get(k("ab"), 0, 2), undefined);
  assert.equal(c.get(k("cd"), 0, 2), 3);
  const high = Uint8Array.of(0x80, 0x81);
  c.get(high, 0, 2);
  c.set(high, 0, 2, 4);
  assert.equal(c.get(Uint8Array.of(0x80, 0x81), 0, 2), 4);
});

test("an adaptive ByteCache stops looking up after mostly misses, then probes again", () => {
  const c = new ByteCache<number>(1 << 20, { adaptive: true });
  const key = (n: number) => enc.encode(`k${n}`);
  for (let n = 0; n < 1024; n++) {
    const b = key(n);
    c.get(b, 0, b.length);
    c.set(b, 0, b.length, n);
  }
  const seen = key(5);
  assert.equal(c.get(seen, 0, seen.length), undefined); // bypassed although stored
  for (let n = 0; n < 16_383; n++) c.get(seen, 0, seen.length);
  assert.equal(c.get(seen, 0, seen.length), 5); // probing again
});

test("hashBytes depends on the bytes only, not on where they sit, and sees every byte", () => {
  const text = "|c|#env:prod,service:web,ctx:12";
  const alone = enc.encode(text);
  // The same bytes inside a bigger packet, at an odd offset, through a view with a byteOffset.
  const packet = enc.encode(`xyz${text}\n`).subarray(1);
  for (let len = 0; len <= text.length; len++) {
    assert.equal(hashBytes(packet, 2, 2 + len), hashBytes(alone, 0, len), `length ${len}`);
  }
  const seen = new Set<number>();
  for (let i = 0; i < alone.length; i++) {
    const changed = alone.slice();
    changed[i] ^= 1;
    seen.add(hashBytes(changed, 0, changed.length));
  }
  seen.add(hashBytes(alone, 0, alone.length));
  assert.equal(seen.size, alone.length + 1);
});
