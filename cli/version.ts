import type { Command } from "./_command.ts";
import { BUILD } from "../src/version.ts";
import { runtime } from "../src/runtime/mod.ts";

export const version: Command = {
  name: "version",
  usage: "outpost version [--json]\n\n  --json   print a JSON object",
  flags: { json: { type: "boolean" } },
  async main(values) {
    const info = {
      version: BUILD.version,
      commit: BUILD.commit,
      build_date: BUILD.buildDate,
      datadog_agent_version: BUILD.agentVersion,
      runtime: runtime.name,
      runtime_version: runtime.version,
      target: BUILD.target,
    };
    console.log(
      values.json
        ? JSON.stringify(info)
        : `Outpost ${info.version} - Commit: ${info.commit} - Build date: ${
          info.build_date || "(from source)"
        } - Datadog Agent version sent: ${info.datadog_agent_version} - Runtime: ${info.runtime} ${info.runtime_version} - Target: ${info.target}`,
    );
    return 0;
  },
};
