import type { Command } from "./_command.ts";
import { CONFIG_FLAG, loadOrReport } from "./_context.ts";
import { runtime } from "../src/runtime/mod.ts";
import { createLogger } from "../src/log/mod.ts";
import { buildAgent } from "../src/agent.ts";
import type { IntakeComponent } from "../src/intake/mod.ts";
import type { Built } from "../src/component.ts";
import { BUILD } from "../src/version.ts";
import { DEV_RUN_PATH } from "../src/api/mod.ts";

export const run: Command = {
  name: "run",
  usage: [
    "outpost run [-c FILE] [--dev]",
    "",
    "  -c, --config FILE   config file (default: /etc/outpost/datadog.yaml, then ./datadog.yaml)",
    "  --dev               run without an API key, keeping state under ./.outpost; with no",
    "                      api_key and no dd_url, send to an embedded local intake",
  ].join("\n"),
  flags: { ...CONFIG_FLAG, dev: { type: "boolean" } },
  async main(values) {
    const dev = values.dev === true;
    const loaded = await loadOrReport({
      path: values.config as string | undefined,
      defaults: dev ? { run_path: DEV_RUN_PATH } : {},
    });
    if (!loaded) return 1;
    let { config } = loaded;
    const { file } = loaded;
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

    // Signals are caught from here on: one that arrives while the agent starts stops it as soon
    // as the start is done, instead of killing the process half-way.
    const { promise: signalled, resolve: onSignal } = Promise.withResolvers<string>();
    const offs = (["SIGTERM", "SIGINT"] as const).map((s) =>
      runtime.onSignal(s, () => onSignal(s))
    );
    let agent;
    let intake: Built<IntakeComponent> | undefined;
    try {
      if (dev) {
        // Loaded only in --dev: an agent that sends to Datadog never pays for the intake.
        const { buildIntake, intakeSettings, pointAtIntake, wantsDevIntake } = await import(
          "../src/intake/mod.ts"
        );
        if (wantsDevIntake(config)) {
          intake = buildIntake(intakeSettings(config), { runtime });
          await intake.component.start();
          const { url } = intake.component;
          config = pointAtIntake(config, url);
          log.info(
            `Sending to the embedded local intake at ${url}: curl ${url}/outpost/intake/stats`,
          );
        }
      }
      agent = await buildAgent({ runtime, config, configFile: file, logger, intake });
      await agent.start();
    } catch (e) {
      log.error((e as Error).message);
      await intake?.component.stop();
      for (const off of offs) off();
      return 1;
    }
    log.info(
      `Outpost ${BUILD.version} started on ${runtime.name} ${runtime.version} (config: ${
        file ?? "none"
      }, API on ${config.cmd_host}:${config.cmd_port})`,
    );

    const reason = await Promise.race([
      signalled.then((s) => `Received ${s}`),
      agent.stopRequested.then(() => "Asked to stop through the API"),
    ]);
    log.info(`${reason}, stopping`);
    await agent.stop();
    for (const off of offs) off();
    log.info("Stopped");
    return 0;
  },
};
