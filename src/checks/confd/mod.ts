/**
 * conf.d: reads check configuration files the way the Datadog Agent does and gives each
 * instance the ID the agent would give it.
 *
 * {@linkcode loadConfd} walks each path in order (sync; a path that does not exist gives
 * nothing):
 * - `<name>.d/` directories, one level deep: every `*.yaml` / `*.yml` inside is one config of
 *   check `<name>`; sub-directories inside are not read, and root directories whose name does
 *   not end in `.d` are skipped;
 * - `<name>.yaml` / `<name>.yml` files at the root;
 * - `*.yaml.default` / `*.yml.default`: used only when no other (non-default, not logs-only)
 *   config of that check exists in any path;
 * - skipped: `auto_conf.yaml`, `metrics.yaml` / `metrics.yml`, other extensions, empty files.
 *
 * `defaults` (the binary's shipped defaults) behave as
 * `<first confd path>/<name>.d/conf.yaml.default`, with source
 * `builtin:<name>.d/conf.yaml.default`. A real file at that path replaces the built-in one, so
 * an **empty** `conf.d/cpu.d/conf.yaml.default` disables the built-in cpu check.
 *
 * Failures land in `errors[<check name>]` (unparsable YAML with line and column, no
 * `instances`/`logs`/`jmx_metrics`, `docker_images`, wrongly typed common keys, unreadable
 * files); a bad instance is reported by its index while the file's other instances still load.
 * `%%env_NAME%%` in string values is replaced from `env` (unset: empty string).
 *
 * IDs follow the agent's `BuildID`: a MurmurHash3 digest of the whole file, then FNV-1 64 of the
 * digest, the instance and init_config, each re-serialized with a yaml.v2-compatible emitter
 * ({@linkcode emitYamlV2}; what it does not guarantee is listed in `_yaml_v2.ts`).
 *
 * @example Load a directory with one custom check
 * ```ts
 * import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { loadConfd } from "./mod.ts";
 *
 * const dir = mkdtempSync(join(tmpdir(), "confd-example-"));
 * try {
 *   mkdirSync(join(dir, "my_check.d"));
 *   writeFileSync(join(dir, "my_check.d", "conf.yaml"), "instances:\n  - host: localhost\n    port: 8080\n");
 *   const { configs } = loadConfd({ confdPaths: [dir], defaults: [], env: {} });
 *   console.log(configs[0].instances[0].id); // "my_check:7e1c1cb91fde7f9f"
 * } finally {
 *   rmSync(dir, { recursive: true, force: true });
 * }
 * ```
 *
 * @module
 */
export { type ConfdOptions, loadConfd } from "./_load.ts";
export { buildCheckId, configDigest, digestHex, type DigestInput } from "./_id.ts";
export { emitYamlV2, formatGoFloat, GoFloat, resolvePlain, type V2Value } from "./_yaml_v2.ts";
export { fnv1_64, murmur3x64_128 } from "./_hash.ts";
