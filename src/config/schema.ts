/**
 * The configuration schema: the Datadog Agent's `datadog.yaml` keys that outpost uses, with
 * their defaults. Every key here also gets a `DD_*` environment binding (see `_env.ts`), so
 * adding a key is the whole job of making it configurable.
 *
 * @module
 */
import * as v from "valibot";

const INTEGER = "expected an integer";
const BOOLEAN = "expected a boolean (true or false)";
const STRING = "expected a string";
const LIST = "expected a list of strings";

const str = (def: string) => v.optional(v.string(STRING), def);
const bool = (def: boolean) => v.optional(v.boolean(BOOLEAN), def);
const int = (def: number, min = -Infinity, max = Infinity) =>
  v.optional(
    v.pipe(
      v.number(INTEGER),
      v.integer(INTEGER),
      v.minValue(min, `expected an integer of at least ${min}`),
      v.maxValue(max, `expected an integer of at most ${max}`),
    ),
    def,
  );
const list = (def: string[] = []) => v.optional(v.array(v.string(LIST), LIST), def);
const port = (def: number) => int(def, 0, 65535);

const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
/** A byte size given as a number or as `10Mb`, `512KB`, `1gb`. */
const size = (def: number) =>
  v.optional(
    v.pipe(
      v.union([
        v.pipe(v.number(), v.integer(), v.minValue(0)),
        v.pipe(v.string(), v.regex(/^\s*\d+(\.\d+)?\s*(b|kb|mb|gb)?\s*$/i)),
      ], "expected a size in bytes or a number with a unit (b, kb, mb, gb)"),
      v.transform((x) => {
        if (typeof x === "number") return x;
        const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(x)!;
        return Math.round(Number(m[1]) * SIZE_UNITS[m[2].toLowerCase()]);
      }),
    ),
    def,
  );

/** Log levels, most verbose first. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "critical", "off"] as const;

/** The schema of the whole configuration. */
export const configSchema = v.object({
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
  expvar_port: port(5000),
  server_timeout: int(30, 1),

  secret_backend_command: str(""),
  secret_backend_arguments: list(),
  secret_backend_timeout: int(30, 1),
  secret_backend_output_max_size: int(1024 * 1024, 1),

  bind_host: str("localhost"),
  use_dogstatsd: bool(true),
  dogstatsd_port: port(8125),
  dogstatsd_socket: str(""),
  dogstatsd_non_local_traffic: bool(false),
  dogstatsd_buffer_size: int(8192, 1),

  proxy: v.optional(
    v.object({ http: str(""), https: str(""), no_proxy: list() }),
    {},
  ),
  skip_ssl_validation: bool(false),
  additional_endpoints: v.optional(
    v.record(v.string(), v.array(v.string(LIST), LIST), "expected a map of URL to a list of API keys"),
    {},
  ),
});

/** The validated configuration, every default applied. */
export type Config = v.InferOutput<typeof configSchema>;

/** The configuration as a file or the environment may give it, before validation. */
export type RawConfig = Record<string, unknown>;
