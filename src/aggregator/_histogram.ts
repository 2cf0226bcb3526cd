/**
 * Histograms as the agent computes them: samples kept with an integer weight trunc(1/rate),
 * aggregates and percentiles read off the weighted sorted samples at flush.
 */
import { HISTOGRAM_AGGREGATES, MIN_SAMPLE_RATE, type SeriesType } from "../metrics/model.ts";

type Aggregate = (typeof HISTOGRAM_AGGREGATES)[number];

/** What a histogram reports, resolved from `histogram_aggregates` and `histogram_percentiles`. */
export interface HistogramConfig {
  aggregates: readonly Aggregate[];
  /** Integer percents, ascending. */
  percentiles: readonly number[];
}

/**
 * Resolves the configured aggregates and percentiles; returns what was skipped as messages.
 * Percentiles are fractions in [0, 1] rounded to an integer percent (0.95 → 95).
 */
export function histogramConfig(
  aggregates: readonly string[],
  percentiles: readonly string[],
): { config: HistogramConfig; problems: string[] } {
  const problems: string[] = [];
  const aggs: Aggregate[] = [];
  for (const a of aggregates) {
    if ((HISTOGRAM_AGGREGATES as readonly string[]).includes(a)) aggs.push(a as Aggregate);
    else {problems.push(
        `Cannot use histogram aggregate "${a}": expected one of ${HISTOGRAM_AGGREGATES.join(", ")}`,
      );}
  }
  const pcts: number[] = [];
  for (const p of percentiles) {
    const f = Number(p);
    if (p.trim() === "" || !Number.isFinite(f) || f < 0 || f > 1) {
      problems.push(`Cannot use histogram percentile "${p}": expected a number between 0 and 1`);
      continue;
    }
    // +0.5 so that 0.29·100 = 28.999… still gives 29.
    pcts.push(Math.trunc(f * 100 + 0.5));
  }
  pcts.sort((a, b) => a - b);
  return { config: { aggregates: aggs, percentiles: pcts }, problems };
}

/** Receives one flushed value: name suffix, series type, value. */
export type Emit = (suffix: string, type: SeriesType, value: number) => void;

/** Samples of one histogram context over one bucket or check run. */
export class Histogram {
  #values: number[] = [];
  #weights: number[] = [];
  #sum = 0;
  #count = 0;

  /**
   * Adds `v` seen once per `rate`. Refuses (false, nothing added) a value that is not finite,
   * a rate outside [MIN_SAMPLE_RATE, 1], and a sample that would make the sum overflow; the
   * caller counts the drop.
   */
  add(v: number, rate: number): boolean {
    if (!(rate >= MIN_SAMPLE_RATE && rate <= 1)) return false;
    const inv = 1 / rate;
    const sum = this.#sum + v * inv;
    // NaN and ±Inf values make the sum non-finite too.
    if (!Number.isFinite(sum)) return false;
    const w = Math.trunc(inv);
    this.#values.push(v);
    this.#weights.push(w);
    this.#sum = sum;
    this.#count += w;
    return true;
  }

  /** True when nothing was added since the last flush. */
  get empty(): boolean {
    return this.#values.length === 0;
  }

  /** Emits the configured aggregates then percentiles, and empties the histogram. */
  flush(config: HistogramConfig, interval: number, emit: Emit): void {
    const values = this.#values;
    const weights = this.#weights;
    const n = values.length;
    if (n === 0) return;
    const order = new Array<number>(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => values[a] - values[b]);
    const count = this.#count;
    for (const agg of config.aggregates) {
      switch (agg) {
        case "max":
          emit(".max", "gauge", values[order[n - 1]]);
          break;
        case "min":
          emit(".min", "gauge", values[order[0]]);
          break;
        case "median":
          emit(".median", "gauge", weighted(order, values, weights, Math.trunc((count - 1) / 2)));
          break;
        case "avg":
          emit(".avg", "gauge", this.#sum / count);
          break;
        case "sum":
          emit(".sum", "gauge", this.#sum);
          break;
        case "count":
          emit(".count", "rate", count / interval);
          break;
      }
    }
    const pcts = config.percentiles;
    if (pcts.length > 0) {
      let seen = 0;
      let idx = 0;
      for (let i = 0; i < n && idx < pcts.length; i++) {
        seen += weights[order[i]];
        // Integer arithmetic as the agent: target = (p·count − 1) / 100, truncated.
        while (idx < pcts.length && seen > Math.trunc((pcts[idx] * count - 1) / 100)) {
          emit(`.${pcts[idx]}percentile`, "gauge", values[order[i]]);
          idx++;
        }
      }
    }
    this.#values = [];
    this.#weights = [];
    this.#sum = 0;
    this.#count = 0;
  }
}

/** The first sorted sample whose cumulative weight passes `target`. */
function weighted(order: number[], values: number[], weights: number[], target: number): number {
  let seen = 0;
  for (const i of order) {
    seen += weights[i];
    if (seen > target) return values[i];
  }
  return values[order[order.length - 1]];
}
