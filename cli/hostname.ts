import type { Command } from "./_command.ts";
import { CONFIG_FLAG, loadOrReport } from "./_context.ts";
import { runtime } from "../src/runtime/mod.ts";
import { resolveHostname } from "../src/metadata/mod.ts";

export const hostname: Command = {
  name: "hostname",
  usage: [
    "outpost hostname [-c FILE] [--json]",
    "",
    "  Prints the host name the agent reports under, resolved from the config as the agent",
    "  resolves it at start (hostname, hostname_file, then the OS); no running agent needed.",
    "",
    "  -c, --config FILE   config file (default: /etc/outpost/datadog.yaml, then ./datadog.yaml)",
    "  --json              print the name with where it came from and the sources that failed",
  ].join("\n"),
  flags: { ...CONFIG_FLAG, json: { type: "boolean" } },
  async main(values) {
    const loaded = await loadOrReport({ path: values.config as string | undefined });
    if (!loaded) return 1;
    const resolved = await resolveHostname(runtime, loaded.config);
    await resolved.fqdnRead;
    const { fqdnRead: _, ...info } = resolved;
    if (values.json) console.log(JSON.stringify(info, null, 2));
    else if (info.provider !== "unknown") console.log(info.hostname);
    if (info.provider !== "unknown") return 0;
    const why = Object.entries(info.errors).map(([p, e]) => `${p}: ${e}`).join("; ");
    console.error(`Cannot resolve a host name (${why})`);
    return 1;
  },
};
