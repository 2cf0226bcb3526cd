/**
 * File fingerprints (A.2.6, `byte_checksum`): CRC-64 (ISO polynomial, as Go's `crc64.ISO`)
 * over the first 1024 bytes. A file shorter than that has no fingerprint ("0"). A stored
 * fingerprint that differs from the file's means the file was replaced while the agent was down.
 *
 * @module
 */
import type { FileHandle } from "node:fs/promises";

/** Bytes a fingerprint covers. */
export const FINGERPRINT_BYTES = 1024;

const TABLE: bigint[] = (() => {
  const poly = 0xd800000000000000n;
  const t: bigint[] = [];
  for (let i = 0; i < 256; i++) {
    let c = BigInt(i);
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
    t.push(c);
  }
  return t;
})();
const MASK = 0xffffffffffffffffn;

/** CRC-64/ISO of `data`, as Go's `crc64.Checksum(data, crc64.MakeTable(crc64.ISO))`. */
export function crc64Iso(data: Uint8Array): bigint {
  let crc = MASK;
  for (const b of data) crc = TABLE[Number((crc ^ BigInt(b)) & 0xffn)] ^ (crc >> 8n);
  return crc ^ MASK;
}

/** The fingerprint of an open file as a decimal string; "0" when too short or unreadable. */
export async function fingerprintOf(fh: FileHandle): Promise<string> {
  try {
    const buf = new Uint8Array(FINGERPRINT_BYTES);
    let n = 0;
    while (n < FINGERPRINT_BYTES) {
      const { bytesRead } = await fh.read(buf, n, FINGERPRINT_BYTES - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    return n < FINGERPRINT_BYTES ? "0" : crc64Iso(buf).toString();
  } catch {
    return "0";
  }
}
