/**
 * Uploading a flare: the version-prefixed `flare` domain, a HEAD that follows redirects to find
 * the POST target, a streamed multipart POST with retries, and one table of user messages for
 * what the backend answered.
 *
 * @module
 */
import { closeSync, openSync, readSync } from "node:fs";
import { basename } from "node:path";
import { randomBytes } from "node:crypto";
import { classifyError, classifyStatus, directFetch, isTransient, withRetry } from "../http/mod.ts";

// Datadog's own app hosts; anything else (a proxy, a local intake) is used as given.
const DATADOG_APP_HOST =
  /^app(\.mrf)?(\.[a-z]{2}\d)?\.(datadoghq\.com|datadoghq\.eu|datad0g\.com|ddog-gov\.com)\.?$/i;

/**
 * The flare intake's base URL: `dd_url`, or `https://app.<site>`, with a Datadog app host's
 * first label replaced by `<major>-<minor>-<patch>-flare.agent`.
 *
 * @example
 * ```ts
 * import { flareBaseUrl } from "./_sender.ts";
 * flareBaseUrl({ dd_url: "", site: "datadoghq.eu" }, "7.60.0"); // "https://7-60-0-flare.agent.datadoghq.eu"
 * ```
 */
export function flareBaseUrl(config: { dd_url: string; site: string }, version: string): string {
  const raw = (config.dd_url || `https://app.${config.site}`).replace(/\/+$/, "");
  const url = new URL(raw);
  if (!DATADOG_APP_HOST.test(url.hostname)) return raw;
  const [maj = "0", min = "0", patch = "0"] = version.split(/[.+-]/);
  url.hostname = `${maj}-${min}-${patch}-flare.agent.${url.hostname.split(".").slice(1).join(".")}`;
  return url.toString().replace(/\/+$/, "");
}

/** `<base>/support/flare[/<caseId>]`. */
export function flareUrl(base: string, caseId?: string): string {
  return `${base}/support/flare${caseId ? `/${encodeURIComponent(caseId)}` : ""}`;
}

/** What happened to an upload, with the line to show the user. */
export interface FlareSendResult {
  ok: boolean;
  /** The user message (the spec's exact wording). */
  message: string;
  /** Detail for logs: the status and the start of the body, or the network error. */
  error?: string;
  /** The last HTTP status, when there was one. */
  status?: number;
}

/** Options of {@linkcode sendFlare}. */
export interface SendFlareOptions {
  apiKey: string;
  caseId?: string;
  email?: string;
  /** @default "local" */
  source?: "local" | "remote-config";
  hostname: string;
  agentVersion: string;
  /**
   * The HTTP client: pass an `HttpClient`'s fetch (`src/http/`, with the proxy and TLS
   * settings) so a flare leaves the host the way payloads do. @default a direct fetch
   */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** Per-attempt timeout. @default 60000 */
  timeoutMs?: number;
  /** @default 3 */
  attempts?: number;
  /** Pause between attempts. @default 1000 */
  retryDelayMs?: number;
  /** @default setTimeout-based sleep */
  sleep?: (ms: number) => Promise<void>;
}

const DESERIALIZE =
  "Error: could not deserialize response body -- Please contact support by email.";

/**
 * Uploads the zip at `zipPath` to `<base>/support/flare[/caseId]`, as the Datadog Agent does:
 * one HEAD (following redirects, accepting 200 or 404, never retried) finds the target, then a
 * streamed multipart POST is retried on 5xx answers and network errors (`isTransient` of the
 * shared table) up to `attempts` times; past them the message is `failed to send flare after
 * N attempts: <last error>`. The API key is trimmed first.
 */
export async function sendFlare(
  zipPath: string,
  base: string,
  options: SendFlareOptions,
): Promise<FlareSendResult> {
  const { attempts = 3, retryDelayMs = 1000, sleep } = options;
  const o = { ...options, apiKey: options.apiKey.trim() };
  const url = flareUrl(base, o.caseId);
  const target = await resolveTarget(url, o);
  if (typeof target !== "string") return target;
  const upload = withRetry(() => postOnce(zipPath, target, o), {
    attempts,
    delayMs: retryDelayMs,
    sleep,
    isRetriable: (attempt) => attempt.retry,
  });
  const { result, retry } = await upload(undefined);
  if (!retry) return result;
  return {
    ...result,
    message: `failed to send flare after ${attempts} attempts: ${result.error ?? result.message}`,
  };
}

/** The URL the POST goes to, after the HEAD's redirects; or why there is none. */
async function resolveTarget(url: string, o: SendFlareOptions): Promise<string | FlareSendResult> {
  const doFetch = o.fetch ?? directFetch;
  let head: Response;
  try {
    head = await doFetch(url, {
      method: "HEAD",
      headers: { "DD-API-KEY": o.apiKey },
      redirect: "follow",
      signal: AbortSignal.timeout(o.timeoutMs ?? 60_000),
    });
  } catch (e) {
    const err = describeError(e);
    return { ok: false, message: `Cannot reach the flare backend ${url}: ${err}`, error: err };
  }
  await head.body?.cancel();
  if (head.status === 200 || head.status === 404) return head.url || url;
  // The backend is reached but refuses the key: say so, not that it could not be reached.
  if (head.status === 403) return forbidden(o.apiKey);
  return {
    ok: false,
    status: head.status,
    message:
      `We couldn't reach the flare backend ${url} via redirects: ${head.status} ${head.statusText}`
        .trimEnd(),
  };
}

async function postOnce(
  zipPath: string,
  target: string,
  o: SendFlareOptions,
): Promise<{ result: FlareSendResult; retry: boolean }> {
  const doFetch = o.fetch ?? directFetch;
  try {
    const { body, contentType } = multipart(zipPath, o);
    const res = await doFetch(target, {
      method: "POST",
      headers: { "DD-API-KEY": o.apiKey, "Content-Type": contentType },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(o.timeoutMs ?? 60_000),
      // A stream body needs half duplex in the fetch standard.
      duplex: "half",
    } as RequestInit);
    return {
      result: await analyzeResponse(res, o.apiKey),
      retry: isTransient(classifyStatus(res.status)),
    };
  } catch (e) {
    const err = describeError(e);
    return {
      result: { ok: false, message: `Cannot upload the flare to ${target}: ${err}`, error: err },
      retry: isTransient(classifyError(e)),
    };
  }
}

/** The Datadog Agent's 403 message: the key's last 5 characters, or that it is missing. */
function forbidden(apiKey: string): FlareSendResult {
  return {
    ok: false,
    status: 403,
    message: apiKey
      ? `HTTP 403 Forbidden: Make sure your API key is valid. API Key ending with: ${
        apiKey.slice(-5)
      }`
      : "HTTP 403 Forbidden: API key is missing",
  };
}

function describeError(e: unknown): string {
  const err = e as Error & { code?: string; cause?: { message?: string; code?: string } };
  const parts = [err.name, err.code, err.message, err.cause?.code, err.cause?.message]
    .filter((x): x is string => !!x && x !== "Error");
  // Runtimes repeat the code inside the message; say each thing once.
  return parts.filter((x, i) =>
    !parts.some((y, j) => j !== i && y.includes(x) && (y !== x || j < i))
  )
    .join(": ");
}

/**
 * Turns the backend's answer into the user message.
 *
 * @example
 * ```ts
 * import { analyzeResponse } from "./_sender.ts";
 * const res = new Response(JSON.stringify({ case_id: "12345" }), { headers: { "content-type": "application/json" } });
 * (await analyzeResponse(res, "key")).message;
 * // "Your logs were successfully uploaded. For future reference, your internal case id is 12345"
 * ```
 */
export async function analyzeResponse(res: Response, apiKey: string): Promise<FlareSendResult> {
  const status = res.status;
  if (status === 403) {
    await res.body?.cancel();
    return forbidden(apiKey.trim());
  }
  const body = await res.text();
  const type = res.headers.get("content-type");
  const detail = `HTTP ${status}: ${body.slice(0, 150)}`;
  if (status !== 200) return { ok: false, status, message: DESERIALIZE, error: detail };
  // As the Go agent: the type must start with application/json.
  if (!type?.startsWith("application/json")) {
    const why = type ? `unknown content-type ${type}` : "no content-type header";
    return { ok: false, status, message: DESERIALIZE, error: `${why}; ${detail}` };
  }
  let answer: { case_id?: unknown; error?: unknown; request_uuid?: unknown };
  try {
    answer = JSON.parse(body);
  } catch {
    return { ok: false, status, message: DESERIALIZE, error: detail };
  }
  if (answer.error) {
    const uuid = answer.request_uuid
      ? ` and facilitate the request uuid: \`${answer.request_uuid}\``
      : "";
    return {
      ok: false,
      status,
      error: String(answer.error),
      message:
        `An error occurred while uploading the flare: ${answer.error}. Please contact support by email${uuid}.`,
    };
  }
  // Go decodes into an int: another type is a decode failure; a missing id reads 0.
  const caseId = answer.case_id ?? 0;
  if (typeof caseId !== "number" || !Number.isInteger(caseId)) {
    return {
      ok: false,
      status,
      message: DESERIALIZE,
      error: `case_id is not an integer; ${detail}`,
    };
  }
  return {
    ok: true,
    status,
    message:
      `Your logs were successfully uploaded. For future reference, your internal case id is ${caseId}`,
  };
}

/** The form, in the spec's field order, streamed so a large zip is never held in memory. */
function multipart(
  zipPath: string,
  o: SendFlareOptions,
): { body: ReadableStream<Uint8Array>; contentType: string } {
  const boundary = `outpost-flare-${randomBytes(12).toString("hex")}`;
  const enc = new TextEncoder();
  const field = (name: string, value: string) =>
    enc.encode(
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
    );
  const head: Uint8Array[] = [];
  if (o.caseId) head.push(field("case_id", o.caseId));
  if (o.email) head.push(field("email", o.email));
  head.push(field("source", o.source ?? "local"));
  head.push(enc.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="flare_file"; filename="${
      basename(zipPath)
    }"\r\n` +
      `Content-Type: application/octet-stream\r\n\r\n`,
  ));
  const tail = [
    enc.encode("\r\n"),
    field("agent_version", o.agentVersion),
    field("hostname", o.hostname),
    enc.encode(`--${boundary}--\r\n`),
  ];
  let fd: number | null = null;
  let stage: "head" | "file" | "tail" | "done" = "head";
  const body = new ReadableStream<Uint8Array>({
    pull(ctrl) {
      if (stage === "head") {
        for (const h of head) ctrl.enqueue(h);
        fd = openSync(zipPath, "r");
        stage = "file";
        return;
      }
      if (stage === "file") {
        const buf = new Uint8Array(64 * 1024);
        const n = readSync(fd!, buf, 0, buf.length, null);
        if (n > 0) return ctrl.enqueue(buf.subarray(0, n));
        closeSync(fd!);
        fd = null;
        stage = "tail";
      }
      if (stage === "tail") {
        for (const t of tail) ctrl.enqueue(t);
        stage = "done";
        ctrl.close();
      }
    },
    cancel() {
      if (fd !== null) closeSync(fd);
    },
  });
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}
