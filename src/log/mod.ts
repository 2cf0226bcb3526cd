/**
 * Logging.
 *
 * @module
 */
export { createLogger, type Log, type Logger } from "./logger.ts";
