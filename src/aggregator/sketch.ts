/**
 * The Datadog Agent's DDSketch variant (`pkg/quantile`), which is what `/api/beta/sketches`
 * expects: a logarithmic key mapping with γ = 1 + 2·(1/128), values below 1e-9 in key 0, at most
 * 4096 bins with uint16 counts, the lowest keys merged first when the limit is hit.
 *
 * This is not the mapping of `@datadog/sketches-js` (which uses its own index offset and no
 * bias), so the sketch is implemented here, insert path included, to produce the same bins the
 * agent would for the same samples.
 *
 * @module
 */
import { MIN_SAMPLE_RATE, type SketchPoint } from "../metrics/model.ts";

/** Relative accuracy of the agent's sketches. */
export const SKETCH_EPS = 1 / 128;
/** γ = 1 + 2·eps. */
export const SKETCH_GAMMA = 1 + 2 * SKETCH_EPS;
const LN_GAMMA = Math.log1p(2 * SKETCH_EPS);
/** Smallest magnitude with its own key; smaller values go to key 0. */
export const SKETCH_MIN_VALUE = 1e-9;
/** Added to every key so the smallest value (1e-9) gets key 1: −floor(ln(1e-9)/ln γ) + 1. */
export const SKETCH_BIAS = -Math.floor(Math.log(SKETCH_MIN_VALUE) / LN_GAMMA) + 1;
/** Largest finite key; `SKETCH_MAX_KEY + 1` stands for +Inf. */
export const SKETCH_MAX_KEY = 32766;
/** Most bins a sketch keeps. */
export const SKETCH_BIN_LIMIT = 4096;
/** Most a single bin counts (uint16); larger counts take several bins with the same key. */
export const SKETCH_MAX_BIN_COUNT = 65535;
/**
 * Most samples one sketch counts: as many as {@linkcode SKETCH_BIN_LIMIT} full bins hold. Past
 * it an insert is refused, so a sketch never holds more than twice the bin limit in bins and
 * every merge, whatever the weights, costs O(bins).
 */
export const SKETCH_MAX_COUNT = SKETCH_BIN_LIMIT * SKETCH_MAX_BIN_COUNT;
/** Keys buffered before they are merged into the bins (the agent's `agentBufCap`). */
const BUF_CAP = 512;

/** The agent's `norm.min`: the lower bound of key 1, just under 1e-9. */
const NORM_MIN = Math.pow(SKETCH_GAMMA, 1 - SKETCH_BIAS);

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The bin key of `v`: round-half-even(ln v / ln γ) + bias, `-key(-v)` for negatives, 0 for
 * magnitudes below the minimum, 32767 past the largest key.
 *
 * @example
 * ```ts
 * import { sketchKey } from "./sketch.ts";
 * sketchKey(1); // 1338 (the bias)
 * sketchKey(-1); // -1338
 * ```
 */
export function sketchKey(v: number): number {
  if (v < 0) return 0 - sketchKey(-v) || 0;
  if (v === 0 || v < NORM_MIN) return 0;
  const i = roundHalfEven(Math.log(v) / LN_GAMMA) + SKETCH_BIAS;
  if (i > SKETCH_MAX_KEY) return SKETCH_MAX_KEY + 1;
  return i < 1 ? 1 : i;
}

/** The value a key stands for: γ^(k − bias), signed; 0 for key 0; ±Inf for the infinity keys. */
export function sketchKeyValue(k: number): number {
  if (k < 0) return -sketchKeyValue(-k);
  if (k === 0) return 0;
  if (k > SKETCH_MAX_KEY) return Infinity;
  return Math.pow(SKETCH_GAMMA, k - SKETCH_BIAS);
}

/** Bins as parallel arrays, keys ascending (equal keys adjacent). */
interface Bins {
  k: number[];
  n: number[];
}

/**
 * Appends `n` at key `k`, splitting past the uint16 limit: the remainder first, then full bins.
 * `n` is at most {@linkcode SKETCH_MAX_COUNT}, so this adds at most 4097 bins.
 */
function appendSafe(out: Bins, k: number, n: number): void {
  if (n <= SKETCH_MAX_BIN_COUNT) {
    out.k.push(k);
    out.n.push(n);
    return;
  }
  const r = n % SKETCH_MAX_BIN_COUNT;
  if (r !== 0) {
    out.k.push(k);
    out.n.push(r);
  }
  for (let i = Math.floor(n / SKETCH_MAX_BIN_COUNT); i > 0; i--) {
    out.k.push(k);
    out.n.push(SKETCH_MAX_BIN_COUNT);
  }
}

/** Keeps at most `limit` bins (plus overflow bins) by folding the lowest keys into the next one. */
function trimLeft(b: Bins, limit: number): Bins {
  const len = b.k.length;
  if (len <= limit) return b;
  const nRemove = len - limit;
  const out: Bins = { k: [], n: [] };
  let missing = 0;
  for (let i = 0; i < nRemove; i++) {
    missing += b.n[i];
    if (missing > SKETCH_MAX_BIN_COUNT) {
      out.k.push(b.k[i]);
      out.n.push(SKETCH_MAX_BIN_COUNT);
      missing -= SKETCH_MAX_BIN_COUNT;
    }
  }
  const next = b.n[nRemove] + missing;
  let keep = next;
  if (next > SKETCH_MAX_BIN_COUNT) {
    keep = SKETCH_MAX_BIN_COUNT;
    appendSafe(out, b.k[nRemove], next - SKETCH_MAX_BIN_COUNT);
  }
  out.k.push(b.k[nRemove]);
  out.n.push(keep);
  for (let i = nRemove + 1; i < len; i++) {
    out.k.push(b.k[i]);
    out.n.push(b.n[i]);
  }
  return out;
}

/**
 * Merges runs of keys (`keys` ascending, `counts[i]` for `keys[i]`, equal keys allowed) into the
 * bins, as the agent's sparse store does: a key equal to an existing bin adds to the first bin of
 * that key, then the bin limit is applied.
 */
function mergeRuns(b: Bins, keys: number[], counts: number[] | null): Bins {
  const out: Bins = { k: [], n: [] };
  let i = 0;
  let j = 0;
  const nb = b.k.length;
  const nk = keys.length;
  const run = () => {
    if (counts) return 1;
    let e = j + 1;
    while (e < nk && keys[e] === keys[j]) e++;
    return e - j;
  };
  while (i < nb && j < nk) {
    const bk = b.k[i];
    const vk = keys[j];
    if (bk < vk) {
      out.k.push(bk);
      out.n.push(b.n[i++]);
    } else {
      const len = run();
      const add = counts ? counts[j] : len;
      if (bk > vk) appendSafe(out, vk, add);
      else appendSafe(out, bk, b.n[i++] + add);
      j += len;
    }
  }
  for (; i < nb; i++) {
    out.k.push(b.k[i]);
    out.n.push(b.n[i]);
  }
  while (j < nk) {
    const len = run();
    appendSafe(out, keys[j], counts ? counts[j] : len);
    j += len;
  }
  return trimLeft(out, SKETCH_BIN_LIMIT);
}

const byNumber = (a: number, b: number) => a - b;

/**
 * An insert-optimised sketch for one context and one bucket, as the agent's `quantile.Agent`:
 * keys of unsampled values are buffered and merged 512 at a time; a sampled value (rate < 1)
 * counts `trunc(1/rate)` times and is merged at once.
 *
 * It refuses (returns false from `insert`) a value that is not finite, a rate below
 * `MIN_SAMPLE_RATE`, an insert that would count past {@linkcode SKETCH_MAX_COUNT}, and one
 * that would make the sum or the mean overflow: the caller counts the drop.
 *
 * @example
 * ```ts
 * import { AgentSketch } from "./sketch.ts";
 * const s = new AgentSketch();
 * s.insert(1, 1);
 * s.insert(2, 0.5);
 * s.toPoint(10).cnt; // 3
 * ```
 */
export class AgentSketch {
  cnt = 0;
  min = 0;
  max = 0;
  sum = 0;
  avg = 0;
  #bins: Bins = { k: [], n: [] };
  #buf: number[] = [];

  /** Adds `v` with weight 1/rate; false (and nothing added) when refused. */
  insert(v: number, rate: number): boolean {
    if (!Number.isFinite(v)) return false;
    // Outside (0, 1] means unsampled, as the agent's bounds enforcement.
    if (!(rate > 0 && rate <= 1)) rate = 1;
    else if (rate < MIN_SAMPLE_RATE) return false;
    if (rate === 1) {
      const cnt = this.cnt + 1;
      const sum = this.sum + v;
      // The agent's incremental mean, kept for bit-identical averages.
      const avg = this.avg + (v - this.avg) / cnt;
      if (cnt > SKETCH_MAX_COUNT || !Number.isFinite(sum) || !Number.isFinite(avg)) return false;
      if (v > this.max || this.cnt === 0) this.max = v;
      if (v < this.min || this.cnt === 0) this.min = v;
      this.cnt = cnt;
      this.sum = sum;
      this.avg = avg;
      this.#buf.push(sketchKey(v));
      if (this.#buf.length >= BUF_CAP) this.#flushBuf();
      return true;
    }
    const n = 1 / rate;
    const w = Math.trunc(n);
    const first = this.cnt === 0;
    const cnt = this.cnt + w;
    const sum = first ? n * v : this.sum + n * v;
    const avg = first ? v : this.avg + (v - this.avg) * w / cnt;
    if (cnt > SKETCH_MAX_COUNT || !Number.isFinite(sum) || !Number.isFinite(avg)) return false;
    if (v > this.max || first) this.max = v;
    if (v < this.min || first) this.min = v;
    this.cnt = cnt;
    this.sum = sum;
    this.avg = avg;
    this.#flushBuf();
    this.#bins = mergeRuns(this.#bins, [sketchKey(v)], [w]);
    return true;
  }

  /** The bins merged so far, after flushing the buffer. */
  bins(): { k: number[]; n: number[] } {
    this.#flushBuf();
    return { k: this.#bins.k.slice(), n: this.#bins.n.slice() };
  }

  /** The sketch as a flushed point stamped `ts`. */
  toPoint(ts: number): SketchPoint {
    const { k, n } = this.bins();
    return { ts, cnt: this.cnt, min: this.min, max: this.max, avg: this.avg, sum: this.sum, k, n };
  }

  #flushBuf(): void {
    if (this.#buf.length === 0) return;
    this.#buf.sort(byNumber);
    this.#bins = mergeRuns(this.#bins, this.#buf, null);
    this.#buf = [];
  }
}

/**
 * The value at quantile `q` of a flushed sketch: the value of the bin holding rank
 * round-half-even(q·(cnt−1)), clamped to [min, max]. Within 1/128 relative error of the exact
 * quantile for values of magnitude ≥ 1e-9.
 */
export function sketchQuantile(p: SketchPoint, q: number): number {
  if (p.cnt === 0) return NaN;
  if (q <= 0) return p.min;
  if (q >= 1) return p.max;
  const rank = roundHalfEven(q * (p.cnt - 1));
  let seen = 0;
  for (let i = 0; i < p.k.length; i++) {
    seen += p.n[i];
    if (seen > rank) return Math.min(p.max, Math.max(p.min, sketchKeyValue(p.k[i])));
  }
  return p.max;
}
