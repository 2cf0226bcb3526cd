/**
 * Proxy selection. The config's `proxy.*` (which `DD_PROXY_*` set) wins; when it names no
 * proxy, the standard `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY` variables (either case,
 * comma-separated) are used.
 */
import type { Config } from "../config/mod.ts";

/** The resolved proxy settings. */
export interface ProxySettings {
  /** Proxy for `http://` URLs. */
  http?: string;
  /** Proxy for `https://` URLs. */
  https?: string;
  /** Hosts (`host` or `host:port`) that go direct. */
  noProxy: string[];
  /** `no_proxy_nonexact_match`: entries also match subdomains and `*` matches all. */
  nonExact: boolean;
}

// Cloud metadata services must not go through a proxy unless asked to.
const CLOUD_METADATA = ["169.254.169.254", "100.100.100.200"];

/**
 * Resolves the proxy settings from the config and the environment.
 *
 * @example
 * ```ts ignore
 * resolveProxy(config, { HTTPS_PROXY: "http://10.0.0.1:3128", NO_PROXY: "localhost,127.0.0.1" });
 * ```
 */
export function resolveProxy(
  config: Pick<Config, "proxy" | "no_proxy_nonexact_match" | "use_proxy_for_cloud_metadata">,
  env: Record<string, string | undefined>,
): ProxySettings {
  const p = config.proxy as { http?: string; https?: string; no_proxy?: string[] };
  const fromConfig = Boolean(p.http || p.https);
  const pick = (name: string) => env[name] || env[name.toLowerCase()] || undefined;
  const nonExact = config.no_proxy_nonexact_match;
  const settings: ProxySettings = fromConfig
    ? {
      http: p.http || undefined,
      https: p.https || undefined,
      noProxy: [...(p.no_proxy ?? [])],
      nonExact,
    }
    : {
      http: pick("HTTP_PROXY"),
      https: pick("HTTPS_PROXY"),
      noProxy: (pick("NO_PROXY") ?? "").split(",").map((s) => s.trim()).filter(Boolean),
      nonExact,
    };
  if (!config.use_proxy_for_cloud_metadata) settings.noProxy.push(...CLOUD_METADATA);
  return settings;
}

/**
 * The proxy to use for `url`, or undefined to go direct.
 *
 * @example
 * ```ts
 * import { proxyFor } from "./_proxy.ts";
 * proxyFor("http://127.0.0.1:8080/x", { http: "http://p:3128", noProxy: ["127.0.0.1"], nonExact: false });
 * // undefined
 * ```
 */
export function proxyFor(url: string, s: ProxySettings): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const proxy = u.protocol === "https:" ? s.https : u.protocol === "http:" ? s.http : undefined;
  if (!proxy) return undefined;
  const host = u.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const port = u.port || (u.protocol === "https:" ? "443" : "80");
  for (const raw of s.noProxy) {
    const entry = raw.toLowerCase();
    if (entry === host || entry === `${host}:${port}`) return undefined;
    if (s.nonExact) {
      if (entry === "*") return undefined;
      const suffix = entry.startsWith(".") ? entry : `.${entry}`;
      if (host.endsWith(suffix)) return undefined;
    }
  }
  return proxy;
}
