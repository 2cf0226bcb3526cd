/**
 * The receiver's reverse proxies: products the tracers send to the agent that the agent
 * passes on to their own intake (EVP, instrumentation telemetry, profiles, Dynamic
 * Instrumentation, symbols, Data Streams), adding the API key, through the shared outbound
 * client (proxy, TLS and timeouts apply). The upstream's answer goes back to the tracer.
 */
import type { Context, Hono } from "hono";
import type { HttpClient } from "../http/mod.ts";
import type { ApmCounters } from "../telemetry/mod.ts";
import { BUILD } from "../version.ts";
import { EVP_ALLOWED_HEADERS } from "./_info.ts";
import { readBody } from "./_receiver_body.ts";
import type { ProxyTarget, TraceSettings } from "./_settings.ts";

/** Options of {@linkcode mountProxies}. */
export interface ProxyOptions {
  settings: TraceSettings;
  http: HttpClient;
  counters: ApmCounters;
  /** The agent's host name, sent as `X-Datadog-Hostname`. */
  hostname: string;
}

/** How long an EVP request may take (the Agent's EVP timeout is longer than the receiver's). */
export const EVP_TIMEOUT_MS = 30_000;

const EVP_SUBDOMAIN = /^[A-Za-z0-9_.-]+$/;
const EVP_PATH = /^[A-Za-z0-9/_+-]*$/;
const EVP_QUERY = /^[A-Za-z0-9/_+@?&=.:"-]*$/;

// Headers never passed on: hop-by-hop ones, the length (recomputed), and any key the client set.
const NOT_FORWARDED = new Set([
  "host",
  "connection",
  "keep-alive",
  "transfer-encoding",
  "content-length",
  "te",
  "trailer",
  "upgrade",
  "proxy-authorization",
  "proxy-connection",
  "dd-api-key",
  "dd-application-key",
  "sec-fetch-site",
]);

/** One upstream request: where, the extra headers, and its API key. */
interface Upstream {
  url: string;
  apiKey: string;
}

function upstreams(target: ProxyTarget, apiKey: string, suffix = ""): Upstream[] {
  return [
    { url: target.url + suffix, apiKey },
    ...target.additional.flatMap(([u, keys]) => keys.map((k) => ({ url: u + suffix, apiKey: k }))),
  ];
}

/**
 * Mounts the proxy routes on the receiver app.
 *
 * @example EVP is refused with 405 when disabled
 * ```ts
 * import * as v from "valibot";
 * import { Hono } from "hono";
 * import { configSchema } from "../config/mod.ts";
 * import { createHttpClient, httpSettings } from "../http/mod.ts";
 * import { runtime } from "../runtime/mod.ts";
 * import { apmEvents, Registry } from "../telemetry/mod.ts";
 * import { traceSettings } from "./_settings.ts";
 * import { mountProxies } from "./_proxy.ts";
 * const config = v.parse(configSchema, { api_key: "k", apm_config: { evp_proxy_config: { enabled: false } } });
 * const app = new Hono();
 * mountProxies(app, {
 *   settings: traceSettings(config), hostname: "h",
 *   http: createHttpClient(runtime, httpSettings(config, {})),
 *   counters: apmEvents(new Registry(), { receiver: () => ({}) }),
 * });
 * const res = await app.request("/evp_proxy/v2/api/v2/citestcycle", { method: "POST", body: "{}" });
 * console.log(res.status); // 405
 * ```
 */
export function mountProxies(app: Hono, options: ProxyOptions): void {
  const { settings, http, counters, hostname } = options;

  function fail(c: Context, product: string, reason: string, status: number, message: string) {
    counters.proxyErrors.with(`${product} ${reason}`).inc();
    return c.text(message, status as 400);
  }

  /**
   * Reads the body under `maxBytes`, sends it to every upstream and answers with the first's
   * response; the copies to additional endpoints are not awaited by the tracer.
   */
  async function forward(
    c: Context,
    product: string,
    targets: Upstream[],
    { headers, maxBytes, timeoutMs }: {
      headers: Record<string, string>;
      maxBytes: number;
      timeoutMs: number;
    },
  ): Promise<Response> {
    const body = await readBody(c.req.raw, { maxBytes, timeoutMs });
    if (!body.ok) {
      const status = product === "evp" ? 502 : body.reason === "payload-too-large" ? 413 : 408;
      return fail(c, product, body.reason, status, `${product} proxy: ${body.message}`);
    }
    const send = (u: Upstream) =>
      http.fetch(u.url, {
        method: c.req.method,
        headers: { ...headers, "DD-API-KEY": u.apiKey },
        body: c.req.method === "GET" || c.req.method === "HEAD"
          ? undefined
          : body.bytes as Uint8Array<ArrayBuffer>,
        signal: AbortSignal.timeout(timeoutMs),
      });
    for (const extra of targets.slice(1)) {
      send(extra).then((r) => r.body?.cancel(), () => {
        counters.proxyErrors.with(`${product} additional-endpoint`).inc();
      });
    }
    let res: Response;
    try {
      res = await send(targets[0]);
    } catch (e) {
      return fail(c, product, "upstream", 502, `${product} proxy: ${(e as Error).message}`);
    }
    counters.proxyRequests.with(product).inc();
    const out = new Headers();
    const type = res.headers.get("content-type");
    if (type) out.set("content-type", type);
    c.res.headers.forEach((v, k) => out.set(k, v));
    return new Response(await res.arrayBuffer(), { status: res.status, headers: out });
  }

  /** The client's headers minus hop-by-hop ones, plus the agent's. */
  function passHeaders(c: Context, extra: Record<string, string> = {}): Record<string, string> {
    const out: Record<string, string> = {};
    c.req.raw.headers.forEach((v, k) => {
      if (!NOT_FORWARDED.has(k)) out[k] = v;
    });
    return { ...out, "Via": `trace-agent ${BUILD.agentVersion}`, ...extra };
  }

  const simple = (path: string, product: string, target: ProxyTarget) =>
    app.post(path, (c) =>
      forward(c, product, upstreams(target, settings.apiKey), {
        headers: passHeaders(c, { "X-Datadog-Hostname": hostname }),
        maxBytes: settings.maxRequestBytes,
        timeoutMs: settings.receiverTimeoutMs,
      }));

  simple("/profiling/v1/input", "profiling", settings.proxies.profiling);
  simple("/debugger/v1/input", "debugger", settings.proxies.debuggerLogs);
  simple("/debugger/v1/diagnostics", "debugger", settings.proxies.debugger);
  simple("/debugger/v2/input", "debugger", settings.proxies.debugger);
  simple("/symdb/v1/input", "symdb", settings.proxies.symdb);
  simple("/v0.1/pipeline_stats", "pipeline_stats", settings.proxies.pipelineStats);

  if (settings.telemetryEnabled) {
    app.post("/telemetry/proxy/*", async (c) => {
      const suffix = c.req.path.slice("/telemetry/proxy".length);
      if (!EVP_PATH.test(suffix)) {
        return fail(c, "telemetry", "invalid-path", 400, "telemetry proxy: invalid path");
      }
      return await forward(
        c,
        "telemetry",
        upstreams(settings.proxies.telemetry, settings.apiKey, suffix),
        {
          headers: passHeaders(c, {
            "DD-Agent-Hostname": hostname,
            "DD-Agent-Env": settings.processing.defaultEnv,
          }),
          maxBytes: settings.maxRequestBytes,
          timeoutMs: settings.receiverTimeoutMs,
        },
      );
    });
  }

  app.all("/evp_proxy/:v{v[1-4]}/*", async (c) => {
    if (!settings.evp.enabled) {
      return fail(c, "evp", "disabled", 405, "EVPProxy is disabled: Has been disabled in config");
    }
    const version = c.req.param("v");
    const path = c.req.path.slice(`/evp_proxy/${version}`.length);
    const query = new URL(c.req.url).search.slice(1);
    const subdomain = c.req.header("x-datadog-evp-subdomain") ?? "";
    // The Agent's reverse proxy answers 502 for every refusal; tracers only check for 2xx.
    if (subdomain === "") {
      return fail(c, "evp", "no-subdomain", 502, "EVPProxy: no subdomain specified");
    }
    if (!EVP_SUBDOMAIN.test(subdomain)) {
      return fail(c, "evp", "invalid-subdomain", 502, `EVPProxy: invalid subdomain: ${subdomain}`);
    }
    if (!EVP_PATH.test(path)) {
      return fail(c, "evp", "invalid-path", 502, `EVPProxy: invalid target path: ${path}`);
    }
    if (!EVP_QUERY.test(query)) {
      return fail(c, "evp", "invalid-query", 502, `EVPProxy: invalid query string: ${query}`);
    }
    if ((c.req.header("x-datadog-needsappkey") ?? "").toLowerCase() === "true") {
      return fail(
        c,
        "evp",
        "no-app-key",
        502,
        "EVPProxy: no application key configured for a request that needs one",
      );
    }
    const headers: Record<string, string> = {};
    const allowed = version === "v4"
      ? [...EVP_ALLOWED_HEADERS, "Content-Encoding"]
      : EVP_ALLOWED_HEADERS;
    for (const name of allowed) {
      const value = c.req.header(name);
      if (value !== undefined) headers[name] = value;
    }
    const containerId = c.req.header("datadog-container-id");
    Object.assign(headers, {
      "Via": `trace-agent ${BUILD.agentVersion}`,
      "X-Datadog-Hostname": hostname,
      "X-Datadog-AgentDefaultEnv": settings.processing.defaultEnv,
      ...(containerId ? { "Datadog-Container-ID": containerId } : {}),
    });
    const suffix = path + (query ? `?${query}` : "");
    // With an explicit host (tests, `--dev`) the subdomain travels as a header instead.
    const base = settings.evp.url || `https://${subdomain}.${settings.site}`;
    if (settings.evp.url) headers["X-Datadog-EVP-Subdomain"] = subdomain;
    const targets = upstreams(
      { url: base, additional: settings.evp.additional },
      settings.apiKey,
      suffix,
    );
    return await forward(c, "evp", targets, {
      headers,
      maxBytes: settings.evp.maxPayloadBytes,
      timeoutMs: EVP_TIMEOUT_MS,
    });
  });
}
