/** Keys of the aggregator component (time sampler, check sampler, no-aggregation path, flush). */
import * as v from "valibot";
import { bool, int, list } from "../_kinds.ts";

/** A list of percentiles as YAML gives them: numbers or strings such as "0.95". */
const percentiles = (def: string[]) =>
  v.optional(
    v.array(
      v.pipe(
        v.union([v.string(), v.number()], "expected a list of numbers between 0 and 1"),
        v.transform(String),
      ),
      "expected a list of numbers between 0 and 1",
    ),
    def,
  );

export const aggregatorKeys = {
  /** Counters keep being sent as 0 for this long after their last sample. */
  dogstatsd_expiry_seconds: int(300, 0),
  /** DogStatsD contexts are forgotten after this long without samples. */
  dogstatsd_context_expiry_seconds: int(20, 0),
  /** New DogStatsD contexts beyond this many are dropped (and counted). */
  dogstatsd_context_limit: int(1_000_000, 1),
  /** Samples with their own timestamp skip aggregation. */
  dogstatsd_no_aggregation_pipeline: bool(true),
  dogstatsd_no_aggregation_pipeline_batch_size: int(2048, 1),
  /** At shutdown, also flush buckets that are still open. */
  dogstatsd_flush_incomplete_buckets: bool(false),
  histogram_aggregates: list(["max", "median", "avg", "count"]),
  histogram_percentiles: percentiles(["0.95"]),
  check_sampler_bucket_commits_count_expiry: int(2, 1),
  check_sampler_stateful_metric_expiration_time: int(25 * 3600, 0),
  /** Log every flushed series, sketch, event and service check at debug level. */
  log_payloads: bool(false),
  /**
   * New DogStatsD contexts are dropped (and counted) once the names, hosts and tags that
   * contexts hold reach this many bytes, as estimated by the time sampler (256 MiB).
   */
  dogstatsd_context_bytes_limit: int(256 * 1024 * 1024, 1024 * 1024, 64 * 1024 * 1024 * 1024),
};
