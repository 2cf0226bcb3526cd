/**
 * The aggregator: the DogStatsD time sampler, check samplers, the no-aggregation path for
 * timestamped samples, and the flush loop that hands everything to a `MetricsSink`.
 *
 * @module
 */
export {
  Aggregator,
  type AggregatorComponent,
  type AggregatorDeps,
  type AggregatorOptions,
  type AggregatorSettings,
  aggregatorSettings,
  buildAggregator,
  type CheckSamplerHandle,
  FLUSH_INTERVAL_MS,
  type FlushOptions,
  type FlushSummary,
} from "./aggregator.ts";
export { type MemorySink, memorySink } from "./sinks.ts";
export {
  AgentSketch,
  SKETCH_BIAS,
  SKETCH_BIN_LIMIT,
  SKETCH_GAMMA,
  SKETCH_MAX_BIN_COUNT,
  SKETCH_MAX_COUNT,
  SKETCH_MIN_VALUE,
  sketchKey,
  sketchKeyValue,
  sketchQuantile,
} from "./sketch.ts";
export { BUCKET_SECONDS } from "./_time_sampler.ts";
