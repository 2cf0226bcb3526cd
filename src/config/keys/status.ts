/** Keys of the status component. */
import { port } from "../_kinds.ts";

export const statusKeys = {
  expvar_port: port(5000),
};
