/** Keys of the aggregator component (time sampler, check sampler, no-aggregation path, flush). */
import * as v from "valibot";
import { HISTOGRAM_AGGREGATES } from "../../metrics/model.ts";
import { bool, DAY, int, listOf, seconds, WEEK } from "../_kinds.ts";

const PERCENTILE = "expected numbers between 0 and 1 exclusive, with at most 2 decimals";
/**
 * Percentiles as YAML gives them, numbers or strings such as "0.95", in (0, 1) with at most two
 * decimals: the metric is named by the integer percent (`.95percentile`), so 0.999 or 1 would
 * silently report something else.
 */
const percentile = v.pipe(
  v.union([v.pipe(v.string(), v.maxLength(32)), v.number()], PERCENTILE),
  v.transform(String),
  v.check((p) => {
    const f = Number(p);
    return p.trim() !== "" && f > 0 && f < 1 && Math.abs(f * 100 - Math.round(f * 100)) < 1e-9;
  }, PERCENTILE),
);
const AGGREGATES = `expected a list of ${HISTOGRAM_AGGREGATES.join(", ")}`;

export const aggregatorKeys = {
  /** Counters keep being sent as 0 for this long after their last sample. */
  dogstatsd_expiry_seconds: seconds(300, 0, WEEK),
  /** DogStatsD contexts are forgotten after this long without samples. */
  dogstatsd_context_expiry_seconds: seconds(20, 0, WEEK),
  /** New DogStatsD contexts beyond this many are dropped (and counted). */
  dogstatsd_context_limit: int(1_000_000, 1, 100_000_000),
  /** Samples with their own timestamp skip aggregation. */
  dogstatsd_no_aggregation_pipeline: bool(true),
  dogstatsd_no_aggregation_pipeline_batch_size: int(2048, 1, 1_000_000),
  /** At shutdown, also flush buckets that are still open. */
  dogstatsd_flush_incomplete_buckets: bool(false),
  histogram_aggregates: listOf(
    v.picklist(HISTOGRAM_AGGREGATES, AGGREGATES),
    ["max", "median", "avg", "count"],
    { max: HISTOGRAM_AGGREGATES.length * 2, message: AGGREGATES },
  ),
  histogram_percentiles: listOf(percentile, ["0.95"], { max: 100, message: PERCENTILE }),
  check_sampler_bucket_commits_count_expiry: int(2, 1, 1_000_000),
  check_sampler_stateful_metric_expiration_time: seconds(25 * 3600, 0, 30 * DAY),
  /** Log every flushed series, sketch, event and service check at debug level. */
  log_payloads: bool(false),
  /**
   * New DogStatsD contexts are dropped (and counted) once the names, hosts and tags that
   * contexts hold reach this many bytes, as estimated by the time sampler (256 MiB).
   */
  dogstatsd_context_bytes_limit: int(256 * 1024 * 1024, 1024 * 1024, 64 * 1024 * 1024 * 1024),
};
