/**
 * Which domains get each payload, with which API keys, and the headers of a transaction.
 */
import type { Config } from "../config/mod.ts";

/** One domain and the API keys to send to it (one transaction per key). */
export interface DomainKeys {
  /** `scheme://host[:port]`, no trailing slash. */
  url: string;
  apiKeys: string[];
}

// Datadog's own intake hosts: their `app` label gets the agent version.
const VERSIONED_HOST =
  /^app(\.mrf)?\.([a-z]{2}\d\.)?(datadoghq\.(com|eu)|datad0g\.(com|eu)|ddog-gov\.com)\.?$/;
// Sites that get a trailing dot (a fully qualified name skips the resolver's search list).
const KNOWN_SITES = /^([a-z]{2}\d\.)?(datadoghq\.(com|eu)|ddog-gov\.com)$/;

/**
 * Replaces the `app` label of a Datadog intake host with `<major>-<minor>-<patch>-app.agent`;
 * other URLs (proxies, the local intake) are left alone.
 *
 * @example
 * ```ts
 * import { versionedDomain } from "./_endpoints.ts";
 * versionedDomain("https://app.datadoghq.com", "7.56.0"); // "https://7-56-0-app.agent.datadoghq.com"
 * ```
 */
export function versionedDomain(url: string, version: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return trimSlash(url);
  }
  if (!VERSIONED_HOST.test(u.hostname)) return trimSlash(url);
  const [major = "0", minor = "0", patch = "0"] = version.split(/[.+-]/);
  u.hostname = u.hostname.replace(/^app/, `${major}-${minor}-${patch}-app.agent`);
  return trimSlash(u.toString());
}

/**
 * The main URL: `dd_url` when set, else `https://app.<site>` (with a trailing dot for
 * well-known sites when `convert_dd_site_fqdn.enabled`).
 */
export function mainUrl(config: Config): string {
  if (config.dd_url) return trimSlash(config.dd_url);
  const site = config.site.replace(/\.$/, "");
  const dot = config.convert_dd_site_fqdn.enabled && KNOWN_SITES.test(site) ? "." : "";
  return `https://app.${site}${dot}`;
}

/**
 * Every domain with its keys: the main URL with `api_key`, merged with
 * `additional_endpoints`. Keys are trimmed and deduplicated; domains without keys are
 * dropped; Datadog hosts get the version prefix.
 *
 * @example
 * ```ts ignore
 * resolveDomains(config, "7.56.0");
 * // [{ url: "https://7-56-0-app.agent.datadoghq.com.", apiKeys: ["abc"] }]
 * ```
 */
export function resolveDomains(config: Config, version: string): DomainKeys[] {
  return mergeDomains(
    [[mainUrl(config), [config.api_key]], ...Object.entries(config.additional_endpoints)],
    version,
  );
}

/**
 * Merges `[url, keys]` entries into domains: keys trimmed and deduplicated, domains without
 * keys dropped, Datadog `app` hosts given the version prefix. Other pipelines (traces, logs)
 * build their domains with it from their own URL keys.
 *
 * @example
 * ```ts
 * import { mergeDomains } from "./_endpoints.ts";
 * mergeDomains([["https://trace.agent.datadoghq.com", ["k"]], ["https://trace.agent.datadoghq.com/", ["k", "k2"]]], "7.60.0");
 * // [{ url: "https://trace.agent.datadoghq.com", apiKeys: ["k", "k2"] }]
 * ```
 */
export function mergeDomains(
  entries: readonly (readonly [string, readonly string[]])[],
  version: string,
): DomainKeys[] {
  // Keyed without the FQDN dot, so `app.datadoghq.com` in additional_endpoints is the main domain.
  const merged = new Map<string, { url: string; keys: Set<string> }>();
  for (const [url, keys] of entries) {
    const domain = versionedDomain(url, version);
    const id = domain.replace(/\.(?=(:\d+)?$)/, "");
    const entry = merged.get(id) ?? { url: domain, keys: new Set<string>() };
    for (const k of keys) if (k.trim()) entry.keys.add(k.trim());
    merged.set(id, entry);
  }
  return [...merged.values()].filter((e) => e.keys.size > 0).map((e) => ({
    url: e.url,
    apiKeys: [...e.keys],
  }));
}

/** Options of {@linkcode transactionHeaders}. */
export interface HeaderOptions {
  apiKey: string;
  version: string;
  /** Adds `Allow-Arbitrary-Tag-Value: true`. @default false */
  allowArbitraryTags?: boolean;
}

/** A transaction's headers: the payload's as the serializer set them, then the agent's (which win). */
export function transactionHeaders(
  payloadHeaders: Record<string, string>,
  { apiKey, version, allowArbitraryTags = false }: HeaderOptions,
): Record<string, string> {
  const headers: Record<string, string> = {
    ...payloadHeaders,
    "DD-Api-Key": apiKey,
    "DD-Agent-Version": version,
    "User-Agent": `datadog-agent/${version}`,
  };
  if (allowArbitraryTags) headers["Allow-Arbitrary-Tag-Value"] = "true";
  return headers;
}

const VALIDATE_HOST = /([a-z]{2}\d\.)?(datadoghq\.[a-z]+|ddog-gov\.com)\.?$/;

/**
 * The URL that validates `apiKey` for a domain: Datadog domains are rewritten to
 * `https://api.<site>`; others (the local intake) keep their origin.
 *
 * @example
 * ```ts
 * import { validationUrl } from "./_endpoints.ts";
 * validationUrl("https://7-56-0-app.agent.datadoghq.eu", "k");
 * // "https://api.datadoghq.eu/api/v1/validate?api_key=k"
 * ```
 */
export function validationUrl(domain: string, apiKey: string): string {
  const host = URL.canParse(domain) ? new URL(domain).hostname : "";
  const m = VALIDATE_HOST.exec(host);
  const base = m ? `https://api.${m[0].replace(/\.$/, "")}` : trimSlash(domain);
  return `${base}/api/v1/validate?api_key=${encodeURIComponent(apiKey)}`;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}
