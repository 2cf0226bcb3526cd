/**
 * What `outpost diagnose` checks, without a running agent: for every intake endpoint of every
 * pipeline, whether it answers and takes the API key (`GET /api/v1/validate`, as the
 * forwarder's own validation), the proxy and TLS the request used, the clock skew against the
 * answer's `Date` header; and the free disk of `run_path`, where the retry files go.
 */
import { statfsSync } from "node:fs";
import type { Config } from "../config/mod.ts";
import type { Runtime } from "../runtime/types.ts";
import { type DomainKeys, forwarderSettings, keyLabel, validationUrl } from "../forwarder/mod.ts";
import { createHttpClient, type HttpClient, httpSettings } from "../http/mod.ts";
import { networkErrorReason } from "../api/mod.ts";
import { traceSettings } from "../trace/mod.ts";
import { logsSenderSettings } from "../logs/mod.ts";
import { BUILD } from "../version.ts";

/** Largest clock difference with the intake that passes: Datadog drops points too far off. */
export const MAX_CLOCK_SKEW_S = 60;

/** One endpoint and API key, checked. */
export interface EndpointCheck {
  /** `metrics`, `traces`, `logs` or `logs-unreliable`. */
  pipeline: string;
  /** The domain, as the pipeline sends to it. */
  url: string;
  /** `API key ending with xxxxx`: never the key. */
  key: string;
  /** The proxy the request went through (credentials removed), or `none`. */
  proxy: string;
  /** `none` (http), `verified`, `verified, custom CA` or `not verified (skip_ssl_validation)`. */
  tls: string;
  /** The HTTP status of the validation request, when there was an answer. */
  status?: number;
  /** `valid`, `invalid` (403), `not checked` (another answer) or `unreachable`. */
  apiKey: "valid" | "invalid" | "not checked" | "unreachable";
  /** Seconds the intake's clock is ahead of ours (negative: behind), from its `Date` header. */
  clockSkewS?: number;
  ok: boolean;
  /** Why it failed, or what was seen. */
  detail: string;
}

/** Free disk of `run_path`. */
export interface DiskCheck {
  path: string;
  freeBytes?: number;
  totalBytes?: number;
  /** The forwarder stops writing retry files past this used ratio (`forwarder_storage_max_disk_ratio`). */
  maxUsedRatio: number;
  ok: boolean;
  detail: string;
}

/** Everything `diagnose` found; `ok` is false when any check failed. */
export interface Diagnosis {
  endpoints: EndpointCheck[];
  disk: DiskCheck;
  ok: boolean;
}

/** The endpoints of each enabled pipeline, as each pipeline resolves them. */
function pipelines(config: Config): Array<[string, DomainKeys[]]> {
  const all: Array<[string, DomainKeys[]]> = [["metrics", forwarderSettings(config).domains]];
  const traces = traceSettings(config);
  if (traces.enabled) all.push(["traces", traces.domains]);
  if (config.logs_enabled) {
    const logs = logsSenderSettings(config, BUILD.agentVersion);
    all.push(["logs", logs.reliable]);
    if (logs.unreliable.length > 0) all.push(["logs-unreliable", logs.unreliable]);
  }
  return all;
}

/**
 * Runs every check; the endpoints are asked in parallel, each bounded by `forwarder_timeout`.
 *
 * @example
 * ```ts ignore
 * const d = await diagnose(runtime, config, process.env);
 * if (!d.ok) console.log(renderDiagnosis(d));
 * ```
 */
export async function diagnose(
  runtime: Runtime,
  config: Config,
  env: Record<string, string | undefined>,
): Promise<Diagnosis> {
  const http = createHttpClient(runtime, httpSettings(config, env));
  const tls = (url: string) =>
    !url.startsWith("https:")
      ? "none"
      : config.skip_ssl_validation
      ? "not verified (skip_ssl_validation)"
      : config.forwarder_ca_bundle
      ? "verified, custom CA"
      : "verified";
  const checks = pipelines(config).flatMap(([pipeline, domains]) =>
    domains.flatMap((d) =>
      d.apiKeys.map((key) => checkEndpoint(http, pipeline, d.url, key, tls(d.url)))
    )
  );
  const endpoints = await Promise.all(checks);
  const disk = checkDisk(config.run_path, config.forwarder_storage_max_disk_ratio);
  return { endpoints, disk, ok: disk.ok && endpoints.every((e) => e.ok) };
}

async function checkEndpoint(
  http: HttpClient,
  pipeline: string,
  url: string,
  apiKey: string,
  tls: string,
): Promise<EndpointCheck> {
  const target = validationUrl(url, apiKey);
  const proxy = http.clientFor(target).proxy;
  const base = {
    pipeline,
    url,
    key: keyLabel(apiKey),
    proxy: proxy ? withoutCredentials(proxy) : "none",
    tls,
  };
  let res: Response;
  const sentAt = Date.now();
  let answeredAt: number;
  try {
    res = await http.fetch(target, {
      headers: { "User-Agent": `datadog-agent/${BUILD.agentVersion}` },
    });
    answeredAt = Date.now();
    await res.arrayBuffer().catch(() => undefined);
  } catch (e) {
    return { ...base, apiKey: "unreachable", ok: false, detail: networkErrorReason(e) };
  }
  const date = Date.parse(res.headers.get("date") ?? "");
  const clockSkewS = Number.isNaN(date) ? undefined : skewSeconds(date, sentAt, answeredAt);
  const skewed = clockSkewS !== undefined && Math.abs(clockSkewS) > MAX_CLOCK_SKEW_S;
  const status = res.status;
  const state = status === 200 ? "valid" : status === 403 ? "invalid" : "not checked";
  const problems = [
    ...(state === "invalid" ? ["the API key is refused (403)"] : []),
    ...(skewed
      ? [`the clock is ${clockSkewS} s off the intake's (more than ${MAX_CLOCK_SKEW_S} s)`]
      : []),
  ];
  const detail = problems.length > 0
    ? problems.join("; ")
    : state === "valid"
    ? "reachable, API key valid"
    : `reachable; the key was not checked (${status} from ${new URL(target).pathname})`;
  return { ...base, status, apiKey: state, clockSkewS, ok: problems.length === 0, detail };
}

function checkDisk(path: string, maxUsedRatio: number): DiskCheck {
  try {
    const s = statfsSync(path);
    const freeBytes = s.bavail * s.bsize;
    const totalBytes = s.blocks * s.bsize;
    const used = s.blocks > 0 ? 1 - s.bavail / s.blocks : 0;
    const ok = used <= maxUsedRatio;
    const pct = (x: number) => `${Math.round(x * 100)}%`;
    return {
      path,
      freeBytes,
      totalBytes,
      maxUsedRatio,
      ok,
      detail: ok
        ? `${pct(used)} used`
        : `${pct(used)} used: more than forwarder_storage_max_disk_ratio (${
          pct(maxUsedRatio)
        }), retry files are not written`,
    };
  } catch (e) {
    return {
      path,
      maxUsedRatio,
      ok: false,
      detail: `cannot read the disk of run_path: ${(e as NodeJS.ErrnoException).code ?? e}`,
    };
  }
}

function withoutCredentials(proxy: string): string {
  try {
    const u = new URL(proxy);
    u.username = "";
    u.password = "";
    return u.toString().replace(/\/$/, "");
  } catch {
    return "(unparsable proxy URL)";
  }
}

/** The diagnosis as the text table `outpost diagnose` prints. */
export function renderDiagnosis(d: Diagnosis): string {
  const rows = d.endpoints.map((e) => [
    e.ok ? "PASS" : "FAIL",
    e.pipeline,
    e.url,
    e.key,
    e.proxy,
    e.tls,
    e.clockSkewS === undefined ? "-" : `${e.clockSkewS} s`,
    e.detail,
  ]);
  const head = ["", "PIPELINE", "ENDPOINT", "KEY", "PROXY", "TLS", "CLOCK SKEW", "RESULT"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  const failed = d.endpoints.filter((e) => !e.ok).length + (d.disk.ok ? 0 : 1);
  const gib = (n?: number) => n === undefined ? "?" : `${(n / 1024 ** 3).toFixed(1)} GiB`;
  return [
    "=== Endpoints ===",
    line(head),
    ...rows.map(line),
    "",
    "=== Disk of run_path ===",
    `${d.disk.ok ? "PASS" : "FAIL"}  ${d.disk.path}: ${gib(d.disk.freeBytes)} free of ${
      gib(d.disk.totalBytes)
    }, ${d.disk.detail}`,
    "",
    failed === 0 ? "Diagnose: PASS" : `Diagnose: FAIL (${failed} failed)`,
    "",
  ].join("\n");
}

/**
 * The intake's clock stood somewhere in [date, date + 1 s) (the header drops the fraction) while
 * ours ran from `sentAt` to `answeredAt`: only the gap between the two intervals is skew, so a slow
 * answer on a loaded machine is not mistaken for a clock that is off.
 */
function skewSeconds(date: number, sentAt: number, answeredAt: number): number {
  const gap = date > answeredAt
    ? date - answeredAt
    : date + 1000 < sentAt
    ? date + 1000 - sentAt
    : 0;
  return Math.round(gap / 1000);
}
