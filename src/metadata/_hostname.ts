/**
 * Hostname resolution, in the Datadog Agent's order: the `hostname` key, the `hostname_file`,
 * the FQDN when `hostname_fqdn` is set, then the operating system. Each candidate is validated;
 * a rejected one is recorded with its reason and the next provider is tried.
 */
import { readFileSync } from "node:fs";
import type { Runtime } from "../runtime/types.ts";

/** The settings hostname resolution reads. */
export interface HostnameSettings {
  hostname: string;
  hostname_file: string;
  hostname_fqdn: boolean;
}

/** The provider names the Datadog Agent reports in `hostnameStats`. */
export type HostnameProvider = "configuration" | "hostnameFile" | "fqdn" | "os";

/** The resolved hostname and where it came from. */
export interface HostnameInfo {
  /** The hostname, or `"unknown"` when every provider failed. */
  hostname: string;
  /** The provider that gave it, or `"unknown"` when none did (the Datadog Agent's fallback). */
  provider: HostnameProvider | "unknown";
  /** The OS hostname (`socket-hostname` in host metadata). */
  osHostname: string;
  /** The FQDN when it could be read, else the OS hostname (`socket-fqdn`). */
  fqdn: string;
  /**
   * Settles once `fqdn` is final. Unless `hostname_fqdn` needs it to choose the hostname,
   * `hostname -f` (a process, and a DNS lookup) runs while the agent starts, not before.
   */
  fqdnRead?: Promise<void>;
  /** Why skipped providers were rejected, by provider. */
  errors: Partial<Record<HostnameProvider, string>>;
}

const LOCAL_NAMES = new Set([
  "localhost",
  "localhost.localdomain",
  "localhost6.localdomain6",
  "ip6-localhost",
]);
const RFC1123 =
  /^(?=.{1,255}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** Why `name` cannot be a hostname, or null when it can. */
export function hostnameProblem(name: string): string | null {
  if (name === "") return "empty";
  if (LOCAL_NAMES.has(name.toLowerCase())) return `"${name}" is a local name`;
  if (!RFC1123.test(name)) return `"${name}" is not a valid RFC 1123 host name`;
  return null;
}

/**
 * Resolves the agent's hostname; never throws.
 *
 * @example
 * ```ts
 * import { resolveHostname } from "./_hostname.ts";
 * import { runtime } from "../runtime/mod.ts";
 * const info = await resolveHostname(runtime, { hostname: "edge-1", hostname_file: "", hostname_fqdn: false });
 * console.log(info.hostname, info.provider); // edge-1 configuration
 * ```
 */
export async function resolveHostname(
  runtime: Runtime,
  settings: HostnameSettings,
): Promise<HostnameInfo> {
  const osHostname = safe(() => runtime.hostname()) ?? "";
  const reading = readFqdn(runtime);
  const fqdn = settings.hostname_fqdn ? await reading : null;
  const errors: HostnameInfo["errors"] = {};
  const candidates: Array<[HostnameProvider, () => string | null]> = [
    ["configuration", () => settings.hostname || null],
    [
      "hostnameFile",
      () => settings.hostname_file ? readFileSync(settings.hostname_file, "utf8").trim() : null,
    ],
    ["fqdn", () => settings.hostname_fqdn ? fqdn : null],
    ["os", () => osHostname],
  ];
  for (const [provider, read] of candidates) {
    let name: string | null;
    try {
      name = read();
    } catch (e) {
      errors[provider] = (e as Error).message;
      continue;
    }
    if (name === null) continue;
    const problem = hostnameProblem(name);
    if (problem) {
      errors[provider] = problem;
      continue;
    }
    return withFqdn({ hostname: name, provider, osHostname, fqdn: fqdn ?? osHostname, errors });
  }
  return withFqdn({
    hostname: "unknown",
    provider: "unknown",
    osHostname,
    fqdn: fqdn ?? osHostname,
    errors,
  });

  function withFqdn(info: HostnameInfo): HostnameInfo {
    info.fqdnRead = settings.hostname_fqdn ? Promise.resolve() : reading.then((f) => {
      if (f) info.fqdn = f;
    });
    return info;
  }
}

const SOURCE: Record<HostnameProvider, string> = {
  configuration: 'the "hostname" key',
  hostnameFile: 'the file of "hostname_file"',
  fqdn: 'the FQDN ("hostname_fqdn")',
  os: "the operating system",
};

/**
 * One warning line per source that was set but refused, naming the name used instead; the
 * agent writes them at start so a fallback is never silent.
 *
 * @example
 * ```ts
 * import { hostnameWarnings } from "./_hostname.ts";
 * hostnameWarnings({
 *   hostname: "box", provider: "os", osHostname: "box", fqdn: "box",
 *   errors: { hostnameFile: "ENOENT: no such file" },
 * });
 * // ['Cannot use the hostname from the file of "hostname_file": ENOENT: no such file; using "box" from the operating system']
 * ```
 */
export function hostnameWarnings(info: HostnameInfo): string[] {
  const used = info.provider === "unknown"
    ? `"unknown"`
    : `"${info.hostname}" from ${SOURCE[info.provider]}`;
  return Object.entries(info.errors).map(([p, why]) =>
    `Cannot use the hostname from ${SOURCE[p as HostnameProvider]}: ${why}; using ${used}`
  );
}

/** `hostname -f`, as the Datadog Agent reads the FQDN on Linux; null when it fails. */
async function readFqdn(runtime: Runtime): Promise<string | null> {
  try {
    const r = await runtime.spawn(["hostname", "-f"], { timeoutMs: 2000 });
    const out = new TextDecoder().decode(r.stdout).trim();
    return r.code === 0 && out ? out : null;
  } catch {
    return null;
  }
}

function safe<T>(f: () => T): T | null {
  try {
    return f();
  } catch {
    return null;
  }
}
