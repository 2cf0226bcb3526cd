import { test } from "node:test";
import assert from "node:assert/strict";
import { inflateSync } from "node:zlib";
import { runtime } from "../../../src/runtime/mod.ts";
import { createCompressor } from "../../../src/serializer/_compress.ts";
import { decodeJson, decodeSeries } from "./_decode.ts";
import { makeSerializer, serie } from "./_fixtures.ts";

const SERIES = Array.from({ length: 200 }, (_, i) => serie(`m.${i}`, { tags: [`i:${i}`] }));

test("seriesPayloads() zstd body round-trips through zstd decompression", () => {
  const { serializer } = makeSerializer({ serializer_compressor_kind: "zstd" });
  const [p] = serializer.seriesPayloads(SERIES);
  assert.equal(p.headers["Content-Encoding"], "zstd");
  // zstd frame magic number 0xFD2FB528, little endian.
  assert.deepEqual([...p.body.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd]);
  assert.equal(Object.getPrototypeOf(p.body), Uint8Array.prototype);
  assert.deepEqual(decodeSeries(p).series.map((s: any) => s.metric), SERIES.map((s) => s.name));
});

test("seriesPayloads() zlib body is a zlib stream sent as Content-Encoding deflate", () => {
  const { serializer } = makeSerializer({ serializer_compressor_kind: "zlib" });
  const [p] = serializer.seriesPayloads(SERIES);
  assert.equal(p.headers["Content-Encoding"], "deflate");
  assert.equal(p.body[0], 0x78); // zlib header: deflate, 32 KiB window
  const raw = new Uint8Array(inflateSync(p.body));
  assert.ok(raw.length > p.body.length);
  assert.deepEqual(decodeSeries(p).series.map((s: any) => s.metric), SERIES.map((s) => s.name));
});

test("serviceCheckPayloads() gzip and none round-trip with their Content-Encoding", () => {
  const check = { name: "c", status: 1 as const, timestamp: 5, host: "h", message: "m", tags: [] };
  for (const [kind, encoding] of [["gzip", "gzip"], ["none", undefined]] as const) {
    const { serializer } = makeSerializer({ serializer_compressor_kind: kind });
    const [p] = serializer.serviceCheckPayloads([check]);
    assert.equal(p.headers["Content-Encoding"], encoding);
    assert.equal(decodeJson(p)[0].check, "c");
  }
});

test("createCompressor() zstd honours serializer_zstd_compressor_level", () => {
  const words = Array.from({ length: 20_000 }, (_, i) => `w${(i * 7919) % 1009}`);
  const data = new TextEncoder().encode(words.join(" "));
  const fast = createCompressor("zstd", { runtime, zstdLevel: 1 }).compress(data);
  const slow = createCompressor("zstd", { runtime, zstdLevel: 19 }).compress(data);
  assert.deepEqual(new Uint8Array(runtime.zstdDecompress(slow)), data);
  assert.ok(slow.length < fast.length, `level 19: ${slow.length} B, level 1: ${fast.length} B`);
});

test("createCompressor() bound() is never below the real compressed size", () => {
  // Incompressible input is the worst case for every codec.
  const data = new Uint8Array(70_000);
  for (let i = 0, x = 1; i < data.length; i++) data[i] = (x = (x * 48271) % 2147483647) & 0xff;
  for (const kind of ["zstd", "zlib", "gzip", "none"] as const) {
    const c = createCompressor(kind, { runtime });
    for (const n of [0, 1, 100, 70_000]) {
      assert.ok(c.compress(data.subarray(0, n)).length <= c.bound(n), `${kind} ${n}`);
    }
  }
});
