/** Keys of the dogstatsd component. */
import { bool, int, port, str } from "../_kinds.ts";

export const dogstatsdKeys = {
  bind_host: str("localhost"),
  use_dogstatsd: bool(true),
  dogstatsd_port: port(8125),
  dogstatsd_socket: str(""),
  dogstatsd_non_local_traffic: bool(false),
  dogstatsd_buffer_size: int(8192, 1),
};
