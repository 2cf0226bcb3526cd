/**
 * Payload compressors: the body codec, the `Content-Encoding` it implies, and the worst-case
 * compressed size the payload builder plans with.
 */
import type { Runtime } from "../runtime/types.ts";

/** Compressors the serializer knows (`serializer_compressor_kind`). */
export type CompressorKind = "zstd" | "zlib" | "gzip" | "none";

/** One compressor. */
export interface Compressor {
  readonly kind: CompressorKind;
  /** `Content-Encoding` value, or undefined for `none`. */
  readonly encoding: string | undefined;
  compress(data: Uint8Array): Uint8Array;
  /** The largest output `compress` can give for `n` input bytes. */
  bound(n: number): number;
}

// zstd's ZSTD_COMPRESSBOUND.
const zstdBound = (n: number) => n + (n >>> 8) + (n < 131072 ? (131072 - n) >>> 11 : 0);
// node:zlib is loaded on first use: with the default zstd, the agent never needs it.
const zlib = () => process.getBuiltinModule("node:zlib");

// zlib's compressBound (default window and memory level, zlib wrapper included).
const zlibBound = (n: number) => n + (n >>> 12) + (n >>> 14) + Math.floor(n / 2 ** 25) + 13;

// A Buffer seen as a plain Uint8Array (no copy), so consumers never meet Buffer's quirks.
const plain = (b: Uint8Array) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

/**
 * gzip through `node:zlib` at `level` (zlib's default, 6, when absent); the trace writers use
 * level 1, as the Datadog trace agent does.
 *
 * @example
 * ```ts
 * import { gzip } from "./_compress.ts";
 * const z = gzip(new TextEncoder().encode("hello"), 1);
 * console.log(z[0] === 0x1f && z[1] === 0x8b); // true
 * ```
 */
export function gzip(data: Uint8Array, level?: number): Uint8Array {
  return plain(zlib().gzipSync(data, level === undefined ? {} : { level }));
}

/**
 * Builds the compressor `kind`. zstd comes from the runtime (native in Bun and Deno); zlib
 * and gzip from `node:zlib` at its default level, as the Datadog Agent's zlib writer.
 *
 * @example zlib
 * ```ts
 * import { createCompressor } from "./_compress.ts";
 * import { runtime } from "../runtime/mod.ts";
 * const c = createCompressor("zlib", { runtime });
 * console.log(c.encoding); // "deflate"
 * ```
 */
export function createCompressor(
  kind: CompressorKind,
  { runtime, zstdLevel = 1 }: { runtime: Runtime; zstdLevel?: number },
): Compressor {
  switch (kind) {
    case "zstd":
      return {
        kind,
        encoding: "zstd",
        compress: (data) => plain(runtime.zstdCompress(data, zstdLevel)),
        bound: zstdBound,
      };
    case "zlib":
      return {
        kind,
        encoding: "deflate",
        compress: (data) => plain(zlib().deflateSync(data)),
        bound: zlibBound,
      };
    case "gzip":
      // gzip's header and trailer are 12 bytes longer than zlib's.
      return {
        kind,
        encoding: "gzip",
        compress: (data) => gzip(data),
        bound: (n) => zlibBound(n) + 12,
      };
    case "none":
      return { kind, encoding: undefined, compress: (data) => data, bound: (n) => n };
  }
}
