/**
 * The base of every error the agent throws on a cold path. `code` is stable and doubles as
 * the telemetry tag.
 *
 * @module
 */

/** An error with a stable code. */
export class OutpostError extends Error {
  /** Stable, machine-readable code. */
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "OutpostError";
    this.code = code;
  }
}
