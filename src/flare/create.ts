/**
 * Builds a whole flare: profiles first (they take seconds and are not scrubbed), then every
 * provider, then the zip.
 *
 * @module
 */
import type { Runtime } from "../runtime/types.ts";
import type { Config } from "../config/mod.ts";
import { MASK, scrubObject, type ScrubOptions, scrubText } from "../config/scrub.ts";
import { FlareBuilder, type FlareWriter } from "./builder.ts";
import { type FlareContext, flareProviders } from "./providers.ts";

/** Options of {@linkcode createFlare}. */
export interface CreateFlareOptions extends FlareContext {
  runtime: Runtime;
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
 * import { createFlare } from "./create.ts";
 * import { runtime } from "../runtime/mod.ts";
 * import { loadConfig } from "../config/mod.ts";
 * const { config, file } = await loadConfig(runtime, { searchPaths: [] });
 * const zip = await createFlare({ runtime, config, configFile: file, env: {}, sources: {}, localReason: "local flare was requested" });
 * console.log(zip); // /tmp/outpost-flare-<host>-<time>.zip
 * ```
 */
export async function createFlare(options: CreateFlareOptions): Promise<string> {
  const { runtime, config, profileSeconds = 0, onProgress } = options;
  const fb = FlareBuilder.create({
    hostname: config.hostname || safeHostname(runtime),
    localReason: options.localReason,
    scrub: { extraKeys: config.flare_stripped_keys },
    outDir: options.outDir,
    now: options.now,
  });
  try {
    if (profileSeconds <= 0) {
      fb.log("profiles: not requested (outpost flare --profile SECONDS)");
    } else if (options.localReason !== undefined) {
      fb.log("profiles: skipped, a local flare runs outside the agent and cannot profile it");
    } else {
      await profiles(fb.writer, runtime, config, profileSeconds, onProgress);
    }
    const timeoutMs = options.providerTimeoutMs ?? config.flare_provider_timeout * 1000;
    await fb.runProviders(flareProviders(options), { timeoutMs, onProgress });
    onProgress?.("writing the archive");
    return fb.save();
  } catch (e) {
    fb.discard();
    throw e;
  }
}

function safeHostname(runtime: Runtime): string {
  try {
    return runtime.hostname();
  } catch {
    return "";
  }
}

/**
 * The config's secrets, each with what it becomes: every value the scrubber changes, mapped
 * to its scrubbed form (API keys keep their tails). Values under 4 characters are left out;
 * masking them everywhere would mask ordinary text.
 */
export function configSecrets(config: unknown, options: ScrubOptions = {}): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (raw: unknown, scrubbed: unknown) => {
    if (typeof raw === "string" || typeof raw === "number") {
      const s = String(raw);
      if (s.length < 4 || s === String(scrubbed)) return;
      out.set(s, String(scrubbed));
      // A URL's password also lives in memory on its own once the URL is parsed.
      const password = URL.canParse(s) ? decodeURIComponent(new URL(s).password) : "";
      if (password.length >= 4) out.set(password, MASK);
    } else if (raw && typeof raw === "object" && scrubbed && typeof scrubbed === "object") {
      const b = Object.values(scrubbed);
      Object.values(raw).forEach((x, i) => walk(x, b[i]));
    }
  };
  walk(config, scrubObject(config, options));
  return out;
}

/**
 * Scrubs every string of a heap snapshot (V8 format: the text lives in its `strings` table).
 * A heap snapshot holds every string in memory, the API key and the config text among them:
 * each one has `secrets` replaced by their scrubbed forms, then goes through the text scrubber. Throws when the data is
 * not a heap snapshot, so that it is left out rather than sent as is.
 */
export function scrubHeapSnapshot(
  data: Uint8Array | string,
  secrets: Map<string, string>,
  options: ScrubOptions = {},
): string {
  const snapshot = JSON.parse(typeof data === "string" ? data : new TextDecoder().decode(data));
  if (!Array.isArray(snapshot?.strings)) throw new Error("no strings table in the heap snapshot");
  snapshot.strings = snapshot.strings.map((s: unknown) => {
    if (typeof s !== "string") return s;
    let out = s;
    for (const [secret, scrubbed] of secrets) out = out.replaceAll(secret, scrubbed);
    return scrubText(out, options);
  });
  return JSON.stringify(snapshot);
}

/**
 * Heap, CPU for `seconds`, heap again: the order that shows what grew while busy. Heap
 * snapshots have their strings scrubbed; the CPU profile holds code locations only.
 */
async function profiles(
  w: FlareWriter,
  runtime: Runtime,
  config: Config,
  seconds: number,
  onProgress?: (msg: string) => void,
): Promise<void> {
  const scrub: ScrubOptions = { extraKeys: config.flare_stripped_keys, flare: true };
  const secrets = configSecrets(config, scrub);
  const steps: Array<[string, () => Promise<Uint8Array | string>]> = [
    ["core-1st-heap.heapsnapshot", () => runtime.heapSnapshot()],
    ["core-cpu.cpuprofile", () => runtime.cpuProfile(seconds)],
    ["core-2nd-heap.heapsnapshot", () => runtime.heapSnapshot()],
  ];
  for (const [name, take] of steps) {
    onProgress?.(`profiling: ${name}${name.includes("cpu") ? ` (${seconds} s)` : ""}`);
    try {
      let data = await take();
      if (name.endsWith(".heapsnapshot")) data = scrubHeapSnapshot(data, secrets, scrub);
      w.addUnscrubbed(`profiles/${name}`, data);
      // An idle process gives a CPU profile with few or no samples; say so rather than hide it.
      const detail = typeof data === "string"
        ? `, ${JSON.parse(data).samples?.length ?? 0} samples`
        : "";
      w.log(`profiles: added ${name} (${runtime.name} ${runtime.version}${detail})`);
    } catch (e) {
      w.log(`profiles: ${name} left out on ${runtime.name}: ${(e as Error).message}`);
    }
  }
}
