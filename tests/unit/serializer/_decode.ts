/**
 * Test helpers: the intake's own .proto definitions loaded with protobufjs (a real protobuf
 * library, not our encoder), and decompression of payload bodies.
 */
import { gunzipSync, inflateSync } from "node:zlib";
import { MetricPayload, SketchPayload } from "../../_agent_payload.ts";
import * as v from "valibot";
import { configSchema } from "../../../src/config/mod.ts";
import { runtime } from "../../../src/runtime/mod.ts";
import type { EncodedPayload } from "../../../src/serializer/mod.ts";

const TO_OBJECT = { longs: Number, enums: Number, defaults: true, arrays: true } as const;

/** The uncompressed body of `p`, per its Content-Encoding. */
export function decompress(p: EncodedPayload): Uint8Array {
  switch (p.headers["Content-Encoding"]) {
    case "zstd":
      return runtime.zstdDecompress(p.body);
    case "deflate":
      return new Uint8Array(inflateSync(p.body));
    case "gzip":
      return new Uint8Array(gunzipSync(p.body));
    case undefined:
      return p.body;
    default:
      throw new Error(`unexpected Content-Encoding ${p.headers["Content-Encoding"]}`);
  }
}

/** Decodes a `/api/v2/series` payload with protobufjs. */
export function decodeSeries(p: EncodedPayload): any {
  return MetricPayload.toObject(MetricPayload.decode(decompress(p)), TO_OBJECT);
}

/** Decodes a `/api/beta/sketches` payload with protobufjs. */
export function decodeSketches(p: EncodedPayload): any {
  return SketchPayload.toObject(SketchPayload.decode(decompress(p)), TO_OBJECT);
}

/** Parses a JSON payload. */
export function decodeJson(p: EncodedPayload): any {
  return JSON.parse(new TextDecoder().decode(decompress(p)));
}

/** The default config with `overrides`. */
export function config(overrides: Record<string, unknown> = {}) {
  return v.parse(configSchema, overrides);
}
