/**
 * The one client of the agent's own API on `cmd_host:cmd_port`, for the commands and the fleet
 * daemon that talk to a running agent: typed answers, a timeout on every call, and errors that
 * say what went wrong in one line.
 *
 * It never goes through an outbound proxy: the request carries the bearer token, and a proxy
 * cannot reach the agent's loopback address anyway. Bun's and Deno's `fetch` send even a
 * loopback request to the proxy that `HTTP_PROXY` or `ALL_PROXY` names, and neither can be told
 * not to for one request; so when the environment names one, the client speaks through
 * `node:http`, which reads no proxy variable. Otherwise it uses `fetch` directly: in the
 * compiled binary `node:http` takes Bun about 8 ms to load and open its first request, against
 * about 30 ms for a whole `outpost status`.
 *
 * @module
 */
import { OutpostError } from "../errors.ts";
import type { HealthReport } from "./_app.ts";

/** Why a call failed: the `code` of an {@linkcode AgentApiError}. */
export type AgentApiErrorCode =
  /** Nothing answered: connection refused or reset, host not found. */
  | "agent_unreachable"
  /** No complete answer within the timeout. */
  | "agent_timeout"
  /** 401: the token is not the running agent's. */
  | "agent_unauthorized"
  /** Any other answer outside 2xx. */
  | "agent_http"
  /** A 2xx answer that is not what the route sends (something else on the port?). */
  | "agent_bad_answer";

/** A failed call of the agent's API; `status` is set when the agent answered. */
export class AgentApiError extends OutpostError {
  /** The HTTP status, when there was an answer. */
  readonly status?: number;
  constructor(
    code: AgentApiErrorCode,
    message: string,
    options?: ErrorOptions & { status?: number },
  ) {
    super(code, message, options);
    this.name = "AgentApiError";
    this.status = options?.status;
  }
}

/** Options of {@linkcode agentApiClient}. */
export interface AgentApiClientOptions {
  /** `cmd_host`: a name or an address, IPv6 with or without brackets. */
  host: string;
  /** `cmd_port`. */
  port: number;
  /** The bearer token (see `readAuthToken`). */
  token: string;
  /** Time a call may take, answer read whole. @default 30000 */
  timeoutMs?: number;
  /** Where the proxy variables are read. @default process.env */
  env?: Record<string, string | undefined>;
}

/** Options of {@linkcode AgentApiClient.statusText}. */
export interface StatusTextOptions {
  /** Only this section (see {@linkcode AgentApiClient.statusSections}). @default the whole status */
  section?: string;
  /** ANSI colours in the text. @default false */
  color?: boolean;
}

/** Options of {@linkcode AgentApiClient.flare}. */
export interface FlareRequestOptions {
  /** Seconds of CPU profile (and heap snapshots) to add; 0 adds none. @default 0 */
  profile?: number;
  /** Replaces the client's timeout for this call: a flare can take minutes. */
  timeoutMs?: number;
}

/** The agent's API as typed calls. */
export interface AgentApiClient {
  /** Where the agent is asked, e.g. `127.0.0.1:5001`, as the error messages name it. */
  readonly address: string;
  /** `GET /agent/status/health`: which components are healthy. */
  health(): Promise<HealthReport>;
  /** `GET /agent/hostname`: the host name the running agent reports under. */
  hostname(): Promise<string>;
  /** `GET /agent/gui/intent`: a one-time login code for the web console. */
  guiIntent(): Promise<string>;
  /** `POST /agent/stop`: asks the agent to stop; resolves once it has accepted. */
  stop(): Promise<void>;
  /** `GET /agent/dogstatsd-stats`: samples per metric context (needs `dogstatsd_stats_enable`). */
  dogstatsdStats(): Promise<{ stats: unknown[]; untrackedSamples: number }>;
  /**
   * `POST /agent/dogstatsd-capture`: the agent captures the datagrams it receives for
   * `durationS` seconds; resolves with the file's path on its host once it is complete.
   */
  dogstatsdCapture(durationS: number): Promise<{ path: string; datagrams: number; bytes: number }>;
  /** `GET /agent/status?format=text` (or one section): the status page as text. */
  statusText(options?: StatusTextOptions): Promise<string>;
  /** `GET /agent/status?format=json` (or one section): the status as an object. */
  statusJson(options?: { section?: string }): Promise<Record<string, unknown>>;
  /** `GET /agent/status/sections`: the section names, in the order of the status page. */
  statusSections(): Promise<string[]>;
  /** `POST /agent/flare`: the agent builds a flare; resolves to the zip's path on its host. */
  flare(options?: FlareRequestOptions): Promise<string>;
  /** `GET /agent/config-check`: the check configs the agent loaded, with the IDs it computed. */
  configCheck(): Promise<{ configs: unknown[] } & Record<string, unknown>>;
  /**
   * `POST /agent/stream-logs` with the filters: hands each chunk of processed log lines to
   * `write` as it arrives; resolves when the agent ends the stream (`duration` seconds, 0 for
   * none) or `signal` aborts. Only the wait for the answer's headers is timed.
   */
  streamLogs(
    filter: Record<string, string | number>,
    write: (chunk: Uint8Array) => void,
    signal?: AbortSignal,
  ): Promise<void>;
}

/** The largest answer read: a status page is tens of KiB; anything past this is not the agent. */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** Error codes of Bun, Deno and `node:http` (and their message fragments) → a short reason. */
const REASONS: Array<[RegExp, string]> = [
  [/ECONNREFUSED|ConnectionRefused|Connection refused/i, "connection refused"],
  [/ENOTFOUND|EAI_AGAIN|failed to lookup address|Name or service not known/i, "host not found"],
  [/ECONNRESET|ConnectionReset|Connection reset/i, "connection reset"],
  [/ETIMEDOUT|timed out/i, "timed out"],
];

/**
 * The most telling one-line reason of a failed request on Bun or Deno, by `fetch` or
 * `node:http`: `connection refused`, `host not found`, …, else the error's first line.
 *
 * @example
 * ```ts
 * import { networkErrorReason } from "./_client.ts";
 * const e = await fetch("http://127.0.0.1:1/").catch((e) => e);
 * networkErrorReason(e); // "connection refused"
 * ```
 */
export function networkErrorReason(e: unknown): string {
  const err = e as Error & { code?: string; cause?: { code?: string; message?: string } };
  if (err.name === "TimeoutError") return "timed out";
  const all = [err.code, err.cause?.code, err.message, err.cause?.message].filter(Boolean).join(
    " ",
  );
  const known = REASONS.find(([re]) => re.test(all));
  return known ? known[1] : (err.cause?.message ?? err.message ?? String(e)).split("\n")[0];
}

/** The variables that make Bun's and Deno's `fetch` send an `http://` request to a proxy. */
const HTTP_PROXY_VARIABLES = ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"];

/** One request as a transport sends it. */
interface Outgoing {
  method: "GET" | "POST";
  path: string;
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
}

/** An answer whose body is still to be read. */
interface Incoming {
  status: number;
  contentType: string;
  chunks: AsyncIterable<Uint8Array>;
  /** False when the connection closed before the whole body came. @default always true */
  complete?: () => boolean;
}

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

/**
 * A client of the running agent's API.
 *
 * @example Ask a local agent whether it is healthy
 * ```ts ignore
 * import { agentApiClient, authTokenPath, readAuthToken } from "./mod.ts";
 * import type { Config } from "../config/mod.ts";
 * declare const config: Config;
 * const client = agentApiClient({
 *   host: config.cmd_host,
 *   port: config.cmd_port,
 *   token: readAuthToken(authTokenPath(config, null)),
 * });
 * const { Unhealthy } = await client.health(); // throws AgentApiError when it cannot tell
 * ```
 */
export function agentApiClient(options: AgentApiClientOptions): AgentApiClient {
  const { port, token, timeoutMs = 30_000, env = process.env } = options;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`Cannot build the agent API client: port ${port} is not 1 to 65535`);
  }
  checkTimeout(timeoutMs);
  // node:http takes the bare address; the messages bracket IPv6 as a URL would.
  const host = options.host.replace(/^\[(.*)\]$/, "$1");
  const address = `${host.includes(":") ? `[${host}]` : host}:${port}`;

  const useNodeHttp = HTTP_PROXY_VARIABLES.some((k) => !!env[k]);

  async function viaFetch({ method, path, headers, body, signal }: Outgoing): Promise<Incoming> {
    const res = await fetch(`http://${address}${path}`, {
      method,
      headers,
      body,
      signal,
      redirect: "manual",
    });
    return {
      status: res.status,
      contentType: res.headers.get("content-type") ?? "",
      chunks: res.body ?? new ReadableStream(),
    };
  }

  async function viaNodeHttp({ method, path, headers, body, signal }: Outgoing): Promise<Incoming> {
    const { request } = await import("node:http");
    const length = body === undefined ? {} : {
      "Content-Length": String(new TextEncoder().encode(body).length),
    };
    const res = await new Promise<import("node:http").IncomingMessage>((resolve, reject) => {
      const req = request(
        { host, port, method, path, headers: { ...headers, ...length }, signal },
        resolve,
      );
      req.on("error", reject);
      req.end(body);
    });
    return {
      status: res.statusCode ?? 0,
      contentType: String(res.headers["content-type"] ?? ""),
      chunks: res,
      complete: () => res.complete,
    };
  }

  /** One request; resolves to a 2xx answer read whole, rejects with an AgentApiError. */
  async function call(
    method: "GET" | "POST",
    path: string,
    { body, timeout = timeoutMs }: { body?: string; timeout?: number } = {},
  ): Promise<Answer> {
    checkTimeout(timeout);
    const what = `${method} ${path.split("?")[0]}`;
    const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const signal = AbortSignal.timeout(timeout);
    let answer: Answer;
    try {
      const res = await (useNodeHttp ? viaNodeHttp : viaFetch)({
        method,
        path,
        headers,
        body,
        signal,
      });
      const parts: Uint8Array[] = [];
      let size = 0;
      for await (const chunk of res.chunks) {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) {
          throw new AgentApiError(
            "agent_bad_answer",
            `The agent at ${address} sent more than ${MAX_ANSWER_BYTES} bytes to ${what}: ` +
              "is another program on that port?",
            { status: res.status },
          );
        }
        parts.push(chunk);
      }
      if (res.complete?.() === false) {
        throw Object.assign(new Error("the answer was cut short"), { code: "ECONNRESET" });
      }
      answer = { status: res.status, contentType: res.contentType, body: utf8(parts) };
    } catch (e) {
      if (e instanceof AgentApiError) throw e;
      if (signal.aborted) {
        throw new AgentApiError(
          "agent_timeout",
          `The agent at ${address} did not answer ${what} within ${seconds(timeout)}`,
          { cause: e },
        );
      }
      throw new AgentApiError(
        "agent_unreachable",
        `Cannot reach the agent at ${address}: ${networkErrorReason(e)}`,
        { cause: e },
      );
    }
    if (answer.status >= 200 && answer.status < 300) return answer;
    throw answerError(answer);
  }

  /** The error of a non-2xx answer, with the agent's own `{"error": …}` text when it sent one. */
  function answerError({ status, body }: Answer): AgentApiError {
    let message = body.trim();
    try {
      const parsed = JSON.parse(body);
      if (typeof parsed?.error === "string") message = parsed.error;
    } catch { /* not JSON: the body as it is */ }
    if (status === 401) {
      return new AgentApiError(
        "agent_unauthorized",
        `The agent at ${address} refused the auth token (${message}): the token file is not ` +
          "the running agent's",
        { status },
      );
    }
    return new AgentApiError(
      "agent_http",
      `The agent at ${address} answered ${status}: ${message}`,
      {
        status,
      },
    );
  }

  /** GET `path` as JSON that `valid` accepts; anything else is a bad answer naming `expected`. */
  async function getJson<T>(
    path: string,
    valid: (x: unknown) => x is T,
    expected: string,
  ): Promise<T> {
    const answer = await call("GET", path);
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer.body);
    } catch {
      throw badAnswer(path, answer, "text that is not JSON");
    }
    if (!valid(parsed)) throw badAnswer(path, answer, `JSON that is not ${expected}`);
    return parsed;
  }

  function badAnswer(path: string, answer: Answer, why: string): AgentApiError {
    return new AgentApiError(
      "agent_bad_answer",
      `The agent at ${address} answered GET ${path.split("?")[0]} with ${why} (${
        answer.contentType || "no content type"
      }, starts with ${
        JSON.stringify(answer.body.slice(0, 40))
      }): is another program on that port?`,
      { status: answer.status },
    );
  }

  const statusPath = (section?: string) =>
    section === undefined ? "/agent/status" : `/agent/${encodeURIComponent(section)}/status`;

  function health(): Promise<HealthReport> {
    return getJson("/agent/status/health", isHealthReport, "a health report");
  }

  function hostname(): Promise<string> {
    return getJson("/agent/hostname", (x): x is string => typeof x === "string", "a string");
  }

  async function guiIntent(): Promise<string> {
    return (await call("GET", "/agent/gui/intent")).body.trim();
  }

  async function stop(): Promise<void> {
    await call("POST", "/agent/stop");
  }

  function dogstatsdStats(): Promise<{ stats: unknown[]; untrackedSamples: number }> {
    return getJson(
      "/agent/dogstatsd-stats",
      (x): x is { stats: unknown[]; untrackedSamples: number } =>
        isObject(x) && Array.isArray(x.stats) && typeof x.untrackedSamples === "number",
      "a list of metric stats",
    );
  }

  async function dogstatsdCapture(
    durationS: number,
  ): Promise<{ path: string; datagrams: number; bytes: number }> {
    const answer = await call("POST", "/agent/dogstatsd-capture", {
      body: JSON.stringify({ duration: durationS }),
      // The answer comes when the capture ends.
      timeout: durationS * 1000 + timeoutMs,
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer.body);
    } catch { /* checked below */ }
    const ok = isObject(parsed) && typeof parsed.path === "string" &&
      typeof parsed.datagrams === "number" && typeof parsed.bytes === "number";
    if (!ok) {
      throw new AgentApiError(
        "agent_bad_answer",
        `The agent at ${address} answered POST /agent/dogstatsd-capture without a capture file`,
        { status: answer.status },
      );
    }
    return parsed as { path: string; datagrams: number; bytes: number };
  }

  async function statusText({ section, color = false }: StatusTextOptions = {}): Promise<string> {
    const query = `format=text${color ? "&color=true" : ""}`;
    return (await call("GET", `${statusPath(section)}?${query}`)).body;
  }

  function statusJson({ section }: { section?: string } = {}): Promise<Record<string, unknown>> {
    return getJson(`${statusPath(section)}?format=json`, isObject, "an object");
  }

  function statusSections(): Promise<string[]> {
    return getJson("/agent/status/sections", isNames, "a list of names");
  }

  async function flare(
    { profile = 0, timeoutMs: timeout }: FlareRequestOptions = {},
  ): Promise<string> {
    const answer = await call("POST", "/agent/flare", {
      body: JSON.stringify({ profile }),
      timeout,
    });
    const path = answer.body.trim();
    if (path === "") {
      throw new AgentApiError(
        "agent_bad_answer",
        `The agent at ${address} answered POST /agent/flare with no archive path`,
        { status: answer.status },
      );
    }
    return path;
  }

  function configCheck(): Promise<{ configs: unknown[] } & Record<string, unknown>> {
    return getJson("/agent/config-check", isConfigList, "a config list");
  }

  async function streamLogs(
    filter: Record<string, string | number>,
    write: (chunk: Uint8Array) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const what = "POST /agent/stream-logs";
    const abort = new AbortController();
    signal?.addEventListener("abort", () => abort.abort());
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    let res: Incoming;
    try {
      res = await (useNodeHttp ? viaNodeHttp : viaFetch)({
        method: "POST",
        path: "/agent/stream-logs",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify(filter),
        signal: abort.signal,
      });
    } catch (e) {
      if (signal?.aborted) return;
      if (abort.signal.aborted) {
        throw new AgentApiError(
          "agent_timeout",
          `The agent at ${address} did not answer ${what} within ${seconds(timeoutMs)}`,
          { cause: e },
        );
      }
      throw new AgentApiError(
        "agent_unreachable",
        `Cannot reach the agent at ${address}: ${networkErrorReason(e)}`,
        { cause: e },
      );
    } finally {
      clearTimeout(timer);
    }
    if (res.status < 200 || res.status >= 300) {
      const parts: Uint8Array[] = [];
      for await (const chunk of res.chunks) parts.push(chunk);
      throw answerError({ status: res.status, contentType: res.contentType, body: utf8(parts) });
    }
    try {
      for await (const chunk of res.chunks) write(chunk);
    } catch (e) {
      if (!signal?.aborted) throw e;
    }
  }

  return {
    address,
    health,
    hostname,
    guiIntent,
    stop,
    dogstatsdStats,
    dogstatsdCapture,
    statusText,
    statusJson,
    statusSections,
    flare,
    configCheck,
    streamLogs,
  };
}

function checkTimeout(ms: number): void {
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new RangeError(`Cannot call the agent API: timeout ${ms} ms is not a positive number`);
  }
}

const isNames = (x: unknown): x is string[] =>
  Array.isArray(x) && x.every((n) => typeof n === "string");

const isObject = (x: unknown): x is Record<string, unknown> =>
  x !== null && typeof x === "object" && !Array.isArray(x);

const isHealthReport = (x: unknown): x is HealthReport =>
  isObject(x) && isNames(x.Healthy) && isNames(x.Unhealthy);

function utf8(parts: Uint8Array[]): string {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return new TextDecoder().decode(all);
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

function isConfigList(x: unknown): x is { configs: unknown[] } & Record<string, unknown> {
  return isObject(x) && Array.isArray(x.configs);
}
