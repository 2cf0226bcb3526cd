/** Shared by the Lambda-mode integration tests: an agent config on free ports and a local intake. */
import * as outpost from "../../mod.ts";
import { freePort, freeUdpPort } from "../../scripts/bench/_agent.ts";
import { tempDir } from "../_temp.ts";

const { buildIntake, configDefaults, intakeSettings, runtime } = outpost;

/** An agent config for the Lambda mode on free ports (point it at an intake with `pointAtIntake`). */
export async function lambdaConfig(apiKey: string) {
  return {
    ...configDefaults(),
    api_key: apiKey,
    run_path: tempDir("outpost-lambda-"),
    hostname: "lambda-test",
    cmd_port: 0,
    expvar_port: 0,
    dogstatsd_port: await freeUdpPort(),
    serverless_daemon_port: await freePort(),
    serverless_telemetry_port: 0,
    apm_config: { ...configDefaults().apm_config, receiver_port: 0 },
  };
}

/** Runs `fn` with the URL of a local intake started for it. */
export async function withIntake<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const config = { ...configDefaults(), run_path: tempDir("outpost-lambda-intake-") };
  const intake = buildIntake(intakeSettings(config), { runtime });
  await intake.component.start();
  try {
    return await fn(intake.component.url);
  } finally {
    await intake.component.stop();
  }
}
