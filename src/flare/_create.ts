/**
 * Builds a whole flare: profiles first (they take seconds), then every provider, then the
 * profiles are scrubbed with every secret value learned meanwhile, then the zip.
 *
 * @module
 */
import type { Runtime } from "../runtime/types.ts";
import { KnownSecrets, MASK, scrubObject, type ScrubOptions } from "../config/scrub.ts";
import { FlareBuilder } from "./_builder.ts";
import { type FlareContext, flareProviders } from "./_providers.ts";

/** Options of {@linkcode createFlare}. */
export interface CreateFlareOptions extends FlareContext {
  runtime: Runtime;
  /**
   * The host name resolved as the agent resolves it (`hostname`, `hostname_file`, FQDN, OS):
   * the archive's root folder. @default `hostname`, else the OS name
   */
  hostname?: string;
  /** Why the flare is built without the running agent (writes the `local` marker). */
  localReason?: string;
  /** Seconds of CPU profile; 0 takes no profiles. @default 0 */
  profileSeconds?: number;
  /** Per-provider timeout in ms. @default `flare_provider_timeout` seconds */
  providerTimeoutMs?: number;
  /** Called with a short line as each step starts (the CLI shows it on a TTY). */
  onProgress?: (msg: string) => void;
  /** Where the zip goes. @default the OS temp directory */
  outDir?: string;
  /** @default Date.now */
  now?: () => number;
}

/**
 * Builds the flare and returns the zip's path.
 *
 * @example A flare of the config alone
 * ```ts
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { createFlare } from "./_create.ts";
 * import { runtime } from "../runtime/mod.ts";
 * import { loadConfig } from "../config/mod.ts";
 * const { config, file } = await loadConfig(runtime, { searchPaths: [] });
 * const outDir = mkdtempSync(join(tmpdir(), "flare-"));
 * const zip = await createFlare({
 *   runtime, config, configFile: file, env: {}, sources: {}, outDir,
 *   localReason: "local flare was requested",
 * });
 * console.log(zip); // <outDir>/outpost-flare-<host>-<time>.zip
 * rmSync(outDir, { recursive: true });
 * ```
 */
export async function createFlare(options: CreateFlareOptions): Promise<string> {
  const { runtime, config, profileSeconds = 0, onProgress } = options;
  const scrub = { extraKeys: config.flare_stripped_keys };
  const fb = FlareBuilder.create({
    hostname: options.hostname || config.hostname || safeHostname(runtime),
    localReason: options.localReason,
    scrub,
    known: knownSecrets(options, scrub),
    outDir: options.outDir,
    now: options.now,
  });
  try {
    let taken: Profile[] = [];
    if (profileSeconds <= 0) {
      fb.log("profiles: not requested (outpost flare --profile SECONDS)");
    } else if (options.localReason !== undefined) {
      fb.log("profiles: skipped, a local flare runs outside the agent and cannot profile it");
    } else {
      taken = await profiles(fb, runtime, profileSeconds, onProgress);
    }
    const timeoutMs = options.providerTimeoutMs ?? config.flare_provider_timeout * 1000;
    await fb.runProviders(flareProviders(options), { timeoutMs, onProgress });
    if (taken.length > 0) onProgress?.("scrubbing the profiles");
    for (const p of taken) {
      try {
        const text = typeof p.data === "string" ? p.data : new TextDecoder().decode(p.data);
        fb.writer.add(`profiles/${p.name}`, text);
        fb.log(`profiles: added ${p.name} (${runtime.name} ${runtime.version}${p.detail})`);
      } catch (e) {
        fb.log(`profiles: ${p.name} left out on ${runtime.name}: ${(e as Error).message}`);
      }
    }
    onProgress?.("writing the archive");
    return fb.save();
  } catch (e) {
    fb.discard();
    throw e;
  }
}

// The shell's working directories: named like a password (`pwd`), they are paths.
const SHELL_DIRS = new Set(["PWD", "OLDPWD"]);

/**
 * The secrets known by value before any file is read: every value the scrubber masks in the
 * config and in the environment (a `DD_*` variable scrubbed as the key it sets, any other as
 * its own name), and the API's auth token.
 */
export function knownSecrets(
  ctx: Pick<FlareContext, "config" | "env" | "authToken">,
  options: ScrubOptions = {},
): KnownSecrets {
  const known = new KnownSecrets();
  scrubObject(ctx.config, { ...options, known });
  for (const [name, value] of Object.entries(ctx.env)) {
    if (value === undefined || SHELL_DIRS.has(name)) continue;
    scrubObject({ [name.replace(/^DD_/, "").toLowerCase()]: value }, { ...options, known });
  }
  if (ctx.authToken) known.add(ctx.authToken, MASK);
  return known;
}

function safeHostname(runtime: Runtime): string {
  try {
    return runtime.hostname();
  } catch {
    return "";
  }
}

/** A profile taken, waiting for the secrets the providers learn. */
interface Profile {
  name: string;
  data: Uint8Array | string;
  /** Said in the creation log after the runtime. */
  detail: string;
}

/**
 * Heap, CPU for `seconds`, heap again: the order that shows what grew while busy. Heap
 * snapshots hold every string in memory; they are scrubbed by their strings when added.
 */
async function profiles(
  fb: FlareBuilder,
  runtime: Runtime,
  seconds: number,
  onProgress?: (msg: string) => void,
): Promise<Profile[]> {
  const steps: Array<[string, () => Promise<Uint8Array | string>]> = [
    ["core-1st-heap.heapsnapshot", () => runtime.heapSnapshot()],
    ["core-cpu.cpuprofile", () => runtime.cpuProfile(seconds)],
    ["core-2nd-heap.heapsnapshot", () => runtime.heapSnapshot()],
  ];
  const taken: Profile[] = [];
  for (const [name, take] of steps) {
    onProgress?.(`profiling: ${name}${name.includes("cpu") ? ` (${seconds} s)` : ""}`);
    try {
      const data = await take();
      // An idle process gives a CPU profile with few or no samples; say so rather than hide it.
      const detail = typeof data === "string"
        ? `, ${JSON.parse(data).samples?.length ?? 0} samples`
        : "";
      taken.push({ name, data, detail });
    } catch (e) {
      fb.log(`profiles: ${name} left out on ${runtime.name}: ${(e as Error).message}`);
    }
  }
  return taken;
}
