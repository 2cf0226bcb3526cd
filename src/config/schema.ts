/**
 * The configuration schema: the Datadog Agent's `datadog.yaml` keys that outpost uses, with
 * their defaults, one file per component under `keys/`. Every key also gets a `DD_*`
 * environment binding (see `_env.ts`), so adding a key is the whole job of making it
 * configurable.
 *
 * @module
 */
import * as v from "valibot";
import { coreKeys } from "./keys/core.ts";
import { dogstatsdKeys } from "./keys/dogstatsd.ts";
import { aggregatorKeys } from "./keys/aggregator.ts";
import { serializerKeys } from "./keys/serializer.ts";
import { forwarderKeys } from "./keys/forwarder.ts";
import { statusKeys } from "./keys/status.ts";
import { flareKeys } from "./keys/flare.ts";
import { fleetKeys } from "./keys/fleet.ts";
import { intakeKeys } from "./keys/intake.ts";
import { checksKeys } from "./keys/checks.ts";
import { apmKeys } from "./keys/apm.ts";
import { logsKeys } from "./keys/logs.ts";
import { serverlessKeys } from "./keys/serverless.ts";

export { LOG_LEVELS } from "./keys/core.ts";

/** The schema of the whole configuration. */
export const configSchema = v.object({
  ...coreKeys,
  ...dogstatsdKeys,
  ...aggregatorKeys,
  ...serializerKeys,
  ...forwarderKeys,
  ...statusKeys,
  ...flareKeys,
  ...fleetKeys,
  ...intakeKeys,
  ...checksKeys,
  ...apmKeys,
  ...logsKeys,
  ...serverlessKeys,
});

/** The validated configuration, every default applied. */
export type Config = v.InferOutput<typeof configSchema>;

let defaults: Readonly<Config> | undefined;

/**
 * The configuration with every key at its default, the one place defaults are written being
 * the schema: a component built without a config takes its settings from here.
 */
export function configDefaults(): Readonly<Config> {
  return defaults ??= Object.freeze(v.parse(configSchema, {}));
}

/** The configuration as a file or the environment may give it, before validation. */
export type RawConfig = Record<string, unknown>;
