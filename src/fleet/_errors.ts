/**
 * Fleet errors: each carries a stable code and the HTTP status the local API answers with.
 *
 * @module
 */
import { OutpostError } from "../errors.ts";

/** The codes a fleet operation fails with, and the status the local API gives each. */
export const FLEET_ERROR_STATUS = {
  bad_request: 400,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  integrity: 422,
  unsafe_archive: 422,
  too_large: 422,
  no_space: 507,
  download_failed: 502,
  internal: 500,
} as const;

/** A stable code of {@linkcode FleetError}. */
export type FleetErrorCode = keyof typeof FLEET_ERROR_STATUS;

/** A fleet operation failed for a reason the caller can act on. */
export class FleetError extends OutpostError {
  declare readonly code: FleetErrorCode;
  constructor(code: FleetErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = "FleetError";
  }

  /** The HTTP status the local API answers with. */
  get status(): number {
    return FLEET_ERROR_STATUS[this.code];
  }
}
