/** Keys of the agent itself: identity, logging, paths, API, secrets, proxy. */
import * as v from "valibot";
import { bool, int, LIST, list, port, size, str, STRING } from "../_kinds.ts";

/** Log levels, most verbose first. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "critical", "off"] as const;

export const coreKeys = {
  api_key: str(""),
  site: str("datadoghq.com"),
  dd_url: str(""),
  hostname: str(""),
  hostname_file: str(""),
  hostname_fqdn: bool(false),
  tags: list(),
  extra_tags: list(),
  env: str(""),

  log_level: v.optional(
    v.pipe(
      v.string(STRING),
      v.toLowerCase(),
      v.picklist(LOG_LEVELS, `expected one of ${LOG_LEVELS.join(", ")}`),
    ),
    "info",
  ),
  log_file: str(""),
  log_file_max_size: size(10 * 1024 ** 2),
  log_file_max_rolls: int(1, 0),
  log_to_console: bool(true),

  run_path: str("/var/lib/outpost/run"),
  cmd_host: str("127.0.0.1"),
  cmd_port: port(5001),
  auth_token_file_path: str(""),
  server_timeout: int(30, 1),

  secret_backend_command: str(""),
  secret_backend_arguments: list(),
  secret_backend_timeout: int(30, 1),
  secret_backend_output_max_size: int(1024 * 1024, 1),

  proxy: v.optional(
    v.object({ http: str(""), https: str(""), no_proxy: list() }),
    {},
  ),
  skip_ssl_validation: bool(false),
  additional_endpoints: v.optional(
    v.record(
      v.string(),
      v.array(v.string(LIST), LIST),
      "expected a map of URL to a list of API keys",
    ),
    {},
  ),
};
