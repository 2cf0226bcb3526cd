/**
 * The telemetry registry shared by every component.
 *
 * @module
 */
export { Counter, CounterVec, Gauge, Registry } from "./registry.ts";
