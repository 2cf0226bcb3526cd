import type { Command } from "./_command.ts";
import { CONFIG_FLAG, loadOrReport } from "./_context.ts";
import { withAgent } from "./_agent.ts";
import { MAX_CAPTURE_SECONDS } from "../src/dogstatsd/mod.ts";

export const dogstatsdCapture: Command = {
  name: "dogstatsd-capture",
  usage: [
    "outpost dogstatsd-capture [-c FILE] [-d SECONDS] [--json]",
    "",
    "  Has the running agent write every DogStatsD datagram it receives, as received and with",
    "  its arrival time, to a capture file under <run_path>/dsd_capture, for SECONDS; prints",
    "  the file's path when it is complete. Replay it with 'outpost dogstatsd-replay'.",
    "",
    "  -c, --config FILE     config file (default: /etc/outpost/datadog.yaml, then ./datadog.yaml)",
    `  -d, --duration SEC    how long to capture (default: 60, at most ${MAX_CAPTURE_SECONDS})`,
    "  --json                print the path, datagram and byte counts as JSON",
  ].join("\n"),
  flags: { ...CONFIG_FLAG, duration: { type: "string", short: "d" }, json: { type: "boolean" } },
  async main(values) {
    const duration = Number(values.duration ?? 60);
    if (!Number.isFinite(duration) || duration <= 0 || duration > MAX_CAPTURE_SECONDS) {
      console.error(
        `Cannot use --duration ${values.duration}: expected seconds, more than 0 and at most ${MAX_CAPTURE_SECONDS}`,
      );
      return 2;
    }
    const loaded = await loadOrReport({ path: values.config as string | undefined });
    if (!loaded) return 1;
    return await withAgent(loaded, async (client) => {
      if (!values.json) console.error(`Capturing DogStatsD traffic for ${duration} s…`);
      const done = await client.dogstatsdCapture(duration);
      if (values.json) console.log(JSON.stringify(done, null, 2));
      else {
        console.log(
          `Capture completed: ${done.datagrams} datagrams (${done.bytes} bytes) in ${done.path}`,
        );
      }
      return 0;
    });
  },
};
