import { stringify } from "yaml";
import type { Command } from "./_command.ts";
import { CONFIG_FLAG, loadOrReport } from "./_context.ts";
import { scrubObject } from "../src/config/mod.ts";

export const config: Command = {
  name: "config",
  usage:
    "outpost config [-c FILE] [--json]\n\n  -c, --config FILE   config file (default: /etc/outpost/datadog.yaml, then ./datadog.yaml)\n  --json              print JSON instead of YAML",
  flags: { ...CONFIG_FLAG, json: { type: "boolean" } },
  async main(values) {
    const loaded = await loadOrReport({ path: values.config as string | undefined });
    if (!loaded) return 1;
    for (const w of loaded.warnings) console.error(w);
    const scrubbed = scrubObject(loaded.config);
    process.stdout.write(
      values.json ? JSON.stringify(scrubbed, null, 2) + "\n" : stringify(scrubbed),
    );
    return 0;
  },
};
