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
  type AggregatorSettings,
  aggregatorSettings,
  buildAggregator,
} from "./aggregator.ts";
export { memorySink } from "./sinks.ts";
