import { test } from "node:test";
import assert from "node:assert/strict";
import { loadConfig } from "../../../src/config/mod.ts";
import { runtime } from "../../../src/runtime/mod.ts";
import { serializerSettings } from "../../../src/serializer/mod.ts";

test("serializerSettings() gives the spec's defaults", async () => {
  const { config } = await loadConfig(runtime, { searchPaths: [], env: {} });
  assert.deepEqual(serializerSettings(config), {
    useV2Series: true,
    enable: {
      series: true,
      events: true,
      serviceChecks: true,
      sketches: true,
      jsonToV1Intake: true,
    },
    compressor: "zstd",
    zstdLevel: 1,
    seriesLimits: { maxCompressed: 512_000, maxUncompressed: 5_242_880, maxPoints: 10_000 },
    limits: { maxCompressed: 2_621_440, maxUncompressed: 4_194_304 },
  });
});

test("serializerSettings() reads DD_* variables of the serializer keys", async () => {
  const { config } = await loadConfig(runtime, {
    searchPaths: [],
    env: {
      DD_SERIALIZER_COMPRESSOR_KIND: "zlib",
      DD_USE_V2_API_SERIES: "false",
      DD_ENABLE_PAYLOADS_EVENTS: "false",
      DD_SERIALIZER_MAX_SERIES_POINTS_PER_PAYLOAD: "500",
    },
  });
  const s = serializerSettings(config);
  assert.equal(s.compressor, "zlib");
  assert.equal(s.useV2Series, false);
  assert.equal(s.enable.events, false);
  assert.equal(s.enable.series, true);
  assert.equal(s.seriesLimits.maxPoints, 500);
});

test("loadConfig() rejects an unknown serializer_compressor_kind", async () => {
  await assert.rejects(
    loadConfig(runtime, { searchPaths: [], env: { DD_SERIALIZER_COMPRESSOR_KIND: "lz4" } }),
    /serializer_compressor_kind.*expected one of zstd, zlib, gzip, none/,
  );
});
