import type { Command } from "./_command.ts";
import { CONFIG_FLAG, loadOrReport } from "./_context.ts";
import { withAgent } from "./_agent.ts";

export const stop: Command = {
  name: "stop",
  usage: [
    "outpost stop [-c FILE]",
    "",
    "  Asks the running agent to stop (it flushes what it holds first). Exits 1 when the",
    "  agent cannot be asked.",
    "",
    "  -c, --config FILE   config file (default: /etc/outpost/datadog.yaml, then ./datadog.yaml)",
  ].join("\n"),
  flags: { ...CONFIG_FLAG },
  async main(values) {
    const loaded = await loadOrReport({ path: values.config as string | undefined });
    if (!loaded) return 1;
    return await withAgent(loaded, async (client) => {
      await client.stop();
      console.log("Agent successfully stopped");
      return 0;
    });
  },
};
