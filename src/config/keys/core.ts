/** Keys of the agent itself: identity, logging, paths, API, secrets, proxy. */
import * as v from "valibot";
import {
  bool,
  DAY,
  GiB,
  host,
  int,
  list,
  listOf,
  MiB,
  path,
  port,
  seconds,
  site,
  size,
  str,
  STRING,
  text,
  url,
  urlKey,
} from "../_kinds.ts";
import { hostnameProblem } from "../../metadata/_hostname.ts";

/** Log levels, most verbose first. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "critical", "off"] as const;

export const coreKeys = {
  api_key: str("", 256),
  site: site("datadoghq.com"),
  dd_url: url(),
  /**
   * Refused at load rather than replaced by the OS name: data sent under another host than
   * the one configured would land on the wrong host in Datadog.
   */
  hostname: v.optional(
    v.pipe(
      text(255),
      v.check(
        (s) => s === "" || hostnameProblem(s) === null,
        (issue) =>
          `${
            hostnameProblem(String(issue.input))
          }: expected a host name of letters, digits, "-" and "." other than localhost (or remove the key to use the system's name)`,
      ),
    ),
    "",
  ),
  hostname_file: path(""),
  hostname_fqdn: bool(false),
  tags: list(),
  extra_tags: list(),
  env: str("", 200),

  log_level: v.optional(
    v.pipe(
      v.string(STRING),
      v.toLowerCase(),
      v.picklist(LOG_LEVELS, `expected one of ${LOG_LEVELS.join(", ")}`),
    ),
    "info",
  ),
  log_file: path(""),
  log_file_max_size: size(10 * MiB, 100 * GiB),
  log_file_max_rolls: int(1, 0, 1000),
  log_to_console: bool(true),

  /** Must be a directory the agent can write, or creatable: checked at start (`agent.ts`). */
  run_path: path("/var/lib/outpost/run", { optional: false }),
  /** `""` is refused: write `0.0.0.0` to listen on every interface (a warning says so at start). */
  cmd_host: host("127.0.0.1", { listen: true }),
  cmd_port: port(5001),
  auth_token_file_path: path(""),
  server_timeout: seconds(30, 1, DAY),

  secret_backend_command: path(""),
  secret_backend_arguments: list(),
  secret_backend_timeout: seconds(30, 1, DAY),
  secret_backend_output_max_size: int(1024 * 1024, 1, 64 * MiB),

  proxy: v.optional(
    v.object({ http: url(), https: url(), no_proxy: list() }),
    {},
  ),
  skip_ssl_validation: bool(false),
  additional_endpoints: v.optional(
    v.pipe(
      v.record(
        urlKey,
        listOf(text(256), [], { max: 100 }),
        "expected a map of URL to a list of API keys",
      ),
      v.maxEntries(100, "expected at most 100 endpoints"),
    ),
    {},
  ),
};
