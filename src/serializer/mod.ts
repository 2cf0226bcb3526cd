/**
 * The serializer: builds the exact payloads the Datadog intake accepts from what the
 * aggregator flushes — `/api/v2/series` and `/api/beta/sketches` (protobuf, own encoder),
 * `/api/v1/series`, `/api/v1/check_run` and `/intake/` (JSON), orchestrator pass-through —
 * compressed (zstd, zlib, gzip or none) and split to respect every intake size limit.
 * It knows nothing about HTTP: the forwarder moves the {@linkcode EncodedPayload}s it produces.
 *
 * @module
 */
export type { EncodedPayload } from "./_payload.ts";
export { Serializer, type SerializerSettings, serializerSettings } from "./_serializer.ts";
export { ProtoWriter } from "./_proto.ts";
export { type Compressor, type CompressorKind, createCompressor, gzip } from "./_compress.ts";
