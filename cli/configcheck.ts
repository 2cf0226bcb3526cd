import type { Command } from "./_command.ts";
import { CONFIG_FLAG, loadOrReport } from "./_context.ts";
import { AgentApiError, clientAuthTokenPath, readAuthToken } from "../src/api/mod.ts";
import { type ConfigCheckAnswer, renderConfigCheck } from "../src/checks/mod.ts";
import { scrubText } from "../src/config/mod.ts";

/**
 * `GET /agent/config-check` of the running agent. A stand-in until the API client has a
 * `configCheck()` call: the same bearer token and one-line errors, through `fetch` (which a
 * proxy variable in the environment would divert, as the client's notes explain).
 */
async function fetchConfigCheck(
  host: string,
  port: number,
  token: string,
  timeoutMs: number,
): Promise<ConfigCheckAnswer> {
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  const address = `${bare.includes(":") ? `[${bare}]` : bare}:${port}`;
  let res: Response;
  try {
    res = await fetch(`http://${address}/agent/config-check`, {
      headers: { Authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    throw new AgentApiError(
      "agent_unreachable",
      `Could not reach the agent at ${address}: is it running? (${(e as Error).message})`,
      { cause: e },
    );
  }
  const body = await res.text();
  if (!res.ok) {
    let message = body.trim();
    try {
      message = JSON.parse(body).error ?? message;
    } catch { /* not JSON */ }
    throw new AgentApiError(
      res.status === 401 ? "agent_unauthorized" : "agent_http",
      `The agent at ${address} answered ${res.status}: ${message}`,
      { status: res.status },
    );
  }
  try {
    const parsed = JSON.parse(body);
    if (Array.isArray(parsed?.configs)) return parsed;
  } catch { /* below */ }
  throw new AgentApiError(
    "agent_bad_answer",
    `The agent at ${address} answered GET /agent/config-check with something that is not a config list: is another program on that port?`,
    { status: res.status },
  );
}

export const configcheck: Command = {
  name: "configcheck",
  usage: [
    "outpost configcheck [-c FILE] [-v] [--json]",
    "",
    "  Prints the check configs the running agent loaded, with the instance IDs it computed.",
    "",
    "  -c, --config FILE   config file (default: /etc/outpost/datadog.yaml, then ./datadog.yaml)",
    "  -v, --verbose       also the resolve warnings and unresolved templates",
    "  --json              print the agent's answer as JSON",
  ].join("\n"),
  flags: { ...CONFIG_FLAG, verbose: { type: "boolean", short: "v" }, json: { type: "boolean" } },
  async main(values) {
    const loaded = await loadOrReport({ path: values.config as string | undefined });
    if (!loaded) return 1;
    const { config, file } = loaded;
    let answer: ConfigCheckAnswer;
    try {
      const token = readAuthToken(clientAuthTokenPath(config, file));
      answer = await fetchConfigCheck(
        config.cmd_host,
        config.cmd_port,
        token,
        config.server_timeout * 1000,
      );
    } catch (e) {
      console.error((e as Error).message);
      return 1;
    }
    if (values.json) console.log(JSON.stringify(answer, null, 2));
    else {process.stdout.write(
        scrubText(renderConfigCheck(answer, { verbose: values.verbose === true })),
      );}
    return 0;
  },
};
