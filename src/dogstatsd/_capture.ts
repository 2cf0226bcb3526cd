/**
 * Capture files of raw DogStatsD datagrams, for `outpost dogstatsd-capture` and
 * `dogstatsd-replay`. Our own format (the Datadog Agent's is zstd-framed protobuf): a magic
 * line, then one record per datagram: arrival time (float64 ms since the epoch, big-endian),
 * length (uint32 big-endian) and the bytes as received, before any parsing.
 */
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { OutpostError } from "../errors.ts";

const MAGIC = new TextEncoder().encode("outpost-dogstatsd-capture 1\n");
const RECORD_HEAD = 12;
/** Bytes held before a write to the file: one syscall per many datagrams. */
const FLUSH_BYTES = 256 * 1024;

/** One captured datagram. */
export interface CapturedDatagram {
  /** Arrival, ms since the epoch. */
  at: number;
  data: Uint8Array;
}

/** Writes one capture file; not safe to share between files. */
export class CaptureWriter {
  readonly path: string;
  #fd: number;
  #held: Uint8Array[] = [];
  #heldBytes = 0;
  datagrams = 0;
  bytes = 0;

  /** Creates (or truncates) `path` and its directory, owner-only: datagrams may carry secrets. */
  constructor(path: string) {
    this.path = path;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.#fd = openSync(path, "w", 0o600);
    writeSync(this.#fd, MAGIC);
  }

  /** Appends one datagram received at `at` (ms since the epoch). */
  write(data: Uint8Array, at = Date.now()): void {
    const head = new Uint8Array(RECORD_HEAD);
    const view = new DataView(head.buffer);
    view.setFloat64(0, at);
    view.setUint32(8, data.length);
    // Copied: the runtime may reuse the read buffer.
    this.#held.push(head, data.slice());
    this.#heldBytes += RECORD_HEAD + data.length;
    this.datagrams++;
    this.bytes += data.length;
    if (this.#heldBytes >= FLUSH_BYTES) this.#flush();
  }

  close(): void {
    this.#flush();
    closeSync(this.#fd);
  }

  #flush(): void {
    for (const part of this.#held) writeSync(this.#fd, part);
    this.#held = [];
    this.#heldBytes = 0;
  }
}

/**
 * Reads a whole capture file's bytes; throws an `OutpostError` naming what is wrong.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readFileSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { CaptureWriter, readCapture } from "./_capture.ts";
 * const path = join(tmpdir(), `capture-doc-${process.pid}.bin`);
 * const w = new CaptureWriter(path);
 * w.write(new TextEncoder().encode("a:1|c"), 1000);
 * w.close();
 * const [d] = readCapture(readFileSync(path));
 * assert.equal(d.at, 1000);
 * assert.equal(new TextDecoder().decode(d.data), "a:1|c");
 * rmSync(path);
 * ```
 */
export function readCapture(bytes: Uint8Array): CapturedDatagram[] {
  const bad = (why: string) => new OutpostError("capture_invalid", `Not a capture file: ${why}`);
  if (bytes.length < MAGIC.length || !MAGIC.every((b, i) => bytes[i] === b)) {
    throw bad("it does not start with the outpost capture header");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: CapturedDatagram[] = [];
  let at = MAGIC.length;
  while (at < bytes.length) {
    if (at + RECORD_HEAD > bytes.length) throw bad(`a record header is cut at byte ${at}`);
    const time = view.getFloat64(at);
    const length = view.getUint32(at + 8);
    const start = at + RECORD_HEAD;
    if (start + length > bytes.length) throw bad(`the record at byte ${at} is cut short`);
    out.push({ at: time, data: bytes.subarray(start, start + length) });
    at = start + length;
  }
  return out;
}
