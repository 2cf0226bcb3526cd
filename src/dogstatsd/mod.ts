/**
 * DogStatsD: the parser for metrics, events and service checks, and the server that listens
 * on UDP and a unix datagram socket and hands parsed items to a {@linkcode DogStatsDSink}.
 *
 * @module
 */
export { DogStatsDParser, type ParsedItems, type ParserOptions } from "./_parse.ts";

export {
  buildDogstatsd,
  type DogStatsDDeps,
  DogStatsDServer,
  type DogStatsDSettings,
  dogstatsdSettings,
} from "./_server.ts";
export { dogstatsdApiArea, MAX_CAPTURE_SECONDS } from "./_api.ts";
export { type CapturedDatagram, CaptureWriter, readCapture } from "./_capture.ts";
export { type MetricStat, MetricStats, type MetricStatsSnapshot } from "./_metric_stats.ts";
