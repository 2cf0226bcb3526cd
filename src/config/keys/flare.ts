/** Keys of the flare component. */
import { GiB, HOUR, list, MiB, seconds, size } from "../_kinds.ts";

export const flareKeys = {
  /** Seconds each flare provider may run before it is skipped. */
  flare_provider_timeout: seconds(10, 1, HOUR),
  /** Exact keys masked in every flare file, on top of the scrubber's own rules. */
  flare_stripped_keys: list(),
  /** Total bytes of log files a flare takes, newest first; the rest is left out and recorded. */
  flare_logs_max_size: size(32 * MiB, 4 * GiB),
};
