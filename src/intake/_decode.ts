/**
 * Turns a request body into decoded content: undo `Content-Encoding`, then decode by route.
 * Every failure is a value (`{ error }`) so the app can answer 400 with the reason.
 *
 * @module
 */
import { gunzipSync, inflateRawSync, inflateSync } from "node:zlib";
import type { Runtime } from "../runtime/types.ts";
import { decodeMetricPayload, decodeSketchPayload } from "./_protobuf.ts";
import { decodeSeriesJson } from "./_public.ts";
import { decodeAgentPayload, decodeMsgpack } from "./_traces.ts";

/** A decoded value or the reason it could not be decoded. */
export type Decoded<T = unknown> = { ok: true; value: T } | { ok: false; error: string };

const fail = (error: string): Decoded<never> => ({ ok: false, error });

/**
 * Undoes `encoding` (zstd, deflate/zlib, gzip, identity). `zstd1` is the official API clients'
 * name for zstd. `deflate` is a zlib stream as the agent sends it; a raw deflate stream is
 * accepted too, as some HTTP clients send that.
 */
export function decompress(
  runtime: Runtime,
  body: Uint8Array,
  encoding: string | undefined,
): Decoded<Uint8Array> {
  const kind = (encoding ?? "").trim().toLowerCase();
  try {
    switch (kind) {
      case "":
      case "identity":
        return { ok: true, value: body };
      case "zstd":
      case "zstd1":
        return { ok: true, value: runtime.zstdDecompress(body) };
      case "deflate":
      case "zlib":
        // A zlib stream starts with CMF 0x78; anything else is tried as raw deflate.
        return {
          ok: true,
          value: body[0] === 0x78 ? inflateSync(body) : inflateRawSync(body),
        };
      case "gzip":
      case "x-gzip":
        return { ok: true, value: gunzipSync(body) };
      default:
        return fail(`unsupported Content-Encoding "${encoding}"`);
    }
  } catch (e) {
    return fail(`cannot decompress the ${kind} body: ${(e as Error).message}`);
  }
}

/** How the body of each route is decoded. */
export type BodyKind =
  | "metric_payload"
  | "sketch_payload"
  | "agent_payload"
  | "msgpack"
  | "json"
  | "series_json"
  | "opaque";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Decodes a decompressed body as `kind`. Opaque bodies are kept as base64 with their size. */
export function decodeBody(kind: BodyKind, bytes: Uint8Array): Decoded {
  try {
    switch (kind) {
      case "metric_payload":
        return { ok: true, value: decodeMetricPayload(bytes) };
      case "sketch_payload":
        return { ok: true, value: decodeSketchPayload(bytes) };
      case "agent_payload":
        return { ok: true, value: decodeAgentPayload(bytes) };
      case "msgpack":
        return { ok: true, value: decodeMsgpack(bytes) };
      case "json":
        return { ok: true, value: JSON.parse(utf8.decode(bytes)) };
      case "series_json":
        return { ok: true, value: decodeSeriesJson(JSON.parse(utf8.decode(bytes))) };
      case "opaque":
        return { ok: true, value: { size: bytes.length, base64: toBase64(bytes) } };
    }
  } catch (e) {
    const what = kind === "json" || kind === "series_json"
      ? "JSON"
      : kind === "opaque"
      ? "body"
      : kind === "msgpack"
      ? "msgpack"
      : "protobuf";
    return fail(`cannot decode the ${what} body: ${(e as Error).message}`);
  }
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}
