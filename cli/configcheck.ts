import type { Command } from "./_command.ts";
import { CONFIG_FLAG, loadOrReport } from "./_context.ts";
import { agentApiClient, clientAuthTokenPath, readAuthToken } from "../src/api/mod.ts";
import { type ConfigCheckAnswer, renderConfigCheck } from "../src/checks/mod.ts";
import { scrubText } from "../src/config/mod.ts";

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
      const client = agentApiClient({
        host: config.cmd_host,
        port: config.cmd_port,
        token: readAuthToken(clientAuthTokenPath(config, file)),
        timeoutMs: config.server_timeout * 1000,
      });
      answer = await client.configCheck() as unknown as ConfigCheckAnswer;
    } catch (e) {
      console.error((e as Error).message);
      return 1;
    }
    if (values.json) console.log(JSON.stringify(answer, null, 2));
    else {
      process.stdout.write(
        scrubText(renderConfigCheck(answer, { verbose: values.verbose === true })),
      );
    }
    return 0;
  },
};
