/** Keys of the status component: expvar, hostname resolution stays in core, metadata providers. */
import * as v from "valibot";
import { port, text, WEEK } from "../_kinds.ts";

const PROVIDERS = "expected a list of {name, interval} entries";

export const statusKeys = {
  expvar_port: port(5000),
  /** `[{name: host, interval: 1800}]`: intervals in seconds; the host provider accepts 300–14400. */
  metadata_providers: v.optional(
    v.array(
      v.object({
        name: text(64),
        interval: v.pipe(
          v.number(PROVIDERS),
          v.integer(PROVIDERS),
          v.minValue(0, PROVIDERS),
          v.maxValue(WEEK, `${PROVIDERS} with an interval of at most ${WEEK} seconds`),
        ),
      }, PROVIDERS),
      PROVIDERS,
    ),
    [],
  ),
};
