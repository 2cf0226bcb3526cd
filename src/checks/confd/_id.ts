/**
 * Check IDs as the Datadog Agent builds them (`BuildID` over the config's `FastDigest`).
 *
 * @module
 */
import { fnv1_64, murmur3x64_128 } from "./_hash.ts";

/** The parts of one config file that its digest covers. */
export interface DigestInput {
  name: string;
  /** Each instance re-serialized as yaml.v2 does, in file order. */
  instances: readonly string[];
  /** `""` when init_config is null or absent. */
  initConfig: string;
  /** `logs:` re-serialized as `{logs: …}`; `""` when absent. */
  logs?: string;
  adIdentifiers?: readonly string[];
  ignoreAutodiscoveryTags?: boolean;
}

/**
 * The config digest: the first 64-bit half of MurmurHash3 x64_128 (seed 0) over the name, the
 * instances, init_config, the AD identifiers, the (empty) node name, the logs config, the
 * (empty) service ID and `true`/`false` for `ignore_autodiscovery_tags`.
 */
export function configDigest(input: DigestInput): bigint {
  const parts = [
    input.name,
    ...input.instances,
    input.initConfig,
    ...(input.adIdentifiers ?? []),
    "", // node name: set only for cluster endpoint checks
    input.logs ?? "",
    "", // service ID: set only for resolved autodiscovery templates
    String(input.ignoreAutodiscoveryTags ?? false),
  ];
  return murmur3x64_128(parts.join(""))[0];
}

/**
 * The ID of one instance: `<check>:[<instance name>:]<hex>`, the hex being FNV-1 64 of the
 * digest (8 bytes, big-endian), the instance bytes and the init_config bytes, unpadded.
 *
 * @example The Datadog Agent's ID for the default cpu config
 * ```ts
 * import { buildCheckId, configDigest } from "./_id.ts";
 * const digest = configDigest({ name: "cpu", instances: ["{}\n"], initConfig: "" });
 * console.log(buildCheckId("cpu", digest, "{}\n", "")); // "cpu:e331d61ed1323219"
 * ```
 */
export function buildCheckId(
  checkName: string,
  digest: bigint,
  instance: string,
  initConfig: string,
  instanceName?: string,
): string {
  const head = new Uint8Array(8);
  new DataView(head.buffer).setBigUint64(0, digest);
  const body = new TextEncoder().encode(instance + initConfig);
  const bytes = new Uint8Array(8 + body.length);
  bytes.set(head);
  bytes.set(body, 8);
  const hex = fnv1_64(bytes).toString(16);
  return instanceName ? `${checkName}:${instanceName}:${hex}` : `${checkName}:${hex}`;
}

/** A digest as the 16 hex digits `CheckConfig.digest` holds. */
export function digestHex(digest: bigint): string {
  return digest.toString(16).padStart(16, "0");
}
