import type { Command } from "./_command.ts";
import { CONFIG_FLAG, loadOrReport } from "./_context.ts";
import { runtime } from "../src/runtime/mod.ts";
import { createLogger } from "../src/log/mod.ts";
import { buildAgent } from "../src/agent.ts";
import { BUILD } from "../src/version.ts";

/** Where `--dev` keeps its state when `run_path` is not configured: beside the working directory. */
const DEV_RUN_PATH = ".outpost/run";

export const run: Command = {
  name: "run",
  summary: "Start the agent",
  usage: [
    "outpost run [-c FILE] [--dev]",
    "",
    "  -c, --config FILE   config file (default: /etc/outpost/datadog.yaml, then ./datadog.yaml)",
    "  --dev               run without an API key, keeping state under ./.outpost",
  ].join("\n"),
  flags: { ...CONFIG_FLAG, dev: { type: "boolean" } },
  async main(values) {
    const dev = values.dev === true;
    const loaded = await loadOrReport({
      path: values.config as string | undefined,
      defaults: dev ? { run_path: DEV_RUN_PATH } : {},
    });
    if (!loaded) return 1;
    const { config, file } = loaded;
    const logger = createLogger({
      level: config.log_level,
      file: config.log_file,
      maxSize: config.log_file_max_size,
      maxRolls: config.log_file_max_rolls,
      console: config.log_to_console,
    });
    const log = logger.for("run");
    if (BUILD.broken) {
      log.error("This build was made with --broken for rollback tests: exiting");
      return 1;
    }
    for (const w of loaded.warnings) log.warn(w);
    if (!dev && !config.api_key) {
      log.error(
        "No API key configured: set api_key in datadog.yaml or DD_API_KEY (or use --dev), exiting",
      );
      return 1;
    }

    let agent;
    try {
      agent = buildAgent({ runtime, config, configFile: file, logger });
      await agent.start();
    } catch (e) {
      log.error((e as Error).message);
      return 1;
    }
    log.info(
      `Outpost ${BUILD.version} started on ${runtime.name} ${runtime.version} (config: ${
        file ?? "none"
      }, API on ${config.cmd_host}:${config.cmd_port})`,
    );

    const offs = (["SIGTERM", "SIGINT"] as const).map((s) =>
      runtime.onSignal(s, () => {
        log.info(`Received ${s}, stopping`);
        agent.requestStop();
      })
    );
    await agent.stopRequested;
    await agent.stop();
    for (const off of offs) off();
    log.info("Stopped");
    return 0;
  },
};
