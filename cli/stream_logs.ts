import type { Command } from "./_command.ts";
import { CONFIG_FLAG, loadOrReport } from "./_context.ts";
import { agentApiClient, clientAuthTokenPath, readAuthToken } from "../src/api/mod.ts";

export const streamLogs: Command = {
  name: "stream-logs",
  usage: [
    "outpost stream-logs [-c FILE] [--service S] [--source S] [--type T] [--name N] [--duration SEC]",
    "",
    "  Prints the running agent's processed log lines as they pass (after the processing rules,",
    "  so masked), until Ctrl-C or --duration seconds. Empty filters match anything.",
    "",
    "  -c, --config FILE   config file (default: /etc/outpost/datadog.yaml, then ./datadog.yaml)",
    "  --service S         only lines of this service",
    "  --source S          only lines of this source (ddsource)",
    "  --type T            only lines of this source type: file, tcp or udp",
    "  --name N            only lines of this integration",
    "  --duration SEC      stop after this many seconds (default: 0, until interrupted)",
  ].join("\n"),
  flags: {
    ...CONFIG_FLAG,
    service: { type: "string" },
    source: { type: "string" },
    type: { type: "string" },
    name: { type: "string" },
    duration: { type: "string" },
  },
  async main(values) {
    const duration = Number(values.duration ?? 0);
    if (!Number.isFinite(duration) || duration < 0 || duration > 86_400) {
      console.error(`Cannot use --duration ${values.duration}: expected seconds from 0 to 86400`);
      return 2;
    }
    const loaded = await loadOrReport({ path: values.config as string | undefined });
    if (!loaded) return 1;
    const { config, file } = loaded;
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
      const client = agentApiClient({
        host: config.cmd_host,
        port: config.cmd_port,
        token: readAuthToken(clientAuthTokenPath(config, file)),
        timeoutMs: config.server_timeout * 1000,
      });
      const filter = {
        service: String(values.service ?? ""),
        source: String(values.source ?? ""),
        type: String(values.type ?? ""),
        name: String(values.name ?? ""),
        duration,
      };
      await client.streamLogs(filter, (chunk) => process.stdout.write(chunk), stop.signal);
    } catch (e) {
      console.error(`Could not reach agent: ${(e as Error).message}`);
      return 1;
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
    return 0;
  },
};
