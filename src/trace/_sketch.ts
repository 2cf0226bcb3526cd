/**
 * The latency sketch of APM stats (logs-apmstats B.2.5): a DDSketch with a logarithmic
 * mapping of relative accuracy 1 % and at most 2048 bins, the lowest collapsing first — the
 * `LogCollapsingLowestDenseDDSketch(0.01, 2048)` of sketches-go the trace agent uses — encoded
 * as the sketches-go `DDSketch` protobuf.
 */
import { ProtoWriter } from "../serializer/mod.ts";

/** Relative accuracy of the agent's sketches. */
export const SKETCH_RELATIVE_ACCURACY = 0.01;
const MAX_BINS = 2048;
const GAMMA = (1 + SKETCH_RELATIVE_ACCURACY) / (1 - SKETCH_RELATIVE_ACCURACY);
const MULTIPLIER = 1 / Math.log(GAMMA);
/** Smallest value given a bin; below it (zero included) values count in `zeroCount`. */
const MIN_INDEXABLE = Math.max(Math.exp(-(2 ** 31 - 1) / MULTIPLIER), Number.MIN_VALUE * GAMMA);

/**
 * A sketch of non-negative values (durations in ns).
 *
 * @example The median of 1..100 is within 1 %
 * ```ts
 * import { Sketch } from "./_sketch.ts";
 * const s = new Sketch();
 * for (let i = 1; i <= 100; i++) s.add(i);
 * console.assert(Math.abs(s.quantile(0.5) - 50) <= 0.5 + 50 * 0.01);
 * ```
 */
export class Sketch {
  readonly #bins = new Map<number, number>();
  #min = Infinity;
  #max = -Infinity;
  zeroCount = 0;
  count = 0;

  /** The bin of a positive value: floor(log_gamma(v)), as sketches-go's logarithmic mapping. */
  static index(v: number): number {
    return Math.floor(Math.log(v) * MULTIPLIER);
  }

  /** The value a bin stands for: its lower bound × (1 + accuracy). */
  static value(index: number): number {
    return Math.exp(index / MULTIPLIER) * (1 + SKETCH_RELATIVE_ACCURACY);
  }

  add(v: number, n = 1): void {
    this.count += n;
    if (!(v >= MIN_INDEXABLE)) {
      this.zeroCount += n;
      return;
    }
    let i = Sketch.index(v);
    // Collapse the lowest bins when the range would pass MAX_BINS.
    if (i < this.#max - MAX_BINS + 1) i = this.#max - MAX_BINS + 1;
    this.#bins.set(i, (this.#bins.get(i) ?? 0) + n);
    if (i < this.#min) this.#min = i;
    if (i > this.#max) {
      this.#max = i;
      if (this.#max - this.#min + 1 > MAX_BINS) this.#collapse();
    }
  }

  #collapse(): void {
    const floor = this.#max - MAX_BINS + 1;
    let moved = 0;
    for (const [i, c] of this.#bins) {
      if (i < floor) {
        moved += c;
        this.#bins.delete(i);
      }
    }
    if (moved > 0) this.#bins.set(floor, (this.#bins.get(floor) ?? 0) + moved);
    this.#min = floor;
  }

  /** The value at quantile `q` in [0, 1] (NaN when empty). */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const rank = q * (this.count - 1);
    if (rank < this.zeroCount) return 0;
    let seen = this.zeroCount;
    const indexes = [...this.#bins.keys()].sort((a, b) => a - b);
    for (const i of indexes) {
      seen += this.#bins.get(i)!;
      if (seen > rank) return Sketch.value(i);
    }
    return Sketch.value(indexes[indexes.length - 1]);
  }

  /** The sketches-go `DDSketch` protobuf of this sketch. */
  encode(): Uint8Array {
    const w = new ProtoWriter(256);
    w.fork(1); // mapping
    w.double(1, GAMMA);
    w.ldelim();
    if (this.#bins.size > 0) {
      const width = this.#max - this.#min + 1;
      const counts = new Uint8Array(width * 8);
      const view = new DataView(counts.buffer);
      for (const [i, c] of this.#bins) view.setFloat64((i - this.#min) * 8, c, true);
      w.fork(2); // positiveValues
      w.bytes(2, counts); // packed doubles, little endian
      w.uint(3, ((this.#min << 1) ^ (this.#min >> 31)) >>> 0); // sint32 offset
      w.ldelim();
    }
    w.double(4, this.zeroCount);
    return w.finish();
  }
}
