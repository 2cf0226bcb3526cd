/**
 * The "Logs Agent" section of `outpost status` (logs-apmstats A.6): endpoints, the
 * `logs-agent` counters, and each integration's sources with their inputs and counters. The
 * JSON is the Datadog Agent's `logsStats` object.
 */
import type { StatusData, StatusProvider, Style } from "../status/mod.ts";
import { LOGS_SEND, type Registry } from "../telemetry/mod.ts";
import type { LogSource } from "./_message.ts";
import type { LogsSenderSettings } from "./_sender_settings.ts";

/** What the section reads from a running logs component. */
export interface LogsStatusView {
  settings: LogsSenderSettings;
  sources(): LogSource[];
  /** Bad `logs:` entries and other configuration errors, one line each. */
  errors(): string[];
  warnings(): string[];
}

/** One source as the JSON status shows it. */
interface SourceJson {
  type: string;
  configuration: Record<string, string | number>;
  status: string;
  inputs: string[];
  messages: string[];
  info: Record<string, string | number>;
  bytes_read: number;
}

/** `Reliable: Sending compressed logs in HTTPS to <host> on port <port>` per endpoint. */
export function endpointLines(s: LogsSenderSettings): string[] {
  const describe = (label: string) => (d: { url: string }) => {
    const u = new URL(d.url);
    const https = u.protocol === "https:";
    const port = u.port || (https ? "443" : "80");
    const what = s.compression === "none" ? "logs" : "compressed logs";
    return `${label}: Sending ${what} in ${
      https ? "HTTPS" : "HTTP"
    } to ${u.hostname} on port ${port}`;
  };
  return [...s.reliable.map(describe("Reliable")), ...s.unreliable.map(describe("Unreliable"))];
}

/** Every `logs-agent` variable as a flat `name → number`, label maps summed. */
function metrics(registry: Registry): Record<string, number> {
  const group = (registry.snapshot()["logs-agent"] ?? {}) as Record<string, unknown>;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(group)) {
    if (typeof v === "number") out[k] = v;
    else if (v && typeof v === "object") {
      out[k] = Object.values(v as Record<string, unknown>).reduce<number>(
        (a, b) => a + (typeof b === "number" ? b : 0),
        0,
      );
    }
  }
  delete out.IsRunning;
  return Object.fromEntries(Object.keys(out).sort().map((k) => [k, out[k]]));
}

function rotationDate(ms: number): string {
  const iso = new Date(ms).toISOString().replace("T", " ").slice(0, 19);
  return `${iso} UTC (${ms})`;
}

function sourceJson(s: LogSource): SourceJson {
  const c = s.config;
  const configuration: Record<string, string | number> = s.type === "file"
    ? { Path: c.path, Service: c.service, Source: c.source }
    : { Port: c.port, Service: c.service, Source: c.source };
  const status = s.status.state === "ok"
    ? "OK"
    : s.status.state === "pending"
    ? "Pending"
    : `Error: ${s.status.message ?? "unknown"}`;
  const info: Record<string, string | number> = {
    "Bytes Read": s.info.bytesRead,
    "Lines": s.info.lines,
    "MultiLine matches": s.info.multiLineMatches,
    "Lines Combined": s.info.linesCombined,
    "Lines Truncated": s.info.truncated,
    "Decoding Errors": s.info.decodingErrors,
  };
  if (s.info.lastRotation > 0) info["Last Rotation Date"] = rotationDate(s.info.lastRotation);
  return {
    type: s.type,
    configuration,
    status,
    inputs: [...s.info.inputs],
    messages: [...s.info.messages],
    info,
    bytes_read: s.info.bytesRead,
  };
}

/** The `logsStats` JSON. */
export function logsStatusJson(registry: Registry, view: LogsStatusView | null): StatusData {
  if (!view) {
    return { logsStats: { is_running: false, logs_enabled: false, endpoints: [], metrics: {} } };
  }
  const byName = new Map<string, SourceJson[]>();
  for (const s of view.sources()) {
    const list = byName.get(s.name) ?? [];
    list.push(sourceJson(s));
    byName.set(s.name, list);
  }
  return {
    logsStats: {
      is_running: registry.read(LOGS_SEND.isRunning) === true,
      logs_enabled: true,
      use_http: true,
      endpoints: endpointLines(view.settings),
      metrics: metrics(registry),
      integrations: [...byName].sort(([a], [b]) => a.localeCompare(b)).map(([name, sources]) => ({
        name,
        sources,
      })),
      errors: view.errors(),
      warnings: view.warnings(),
    },
  };
}

/** The text section, laid out as the Datadog Agent's template. */
export function renderLogsStatus(data: StatusData, style: Style): string {
  const st = data.logsStats as {
    is_running: boolean;
    logs_enabled: boolean;
    endpoints: string[];
    metrics: Record<string, number>;
    integrations?: Array<{ name: string; sources: SourceJson[] }>;
    errors?: string[];
    warnings?: string[];
  };
  if (!st.logs_enabled) {
    return style.warn("  Logs Agent is not running") + "\n    logs_enabled: false";
  }
  const out: string[] = [];
  if (!st.is_running) out.push(style.warn("  Logs Agent is not running"));
  for (const e of st.endpoints) out.push(`    ${e}`);
  for (const [k, v] of Object.entries(st.metrics)) out.push(`    ${k}: ${v}`);
  if (st.errors?.length) {
    out.push("", style.error("  Errors"), ...st.errors.map((e) => `    ${style.error(e)}`));
  }
  if (st.warnings?.length) {
    out.push("", style.warn("  Warnings"), ...st.warnings.map((w) => `    ${style.warn(w)}`));
  }
  out.push("", "  ============", "  Integrations", "  ============");
  for (const { name, sources } of st.integrations ?? []) {
    out.push("", `  ${name}`, `  ${"-".repeat(name.length)}`);
    for (const s of sources) {
      out.push(`    - Type: ${s.type}`);
      for (const [k, v] of Object.entries(s.configuration)) out.push(`      ${k}: ${v}`);
      const status = s.status === "OK"
        ? style.ok(s.status)
        : s.status === "Pending"
        ? style.warn(s.status)
        : style.error(s.status);
      out.push(`      Status: ${status}`);
      if (s.inputs.length) out.push("      Inputs:", ...s.inputs.map((i) => `        ${i}`));
      for (const m of s.messages) out.push(`      ${m}`);
      for (const [k, v] of Object.entries(s.info)) out.push(`      ${k}: ${v}`);
    }
  }
  return out.join("\n");
}

/**
 * The status provider of section `logs`; `view` is null when `logs_enabled` is false.
 *
 * @example Logs off
 * ```ts
 * import { PLAIN } from "../status/mod.ts";
 * import { Registry } from "../telemetry/mod.ts";
 * import { logsStatusProvider } from "./_status.ts";
 * const p = logsStatusProvider(new Registry(), null);
 * console.assert(p.text(await p.data(), PLAIN).includes("logs_enabled: false"));
 * ```
 */
export function logsStatusProvider(
  registry: Registry,
  view: LogsStatusView | null,
): StatusProvider {
  return {
    name: "Logs Agent",
    section: "logs",
    data: () => logsStatusJson(registry, view),
    text: renderLogsStatus,
  };
}
