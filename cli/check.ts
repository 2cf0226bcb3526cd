import type { Command } from "./_command.ts";
import { CONFIG_FLAG, loadOrReport } from "./_context.ts";
import { runtime } from "../src/runtime/mod.ts";
import { createLogger } from "../src/log/mod.ts";
import { createHttpClient, httpSettings } from "../src/http/mod.ts";
import { resolveHostname } from "../src/metadata/mod.ts";
import { COLOR, PLAIN } from "../src/status/mod.ts";
import { checksSettings, runCheckCommand } from "../src/checks/mod.ts";
import { defaultLoaders, loadConfigs } from "../src/checks/_wiring.ts";

/** A non-negative integer flag, or a usage error message. */
function count(v: unknown, flag: string, fallback: number): number | string {
  if (v === undefined) return fallback;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0
    ? n
    : `Cannot parse flag --${flag}: expected an integer >= 0`;
}

export const check: Command = {
  name: "check",
  usage: [
    "outpost check NAME [-c FILE] [-r] [-t N] [--pause MS] [-d MS] [--json]",
    "",
    "  Runs the instances of one check in this process (nothing is sent, no port is bound)",
    "  and prints what they submitted and their stats. Exits 1 when no instance ran or a run failed.",
    "",
    "  -c, --config FILE     config file (default: /etc/outpost/datadog.yaml, then ./datadog.yaml)",
    "  -r, --check-rate      run twice, a second apart (rates need two runs)",
    "  -t, --check-times N   number of runs (default 1); --times N is the same",
    "  --pause MS            pause between runs, in ms (default 0)",
    "  -d, --delay MS        wait before reading the aggregated metrics, in ms (default 100)",
    "  --json                print JSON",
  ].join("\n"),
  flags: {
    ...CONFIG_FLAG,
    "check-rate": { type: "boolean", short: "r" },
    "check-times": { type: "string", short: "t" },
    times: { type: "string" },
    pause: { type: "string" },
    delay: { type: "string", short: "d" },
    json: { type: "boolean" },
  },
  positionals: true,
  async main(values, positionals) {
    if (positionals.length !== 1) {
      console.error(`Expected one check name, got ${positionals.length}`);
      return 2;
    }
    if (values["check-times"] !== undefined && values.times !== undefined) {
      console.error("Give --check-times or --times, not both");
      return 2;
    }
    const times = values.times !== undefined
      ? count(values.times, "times", 1)
      : count(values["check-times"], "check-times", 1);
    const pause = count(values.pause, "pause", 0);
    const delay = count(values.delay, "delay", 100);
    for (const v of [times, pause, delay]) {
      if (typeof v === "string") {
        console.error(v);
        return 2;
      }
    }
    const loaded = await loadOrReport({ path: values.config as string | undefined });
    if (!loaded) return 1;
    const { config, file } = loaded;
    // Logs go to stderr only: the output on stdout stays parseable.
    const logger = createLogger({ level: config.log_level, console: true });
    const hostname = (await resolveHostname(runtime, config)).hostname;
    const settings = checksSettings(config, file);
    const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
    return await runCheckCommand({
      name: positionals[0],
      settings,
      runtime,
      config,
      logger,
      http: createHttpClient(runtime, httpSettings(config, process.env)),
      hostname,
      loaders: defaultLoaders(),
      loadConfigs: () => loadConfigs(settings),
      times: times as number,
      checkRate: values["check-rate"] === true,
      pauseMs: pause as number,
      delayMs: delay as number,
      json: values.json === true,
      style: color ? COLOR : PLAIN,
    });
  },
};
