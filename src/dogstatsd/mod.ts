/**
 * DogStatsD: the parser for metrics, events and service checks, and the server that listens
 * on UDP and a unix datagram socket and hands parsed items to a {@linkcode DogStatsDSink}.
 *
 * @module
 */
export { DogStatsDParser, type ParsedItems, type ParserOptions } from "./_parse.ts";
export {
  ERROR_PREFIX_BYTES,
  type MessageKind,
  type ParseErrorCode,
  type RecentParseError,
} from "./_errors.ts";
export {
  buildDogstatsd,
  DEFAULT_RECEIVE_BUFFER_BYTES,
  type DogStatsDDeps,
  DogStatsDServer,
  type DogStatsDSettings,
  dogstatsdSettings,
  type DogStatsDSink,
} from "./_server.ts";
