/**
 * How `outpost run --dev` uses the intake: with no API key and no `dd_url`, the agent starts
 * the intake in its own process and sends there.
 *
 * @module
 */
import { join } from "node:path";
import type { Config } from "../config/mod.ts";
import type { IntakeSettings } from "./mod.ts";

/**
 * The API key `--dev` uses with the embedded intake when none is configured: the Datadog
 * Agent treats 32 zeros as "do not validate", and the intake accepts any key.
 */
export const DEV_API_KEY = "0".repeat(32);

/** Whether `--dev` should start the embedded intake: no API key and no `dd_url` configured. */
export function wantsDevIntake(config: Config): boolean {
  return config.api_key === "" && config.dd_url === "";
}

/** The intake's settings from `local_intake.*`; the data directory defaults to `<run_path>/intake`. */
export function intakeSettings(config: Config): IntakeSettings {
  const li = config.local_intake;
  return {
    host: li.host,
    port: li.port,
    dataDir: li.data_dir || join(config.run_path, "intake"),
    maxBytes: li.max_bytes,
    apiKeys: li.api_keys,
  };
}

/**
/**
 * The config the rest of the agent sees: `dd_url`, the trace intake and every product the
 * trace agent proxies, and `logs_config.logs_dd_url` (`host:port`, plain HTTP as the intake
 * speaks) at the intake, and the dev API key.
 */
export function pointAtIntake(config: Config, url: string): Config {
  const apm = config.apm_config;
  const u = new URL(url);
  return {
    ...config,
    dd_url: url,
    api_key: config.api_key || DEV_API_KEY,
    apm_config: {
      ...apm,
      apm_dd_url: url,
      profiling_dd_url: `${url}/api/v2/profile`,
      debugger_dd_url: `${url}/api/v2/debugger`,
      symdb_dd_url: `${url}/api/v2/debugger`,
      telemetry: { ...apm.telemetry, dd_url: url },
      evp_proxy_config: { ...apm.evp_proxy_config, dd_url: url },
    },
    logs_config: {
      ...config.logs_config,
      logs_dd_url: `${u.hostname}:${u.port || (u.protocol === "https:" ? 443 : 80)}`,
      logs_no_ssl: u.protocol === "http:",
    },
  };
}
