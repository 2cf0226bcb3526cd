/**
 * The client of the running agent as the commands that only ask it build it: from the loaded
 * config's `cmd_host`, `cmd_port`, token file and `server_timeout`.
 */
import type { LoadedConfig } from "../src/config/mod.ts";
import {
  type AgentApiClient,
  agentApiClient,
  clientAuthTokenPath,
  readAuthToken,
} from "../src/api/mod.ts";
import { OutpostError } from "../src/errors.ts";

/**
 * Runs `ask` against the running agent; a failure (no token file, agent down, refused token)
 * is printed as one line and gives exit code 1.
 */
export async function withAgent(
  { config, file }: LoadedConfig,
  ask: (client: AgentApiClient) => Promise<number>,
): Promise<number> {
  let client: AgentApiClient;
  try {
    client = agentApiClient({
      host: config.cmd_host,
      port: config.cmd_port,
      token: readAuthToken(clientAuthTokenPath(config, file)),
      timeoutMs: config.server_timeout * 1000,
    });
  } catch (e) {
    console.error(
      `Cannot ask the agent at ${config.cmd_host}:${config.cmd_port}: ${(e as Error).message}`,
    );
    return 1;
  }
  try {
    return await ask(client);
  } catch (e) {
    if (!(e instanceof OutpostError)) throw e;
    console.error(e.message);
    return 1;
  }
}
