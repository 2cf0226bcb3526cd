import type { Command } from "./_command.ts";
import { CONFIG_FLAG, loadOrReport } from "./_context.ts";
import { withAgent } from "./_agent.ts";
import type { MetricStat } from "../src/dogstatsd/mod.ts";

export const dogstatsdStats: Command = {
  name: "dogstatsd-stats",
  usage: [
    "outpost dogstatsd-stats [-c FILE] [--json]",
    "",
    "  Prints how many samples the running agent's DogStatsD received per metric and tag set,",
    "  most first, with when the last arrived. The agent must run with",
    "  dogstatsd_stats_enable: true.",
    "",
    "  -c, --config FILE   config file (default: /etc/outpost/datadog.yaml, then ./datadog.yaml)",
    "  --json              print the agent's answer as JSON",
  ].join("\n"),
  flags: { ...CONFIG_FLAG, json: { type: "boolean" } },
  async main(values) {
    const loaded = await loadOrReport({ path: values.config as string | undefined });
    if (!loaded) return 1;
    return await withAgent(loaded, async (client) => {
      const answer = await client.dogstatsdStats();
      if (values.json) {
        console.log(JSON.stringify(answer, null, 2));
        return 0;
      }
      const stats = answer.stats as MetricStat[];
      const head = ["Metric", "Tags", "Count", "Last Seen"];
      const rows = stats.map((s) => [s.Name, s.Tags, String(s.Count), s.LastSeen]);
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
      const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join(" | ").trimEnd();
      const out = [line(head), widths.map((w) => "-".repeat(w)).join("-|-"), ...rows.map(line)];
      if (answer.untrackedSamples > 0) {
        out.push("", `${answer.untrackedSamples} samples of contexts past the tracking limit`);
      }
      console.log(out.join("\n"));
      return 0;
    });
  },
};
