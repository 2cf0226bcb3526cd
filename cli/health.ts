import type { Command } from "./_command.ts";
import { CONFIG_FLAG, loadOrReport } from "./_context.ts";
import { withAgent } from "./_agent.ts";

export const health: Command = {
  name: "health",
  usage: [
    "outpost health [-c FILE] [--json]",
    "",
    "  Prints whether every component of the running agent is healthy (PASS) or not (FAIL),",
    "  with the healthy and unhealthy components. Exits 1 on FAIL or when the agent cannot be",
    "  asked.",
    "",
    "  -c, --config FILE   config file (default: /etc/outpost/datadog.yaml, then ./datadog.yaml)",
    "  --json              print the agent's answer as JSON",
  ].join("\n"),
  flags: { ...CONFIG_FLAG, json: { type: "boolean" } },
  async main(values) {
    const loaded = await loadOrReport({ path: values.config as string | undefined });
    if (!loaded) return 1;
    return await withAgent(loaded, async (client) => {
      const report = await client.health();
      const healthy = [...report.Healthy].sort();
      const unhealthy = [...report.Unhealthy].sort();
      if (values.json) {
        console.log(JSON.stringify({ Healthy: healthy, Unhealthy: unhealthy }, null, 2));
      } else {
        // The Datadog Agent's layout: scripts grep for "Agent health: PASS".
        const lines = [`Agent health: ${unhealthy.length > 0 ? "FAIL" : "PASS"}`];
        if (healthy.length > 0) {
          lines.push(`=== ${healthy.length} healthy components ===`, healthy.join(", "));
        }
        if (unhealthy.length > 0) {
          lines.push(`=== ${unhealthy.length} unhealthy components ===`, unhealthy.join(", "));
        }
        console.log(lines.join("\n"));
      }
      if (unhealthy.length === 0) return 0;
      console.error(`Found ${unhealthy.length} unhealthy components`);
      return 1;
    });
  },
};
