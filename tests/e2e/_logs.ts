/**
 * Helpers of the logs e2e tests: an agent config with `logs_enabled` and one integration's
 * `logs:` list, sending to a separate `outpost intake` (so the intake outlives a SIGKILL of the
 * agent), and readers of what the intake stored.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type AgentSetup, freePort, freeUdpPort } from "../../scripts/bench/_agent.ts";

/**
 * Writes `<dir>/datadog.yaml` and `<dir>/conf.d/<name>.d/conf.yaml` (`logs` is the YAML of the
 * `logs:` list, already indented by two spaces) and returns the setup `startAgent` takes.
 */
export async function logsSetup(
  dir: string,
  intakeUrl: string,
  { name = "app", logs, logsConfig = "" }: { name?: string; logs: string; logsConfig?: string },
): Promise<AgentSetup> {
  const dogstatsdPort = await freeUdpPort();
  const expvarPort = await freePort();
  const u = new URL(intakeUrl);
  mkdirSync(join(dir, "conf.d", `${name}.d`), { recursive: true });
  writeFileSync(join(dir, "conf.d", `${name}.d`, "conf.yaml"), `logs:\n${logs}`);
  const config = join(dir, "datadog.yaml");
  writeFileSync(
    config,
    [
      "api_key: 0123456789abcdef0123456789abcdef",
      `dd_url: ${intakeUrl}`,
      "hostname: logs-e2e",
      `cmd_port: ${await freePort()}`,
      `expvar_port: ${expvarPort}`,
      "gui_port: -1",
      `dogstatsd_port: ${dogstatsdPort}`,
      `run_path: ${join(dir, "run")}`,
      `confd_path: ${join(dir, "conf.d")}`,
      "logs_enabled: true",
      "logs_config:",
      `  logs_dd_url: ${u.hostname}:${u.port}`,
      "  logs_no_ssl: true",
      "  batch_wait: 0.2",
      logsConfig,
      "",
    ].join("\n"),
  );
  return { config, dogstatsdPort, expvarUrl: `http://127.0.0.1:${expvarPort}/debug/vars` };
}

/** One event as `/outpost/intake/logs` returns it. */
export interface IntakeLog {
  message: string;
  status: string;
  service: string;
  ddsource: string;
  ddtags: string;
  hostname: string;
}

/** Every stored event matching `query` (`service=…&q=…`), in order of arrival. */
export async function intakeLogs(intakeUrl: string, query = ""): Promise<IntakeLog[]> {
  const res = await fetch(`${intakeUrl}/outpost/intake/logs?limit=10000000&${query}`);
  return (await res.json()).logs;
}
