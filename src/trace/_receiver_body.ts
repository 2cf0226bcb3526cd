/**
 * Reading a request body under a byte cap and a deadline, so neither a huge body nor a client
 * that trickles one can hold memory or a decoder slot.
 */

/** Why a body was not read whole. */
export type BodyFailure = "payload-too-large" | "timeout" | "read-error";

/** A body, or why it could not be read. */
export type BodyRead =
  | { ok: true; bytes: Uint8Array }
  | { ok: false; reason: BodyFailure; message: string };

/** Options of {@linkcode readBody}. */
export interface ReadBodyOptions {
  /** More bytes than this fail with `payload-too-large` as soon as they arrive. */
  maxBytes: number;
  /** The whole body must arrive within this many ms, else `timeout`. */
  timeoutMs: number;
}

/**
 * Reads `req`'s body, refusing it on `Content-Length` before reading when that is over the cap,
 * and otherwise counting bytes as they arrive (chunked bodies). On a failure the stream is
 * cancelled, which lets the server drop the rest.
 *
 * @example A body over the cap
 * ```ts
 * import { readBody } from "./_receiver_body.ts";
 * const req = new Request("http://x/", { method: "POST", body: "0123456789" });
 * const r = await readBody(req, { maxBytes: 4, timeoutMs: 1000 });
 * console.log(r.ok ? "read" : r.reason); // "payload-too-large"
 * ```
 */
export async function readBody(req: Request, options: ReadBodyOptions): Promise<BodyRead> {
  const { maxBytes, timeoutMs } = options;
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (declared > maxBytes) return tooLarge(maxBytes);
  if (!req.body) return { ok: true, bytes: new Uint8Array(0) };
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let done = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), deadline]);
      if (next === "timeout") {
        return {
          ok: false,
          reason: "timeout",
          message: `the request body did not arrive within ${timeoutMs} ms`,
        };
      }
      if (next.done) {
        done = true;
        break;
      }
      size += next.value.length;
      if (size > maxBytes) return tooLarge(maxBytes);
      chunks.push(next.value);
    }
  } catch (e) {
    return {
      ok: false,
      reason: "read-error",
      message: `cannot read the body: ${(e as Error).message}`,
    };
  } finally {
    clearTimeout(timer);
    if (!done) reader.cancel().catch(() => {});
  }
  return { ok: true, bytes: concat(chunks, size) };
}

function tooLarge(maxBytes: number): BodyRead {
  return {
    ok: false,
    reason: "payload-too-large",
    message: `payload-too-large: the body is over the limit of ${maxBytes} bytes`,
  };
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
