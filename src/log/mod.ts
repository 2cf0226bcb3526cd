/**
 * Logging.
 *
 * @module
 */
export { createLogger, type Level, type Log, type Logger, type LoggerOptions } from "./logger.ts";
