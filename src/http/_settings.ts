/**
 * The settings of every outbound request, read from the config once: the only place the
 * proxy, CA, TLS and timeout keys are read.
 */
import { readFileSync } from "node:fs";
import type { Config } from "../config/mod.ts";
import { OutpostError } from "../errors.ts";
import { type ProxySettings, resolveProxy } from "./_proxy.ts";

/** How outbound requests leave the host. */
export interface HttpSettings {
  /** Proxies by scheme and the hosts that go direct (`proxy.*`, then `*_PROXY`/`NO_PROXY`). */
  proxy: ProxySettings;
  /** Extra trusted root certificates, PEM (`forwarder_ca_bundle`). @default none */
  ca?: string;
  /** Skip certificate verification (`skip_ssl_validation`). @default false */
  insecure: boolean;
  /**
   * How long a request may wait for the answer's headers, ms (`forwarder_timeout`). A body
   * may take longer: a package of gigabytes streams for minutes. @default 20000
   */
  timeoutMs: number;
}

const PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----";

/**
 * Resolves the settings from the config and the environment (`HTTP_PROXY`, `HTTPS_PROXY`,
 * `NO_PROXY`, in either case, when the config names no proxy). A proxy without a scheme is
 * taken as `http://`, as curl does; a bad value throws an `OutpostError` naming the key.
 *
 * @example
 * ```ts ignore
 * const settings = httpSettings(config, process.env);
 * const client = createHttpClient(runtime, settings);
 * ```
 */
export function httpSettings(
  config: Config,
  env: Record<string, string | undefined>,
): HttpSettings {
  const proxy = resolveProxy(config, env);
  const fromConfig = Boolean(config.proxy.http || config.proxy.https);
  for (const scheme of ["http", "https"] as const) {
    const value = proxy[scheme];
    if (value === undefined) continue;
    const key = fromConfig
      ? `config key "proxy.${scheme}"`
      : `variable "${scheme.toUpperCase()}_PROXY"`;
    proxy[scheme] = proxyUrl(value, key);
  }
  return {
    proxy,
    ca: readCaBundle(config.forwarder_ca_bundle),
    insecure: config.skip_ssl_validation,
    timeoutMs: config.forwarder_timeout * 1000,
  };
}

function proxyUrl(value: string, key: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new OutpostError("config_invalid", `Cannot parse ${key}: expected a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new OutpostError(
      "config_invalid",
      `Cannot parse ${key}: expected an http:// or https:// proxy, got ${url.protocol}//`,
    );
  }
  return withScheme;
}

function readCaBundle(path: string): string | undefined {
  if (!path) return undefined;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new OutpostError(
      "config_invalid",
      `Cannot read config key "forwarder_ca_bundle": ${(e as NodeJS.ErrnoException).code ?? e}`,
    );
  }
  if (!text.includes(PEM_CERTIFICATE)) {
    throw new OutpostError(
      "config_invalid",
      `Cannot read config key "forwarder_ca_bundle": expected PEM certificates in ${path}`,
    );
  }
  return text;
}
