import type { Command } from "./_command.ts";
import { CONFIG_FLAG, loadOrReport } from "./_context.ts";
import { runtime } from "../src/runtime/mod.ts";
import { diagnose as runDiagnosis, renderDiagnosis } from "../src/diagnose/mod.ts";
import { OutpostError } from "../src/errors.ts";

export const diagnose: Command = {
  name: "diagnose",
  usage: [
    "outpost diagnose [-c FILE] [--json]",
    "",
    "  Checks, from this host and with this config, every intake endpoint of every enabled",
    "  pipeline (metrics, traces, logs): connectivity and API key validation, the proxy and",
    "  TLS in use, the clock skew against the intake; and the free disk of run_path. Needs no",
    "  running agent. Exits 1 when any check fails.",
    "",
    "  -c, --config FILE   config file (default: /etc/outpost/datadog.yaml, then ./datadog.yaml)",
    "  --json              print the checks as JSON",
  ].join("\n"),
  flags: { ...CONFIG_FLAG, json: { type: "boolean" } },
  async main(values) {
    const loaded = await loadOrReport({ path: values.config as string | undefined });
    if (!loaded) return 1;
    let d;
    try {
      d = await runDiagnosis(runtime, loaded.config, process.env);
    } catch (e) {
      // A bad proxy or CA bundle setting: the message names the key.
      if (!(e instanceof OutpostError)) throw e;
      console.error(e.message);
      return 1;
    }
    if (values.json) console.log(JSON.stringify(d, null, 2));
    else process.stdout.write(renderDiagnosis(d));
    return d.ok ? 0 : 1;
  },
};
