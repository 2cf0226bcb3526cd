/**
 * The two hashes behind check IDs: MurmurHash3 x64_128 (the config digest takes its first
 * 64-bit half) and 64-bit FNV-1 (the instance hash). BigInt keeps the 64-bit arithmetic exact;
 * inputs are a few hundred bytes, so speed does not matter here.
 *
 * @module
 */

const MASK64 = (1n << 64n) - 1n;
const C1 = 0x87c37b91114253d5n;
const C2 = 0x4cf5ad432745937fn;

function rotl64(x: bigint, r: bigint): bigint {
  return ((x << r) | (x >> (64n - r))) & MASK64;
}

function fmix64(k: bigint): bigint {
  k ^= k >> 33n;
  k = (k * 0xff51afd7ed558ccdn) & MASK64;
  k ^= k >> 33n;
  k = (k * 0xc4ceb9fe1a85ec53n) & MASK64;
  k ^= k >> 33n;
  return k;
}

/** Little-endian 64-bit word of `bytes` at `offset`, reading only the `n` bytes there (n ≤ 8). */
function readLe(bytes: Uint8Array, offset: number, n: number): bigint {
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[offset + i]);
  return v;
}

/**
 * MurmurHash3 x64_128 of `data` (a string is hashed as its UTF-8 bytes).
 *
 * @returns `[h1, h2]`, each an unsigned 64-bit BigInt; `h1` alone is what Go's
 * `murmur3.New64()` returns, the hash the Datadog Agent's config digest uses.
 *
 * @example The reference vector
 * ```ts
 * import { murmur3x64_128 } from "./_hash.ts";
 * const [h1] = murmur3x64_128("The quick brown fox jumps over the lazy dog");
 * console.log(h1.toString(16)); // "e34bbc7bbc071b6c"
 * ```
 */
export function murmur3x64_128(data: string | Uint8Array, seed = 0n): [bigint, bigint] {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const len = bytes.length;
  const blocks = Math.floor(len / 16);
  let h1 = seed & MASK64;
  let h2 = seed & MASK64;
  for (let i = 0; i < blocks; i++) {
    let k1 = readLe(bytes, i * 16, 8);
    let k2 = readLe(bytes, i * 16 + 8, 8);
    k1 = (k1 * C1) & MASK64;
    k1 = rotl64(k1, 31n);
    k1 = (k1 * C2) & MASK64;
    h1 ^= k1;
    h1 = rotl64(h1, 27n);
    h1 = (h1 + h2) & MASK64;
    h1 = (h1 * 5n + 0x52dce729n) & MASK64;
    k2 = (k2 * C2) & MASK64;
    k2 = rotl64(k2, 33n);
    k2 = (k2 * C1) & MASK64;
    h2 ^= k2;
    h2 = rotl64(h2, 31n);
    h2 = (h2 + h1) & MASK64;
    h2 = (h2 * 5n + 0x38495ab5n) & MASK64;
  }
  const tail = blocks * 16;
  const rest = len - tail;
  if (rest > 8) {
    let k2 = readLe(bytes, tail + 8, rest - 8);
    k2 = (k2 * C2) & MASK64;
    k2 = rotl64(k2, 33n);
    k2 = (k2 * C1) & MASK64;
    h2 ^= k2;
  }
  if (rest > 0) {
    let k1 = readLe(bytes, tail, Math.min(rest, 8));
    k1 = (k1 * C1) & MASK64;
    k1 = rotl64(k1, 31n);
    k1 = (k1 * C2) & MASK64;
    h1 ^= k1;
  }
  const n = BigInt(len);
  h1 ^= n;
  h2 ^= n;
  h1 = (h1 + h2) & MASK64;
  h2 = (h2 + h1) & MASK64;
  h1 = fmix64(h1);
  h2 = fmix64(h2);
  h1 = (h1 + h2) & MASK64;
  h2 = (h2 + h1) & MASK64;
  return [h1, h2];
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;

/**
 * 64-bit FNV-1 (multiply, then xor; not FNV-1a) of `data` (a string is hashed as UTF-8).
 *
 * @example The reference vector
 * ```ts
 * import { fnv1_64 } from "./_hash.ts";
 * console.log(fnv1_64("a").toString(16)); // "af63bd4c8601b7be"
 * ```
 */
export function fnv1_64(data: string | Uint8Array): bigint {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  let h = FNV_OFFSET;
  for (const b of bytes) {
    h = (h * FNV_PRIME) & MASK64;
    h ^= BigInt(b);
  }
  return h;
}
