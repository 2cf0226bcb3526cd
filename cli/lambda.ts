import type { Command } from "./_command.ts";
import { CONFIG_FLAG, loadOrReport } from "./_context.ts";
import { runtime } from "../src/runtime/mod.ts";
import { createLogger } from "../src/log/mod.ts";
import { configDefaults, scrubbedEnvLines } from "../src/config/mod.ts";
import {
  lambdaAgentConfig,
  lambdaSettings,
  resolveSecrets,
  runExtension,
} from "../src/serverless/mod.ts";

/** Where a Lambda function's own files are: a `datadog.yaml` there configures the extension. */
const TASK_CONFIG = "/var/task/datadog.yaml";

/** Lambda lets an extension write under /tmp only. */
const LAMBDA_RUN_PATH = "/tmp/outpost";

export const lambda: Command = {
  name: "lambda",
  usage: [
    "outpost lambda [-c FILE]",
    "",
    "  -c, --config FILE   config file (default: /var/task/datadog.yaml when it exists)",
    "",
    "Runs as an AWS Lambda extension: registers with the Runtime API at AWS_LAMBDA_RUNTIME_API,",
    "flushes metrics, traces and logs per invocation, and stops on SHUTDOWN. Started from",
    "/opt/extensions/<name>, outpost runs this mode by itself.",
  ].join("\n"),
  flags: { ...CONFIG_FLAG },
  async main(values) {
    const load = (env: Record<string, string | undefined>) =>
      loadOrReport({
        path: values.config as string | undefined,
        searchPaths: [TASK_CONFIG],
        // datadog-lambda-js stamps every distribution with `|T`; like the Datadog serverless
        // agent, which has no no-aggregation pipeline, timestamped samples go to their time's
        // bucket.
        defaults: { run_path: LAMBDA_RUN_PATH, dogstatsd_no_aggregation_pipeline: false },
        env,
      });
    // A config it cannot use must not fail the function's init (an extension that exits there
    // does): its problems are printed, and the extension registers and idles on the defaults.
    const loaded = await load(process.env);
    const { config, file } = loaded ??
      { config: { ...configDefaults(), run_path: LAMBDA_RUN_PATH }, file: null };
    const logger = createLogger({ level: config.log_level, console: true });
    const log = logger.for("lambda");
    for (const w of loaded?.warnings ?? []) log.warn(w);
    // The Datadog serverless agent's dump, scrubbed: what support asks for first.
    for (const line of scrubbedEnvLines(process.env)) log.debug(`Environment: ${line}`);
    let settings;
    try {
      settings = lambdaSettings(config, process.env, process.execPath);
    } catch (e) {
      log.error((e as Error).message);
      return 1;
    }
    // SHUTDOWN is how Lambda stops an extension; a signal is how a person running it does.
    const { promise: stopRequested, resolve: onSignal } = Promise.withResolvers<string>();
    const offs = (["SIGTERM", "SIGINT"] as const).map((s) =>
      runtime.onSignal(s, () => onSignal(`Received ${s}`))
    );
    const code = await runExtension({
      runtime,
      settings,
      logger,
      stopRequested,
      service: process.env.DD_SERVICE?.trim() || undefined,
      idleReason: loaded ? undefined : "The config cannot be used (the lines above say why)",
      resolveSecrets: () => resolveSecrets(runtime, process.env),
      // The pipeline only (no checks, API, expvar or host metadata: the Datadog serverless
      // agent runs none either), loaded once there is a key to send with.
      buildAgent: async (secrets) => {
        // The resolved DD_ variables are read as if set in the environment.
        const withSecrets = Object.keys(secrets).length
          ? await load({ ...process.env, ...secrets })
          : loaded;
        if (!withSecrets) throw new Error("the config with the resolved secrets is invalid");
        return (await import("../src/agent.ts")).buildAgent({
          runtime,
          config: lambdaAgentConfig(withSecrets.config, settings),
          configFile: file,
          logger,
          lambda: true,
        });
      },
    });
    for (const off of offs) off();
    return code;
  },
};
