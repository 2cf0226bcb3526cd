/** Keys of the serializer component: payload switches, compression and size limits. */
import * as v from "valibot";
import { bool, int, MiB, oneOf } from "../_kinds.ts";

/** Compressors the serializer knows; `zstd` is the current agent default. */
export const COMPRESSOR_KINDS = ["zstd", "zlib", "gzip", "none"] as const;

export const serializerKeys = {
  use_v2_api: v.optional(v.object({ series: bool(true) }), {}),
  enable_payloads: v.optional(
    v.object({
      series: bool(true),
      events: bool(true),
      service_checks: bool(true),
      sketches: bool(true),
      json_to_v1_intake: bool(true),
    }),
    {},
  ),
  serializer_compressor_kind: oneOf(COMPRESSOR_KINDS, "zstd"),
  serializer_zstd_compressor_level: int(1, 1, 22),
  serializer_max_payload_size: int(2_621_440, 1, 256 * MiB),
  serializer_max_uncompressed_payload_size: int(4_194_304, 1, 256 * MiB),
  serializer_max_series_payload_size: int(512_000, 1, 256 * MiB),
  serializer_max_series_uncompressed_payload_size: int(5_242_880, 1, 256 * MiB),
  serializer_max_series_points_per_payload: int(10_000, 1, 10_000_000),
};
