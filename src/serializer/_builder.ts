/**
 * The streaming payload builder: items go in one at a time, compressed bodies that respect
 * every size limit come out. It plans with the compressor's worst-case bound, as the Datadog
 * Agent's stream compressor does, and checks the real compressed size when a body closes.
 */
import type { Compressor } from "./_compress.ts";

/** Size limits of one payload kind (spec §3.3). */
export interface PayloadLimits {
  /** Largest compressed body. */
  maxCompressed: number;
  /** Largest uncompressed body. */
  maxUncompressed: number;
  /** Largest number of points in one body. @default Infinity */
  maxPoints?: number;
}

/** The bytes around and between items: `header item sep item … footer`. */
export interface Framing {
  header: Uint8Array;
  footer: Uint8Array;
  separator: Uint8Array;
}

/** One closed body and what it holds. */
export interface BuiltBody {
  body: Uint8Array;
  items: number;
  points: number;
}

/** What `add` did with an item. */
export type AddResult = "added" | "too_big";

/** The agent gives up growing one payload after this many recompressions. */
const MAX_REPACKS = 40;

const EMPTY = new Uint8Array(0);

/** No bytes around items (protobuf payloads without footer). */
export const NO_FRAMING: Framing = { header: EMPTY, footer: EMPTY, separator: EMPTY };

/** Concatenates byte arrays. */
export function concat(parts: readonly Uint8Array[], total?: number): Uint8Array {
  const out = new Uint8Array(total ?? parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/**
 * Packs items into compressed bodies. `add` starts a new body when the current one is full
 * and refuses an item that would not fit even an empty body; `finish` closes the last body
 * and returns them all.
 *
 * @example Two JSON items in one body
 * ```ts
 * import { PayloadBuilder } from "./_builder.ts";
 * import { createCompressor } from "./_compress.ts";
 * import { runtime } from "../runtime/mod.ts";
 * const te = new TextEncoder();
 * const b = new PayloadBuilder(createCompressor("none", { runtime }), {
 *   maxCompressed: 1000, maxUncompressed: 1000,
 * }, { header: te.encode("["), footer: te.encode("]"), separator: te.encode(",") });
 * b.add(te.encode("1"));
 * b.add(te.encode("2"));
 * console.log(new TextDecoder().decode(b.finish()[0].body)); // "[1,2]"
 * ```
 */
export class PayloadBuilder {
  readonly #compressor: Compressor;
  readonly #maxCompressed: number;
  readonly #maxUncompressed: number;
  readonly #maxPoints: number;
  readonly #framing: Framing;
  /** Bigger items are refused outright (spec: ItemTooBig). */
  readonly #maxItemBound: number;

  #items: Uint8Array[] = [];
  #itemPoints: number[] = [];
  #points = 0;
  /** Header, items and separators so far, footer excluded. */
  #uncompressed = 0;
  /** Compressed size of everything up to the last checkpoint (sum of compressed parts). */
  #checkpointCompressed = 0;
  /** First item after the last checkpoint. */
  #checkpointIndex = 0;
  /** Bytes added since the last checkpoint. */
  #pending = 0;
  #repacks = 0;
  readonly #done: BuiltBody[] = [];
  /** Items dropped at close because even alone they compressed past the limit. */
  droppedAtClose = 0;

  constructor(compressor: Compressor, limits: PayloadLimits, framing: Framing = NO_FRAMING) {
    this.#compressor = compressor;
    this.#maxCompressed = limits.maxCompressed;
    this.#maxUncompressed = limits.maxUncompressed;
    this.#maxPoints = limits.maxPoints ?? Infinity;
    this.#framing = framing;
    const frame = framing.header.length + framing.footer.length;
    this.#maxItemBound = Math.min(
      this.#maxUncompressed - compressor.bound(frame),
      this.#maxCompressed - frame,
    );
    this.#reset();
  }

  /** Adds one item holding `points` points; refuses it when no body could hold it. */
  add(item: Uint8Array, points = 1): AddResult {
    if (points > this.#maxPoints || this.#compressor.bound(item.length) >= this.#maxItemBound) {
      return "too_big";
    }
    if (this.#items.length > 0 && !this.#fits(item.length, points)) this.#close();
    const sep = this.#items.length > 0 ? this.#framing.separator.length : 0;
    this.#items.push(item);
    this.#itemPoints.push(points);
    this.#points += points;
    this.#uncompressed += sep + item.length;
    this.#pending += sep + item.length;
    return "added";
  }

  /** Closes the current body (if any item) and returns every body built, oldest first. */
  finish(): BuiltBody[] {
    if (this.#items.length > 0) this.#close();
    return this.#done.splice(0);
  }

  #fits(itemLength: number, points: number): boolean {
    if (this.#points + points > this.#maxPoints) return false;
    const add = this.#framing.separator.length + itemLength + this.#framing.footer.length;
    if (this.#uncompressed + add > this.#maxUncompressed) return false;
    const bound = this.#compressor.bound;
    if (this.#checkpointCompressed + bound(this.#pending + add) <= this.#maxCompressed) return true;
    // The worst case says no: compress what came since the last checkpoint to learn its real
    // size, and ask again. Compressing only the new part keeps the cost linear; it overstates
    // the total a little (the part loses its context), and #emit checks the real size anyway.
    // Nothing new since the last checkpoint means nothing new to learn.
    if (this.#pending === 0 || this.#repacks >= MAX_REPACKS) return false;
    this.#repacks++;
    const from = this.#checkpointIndex;
    const { header, separator } = this.#framing;
    const chunk = this.#join(from, this.#items.length, from === 0 ? header : separator);
    this.#checkpointCompressed += this.#compressor.compress(chunk).length;
    this.#checkpointIndex = this.#items.length;
    this.#pending = 0;
    return this.#checkpointCompressed + bound(add) <= this.#maxCompressed;
  }

  /** `lead`, items [from, to) with separators, then `tail`. */
  #join(from: number, to: number, lead: Uint8Array, tail?: Uint8Array): Uint8Array {
    const separator = this.#framing.separator;
    const parts: Uint8Array[] = [lead];
    for (let i = from; i < to; i++) {
      if (i > from && separator.length > 0) parts.push(separator);
      parts.push(this.#items[i]);
    }
    if (tail) parts.push(tail);
    return concat(parts);
  }

  #close(): void {
    this.#emit(0, this.#items.length);
    this.#reset();
  }

  /** Compresses items [from, to); halves the range if the real size still overflows. */
  #emit(from: number, to: number): void {
    const { header, footer } = this.#framing;
    const body = this.#compressor.compress(this.#join(from, to, header, footer));
    let points = 0;
    for (let i = from; i < to; i++) points += this.#itemPoints[i];
    if (body.length <= this.#maxCompressed) {
      this.#done.push({ body, items: to - from, points });
      return;
    }
    if (to - from === 1) {
      this.droppedAtClose++;
      return;
    }
    const mid = from + Math.floor((to - from) / 2);
    this.#emit(from, mid);
    this.#emit(mid, to);
  }

  #reset(): void {
    this.#items = [];
    this.#itemPoints = [];
    this.#points = 0;
    this.#uncompressed = this.#framing.header.length;
    this.#checkpointCompressed = 0;
    this.#checkpointIndex = 0;
    this.#pending = this.#framing.header.length;
    this.#repacks = 0;
  }
}
