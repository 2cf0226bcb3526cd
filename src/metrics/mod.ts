/**
 * The metrics data model.
 *
 * @module
 */
export type * from "./model.ts";
