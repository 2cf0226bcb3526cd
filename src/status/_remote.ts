/**
 * Remote status the process-agent way: the local core status (version, runtime, arch, log
 * level, host metadata from the cache) plus the expvars of another process fetched from a URL,
 * dated in Unix nanoseconds.
 */
import type { Runtime } from "../runtime/types.ts";
import type { Config } from "../config/mod.ts";
import { scrubObject } from "../config/mod.ts";
import { OutpostError } from "../errors.ts";
import { networkErrorReason } from "../api/mod.ts";
import { BUILD } from "../version.ts";
import { BUILD_ARCH, type HostMetadata, type HostPayload } from "../metadata/mod.ts";
import { formatTime } from "./_collector.ts";
import { heading, lines, type Style } from "./_style.ts";

/** The remote status object; `expvars.process_agent` keeps the Datadog Agent's key. */
export interface RemoteStatus {
  /** Unix nanoseconds, a float as in the Datadog Agent. */
  date: number;
  core: {
    version: string;
    runtime: string;
    runtime_version: string;
    build_arch: string;
    config: { log_level: string };
    metadata: HostPayload;
  };
  expvars: { process_agent: Record<string, unknown> };
}

/** Options of {@linkcode remoteStatus}. */
export interface RemoteStatusOptions {
  runtime: Runtime;
  config: Pick<Config, "log_level">;
  metadata: HostMetadata;
  /** @default 10000 */
  timeoutMs?: number;
  /** The agent's auth token, sent as `Authorization: Bearer` as the Datadog Agent does. @default none */
  token?: string;
  /** @default Date.now */
  now?: () => number;
}

/**
 * GETs `url` as the Datadog Agent's `DoGet` does (`Content-Type: application/json`, the bearer
 * token when given, `Connection: close`) and returns its JSON object. Throws an
 * {@linkcode OutpostError} with one line: `expvar_unreachable`, `expvar_http_status` (with the
 * start of the answer's body, which Go uses as the error text) or `expvar_not_json`.
 */
export async function fetchExpvars(
  url: string,
  timeoutMs = 10_000,
  token?: string,
): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(url, {
      headers: {
        Connection: "close",
        Accept: "application/json",
        "Content-Type": "application/json",
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    throw new OutpostError(
      "expvar_unreachable",
      `Cannot connect to ${url}: ${networkErrorReason(e)}`,
    );
  }
  const body = await res.text();
  if (!res.ok) {
    const text = body.trim().replace(/\s+/g, " ");
    const said = text ? `: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}` : "";
    throw new OutpostError(
      "expvar_http_status",
      `Cannot read expvars from ${url}: HTTP ${`${res.status} ${res.statusText}`.trim()}${said}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    const type = res.headers.get("content-type") ?? "no content type";
    const start = JSON.stringify(body.slice(0, 40).replace(/\s+/g, " "));
    throw new OutpostError(
      "expvar_not_json",
      `The answer from ${url} is not a JSON object (${type}, starts with ${start})`,
    );
  }
  return parsed as Record<string, unknown>;
}

/**
 * Builds the remote status; throws like {@linkcode fetchExpvars}.
 *
 * @example Read a running expvar server
 * ```ts
 * import assert from "node:assert/strict";
 * import { configDefaults } from "../config/mod.ts";
 * import { HostMetadata } from "../metadata/mod.ts";
 * import { runtime } from "../runtime/mod.ts";
 * import { Registry } from "../telemetry/mod.ts";
 * import { buildExpvar, PLAIN, remoteStatus, renderRemoteStatus } from "./mod.ts";
 * const { component: expvar } = buildExpvar({ port: 0 }, {
 *   runtime, registry: new Registry(), cmdline: ["outpost", "run"],
 * });
 * await expvar.start();
 * const hostname = { hostname: "edge-1", provider: "configuration", osHostname: "edge-1", fqdn: "edge-1", errors: {} } as const;
 * const metadata = new HostMetadata({ config: configDefaults(), configFile: null, hostname });
 * const s = await remoteStatus(`http://127.0.0.1:${expvar.port}/debug/vars`, {
 *   runtime, config: { log_level: "info" }, metadata,
 * });
 * await expvar.stop();
 * assert.match(renderRemoteStatus(s, PLAIN), /edge-1/);
 * ```
 */
export async function remoteStatus(
  url: string,
  { runtime, config, metadata, timeoutMs, token, now = Date.now }: RemoteStatusOptions,
): Promise<RemoteStatus> {
  const expvars = await fetchExpvars(url, timeoutMs, token);
  return {
    date: now() * 1e6,
    core: {
      version: BUILD.version,
      runtime: runtime.name,
      runtime_version: runtime.version,
      build_arch: BUILD_ARCH,
      config: { log_level: config.log_level },
      metadata: scrubObject(metadata.getFromCache()),
    },
    expvars: { process_agent: expvars },
  };
}

/** Text rendering: the core lines, then each expvar flattened to `dotted.key: value`. */
export function renderRemoteStatus(s: RemoteStatus, style: Style): string {
  const flat: Array<[string, unknown]> = [];
  const walk = (prefix: string, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) walk(prefix ? `${prefix}.${k}` : k, x);
    } else flat.push([prefix, Array.isArray(v) ? JSON.stringify(v) : v]);
  };
  walk("", s.expvars.process_agent);
  return [
    heading(`Outpost (v${s.core.version})`, style),
    lines([
      ["Status date", formatTime(Math.round(s.date / 1e6))],
      ["Runtime", `${s.core.runtime} ${s.core.runtime_version}`],
      ["Build arch", s.core.build_arch],
      ["Log Level", s.core.config.log_level],
      ["Hostname", s.core.metadata.internalHostname],
    ]),
    "",
    heading("Expvars", style),
    lines(flat),
    "",
  ].join("\n");
}
