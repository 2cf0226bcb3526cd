/**
 * The metrics data model.
 *
 * @module
 */
export type * from "./model.ts";
export { MAX_TIMESTAMP, MIN_SAMPLE_RATE } from "./model.ts";
