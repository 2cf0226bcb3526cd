/** Keys of the status component: expvar, hostname resolution stays in core, metadata providers. */
import * as v from "valibot";
import { int, port, text, WEEK } from "../_kinds.ts";

const PROVIDERS = "expected a list of {name, interval} entries";

export const statusKeys = {
  expvar_port: port(5000),
  /** The web console on 127.0.0.1 (`outpost launch-gui`); -1 turns it off. */
  gui_port: int(5002, -1, 65535),
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
