/**
 * The function's logs in Lambda mode: the Telemetry API's `function` and `extension` records,
 * and START / END / REPORT lines made from the platform events, each tagged with the function's
 * ARN and the request id of its invocation, run through the global processing rules and handed
 * to the logs component, whose sender and the forwarder's `logs` pipeline deliver them with the
 * invocation's flush. Facts from the Go serverless agent (`pkg/serverless/logs`) and bottlecap
 * (`logs/lambda/processor.rs`).
 *
 * Request ids: a record that names none belongs to the invocation of the last `platform.start`
 * (lines a handler prints after it returned still carry its id, as in the Go agent); records
 * before the first `platform.start` (the init phase) are held and get the first invocation's id.
 */
import type { Config } from "../config/mod.ts";
import {
  emptyInfo,
  type LogMessage,
  type LogSource,
  nextSeq,
  type ProcessingRule,
} from "../logs/_message.ts";
import { applyRules, jsonStatus } from "../logs/_processor.ts";
import { compileRule } from "../logs/_rules.ts";
import { isOutOfMemoryLog, recordText, type TelemetryEvent } from "./_telemetry.ts";
import type { LambdaEnv } from "./detect/mod.ts";

/** The Telemetry API types that can be sent as logs. */
export type LambdaLogType = "platform" | "function" | "extension";
const LOG_TYPES: readonly LambdaLogType[] = ["platform", "function", "extension"];

/** What the Lambda mode sends as logs. */
export interface LambdaLogsSettings {
  /** Whether the function's logs are sent (see {@linkcode lambdaLogsSettings}). */
  enabled: boolean;
  /** `logs_config.lambda_logs_type`: the types sent; platform ones as START/END/REPORT lines. */
  types: LambdaLogType[];
  /** The REPORT line needs `enhanced_metrics`, as in the Go agent. */
  reportLine: boolean;
  /** `logs_config.processing_rules`, compiled. */
  rules: ProcessingRule[];
  /** The global `tags` (`DD_TAGS`). */
  tags: string[];
  /** `logs_config.max_message_size_bytes`: longer function lines are cut, as other sources'. */
  maxMessageSize: number;
  /** Settings not understood, to be logged. */
  warnings: string[];
}

/**
 * Reads the logs settings of the Lambda mode. On or off is bottlecap's rule: when
 * `DD_SERVERLESS_LOGS_ENABLED` or `DD_LOGS_ENABLED` is set, logs are on if either set one is
 * true (so `DD_LOGS_ENABLED=false` alone turns them off, and `DD_SERVERLESS_LOGS_ENABLED=false`
 * with `DD_LOGS_ENABLED=true` leaves them on); with neither set, `serverless_logs_enabled`
 * decides (true by default, as `serverless.logs_enabled` in the Go agent).
 *
 * @example
 * ```ts
 * import { configDefaults } from "../config/mod.ts";
 * import { lambdaLogsSettings } from "./_logs.ts";
 * console.assert(lambdaLogsSettings(configDefaults(), {}).enabled === true);
 * const off = { ...configDefaults(), logs_enabled: false };
 * console.assert(lambdaLogsSettings(off, { DD_LOGS_ENABLED: "false" }).enabled === false);
 * ```
 */
export function lambdaLogsSettings(config: Config, env: LambdaEnv): LambdaLogsSettings {
  const warnings: string[] = [];
  const serverlessSet = env.DD_SERVERLESS_LOGS_ENABLED !== undefined;
  const logsSet = env.DD_LOGS_ENABLED !== undefined;
  const enabled = serverlessSet || logsSet
    ? (serverlessSet && config.serverless_logs_enabled) || (logsSet && config.logs_enabled)
    : config.serverless_logs_enabled;
  const types: LambdaLogType[] = [];
  const words = config.logs_config.lambda_logs_type.trim().toLowerCase().split(/\s+/);
  for (const w of words.filter(Boolean)) {
    if ((LOG_TYPES as readonly string[]).includes(w)) {
      if (!types.includes(w as LambdaLogType)) types.push(w as LambdaLogType);
    } else {
      warnings.push(
        `logs_config.lambda_logs_type: unknown type "${w}" ignored (expected platform, function or extension)`,
      );
    }
  }
  const rules: ProcessingRule[] = [];
  config.logs_config.processing_rules.forEach((r, i) => {
    try {
      rules.push(compileRule(r));
    } catch (e) {
      warnings.push(`logs_config.processing_rules[${i}] (${r.name}): ${(e as Error).message}`);
    }
  });
  return {
    enabled,
    types: words.some(Boolean) ? types : [...LOG_TYPES],
    reportLine: config.enhanced_metrics,
    rules,
    tags: config.tags,
    maxMessageSize: config.logs_config.max_message_size_bytes,
    warnings,
  };
}

/**
 * The Telemetry API types to subscribe to: `platform` always (enhanced metrics, the
 * invocation's end), the record types only when logs are sent.
 */
export function subscriptionTypes(s: LambdaLogsSettings): LambdaLogType[] {
  if (!s.enabled) return ["platform"];
  return ["platform", ...s.types.filter((t) => t !== "platform")];
}

/** Records held before the first `platform.start` at most; beyond, they go without an id. */
export const MAX_HELD = 2000;

/** What {@linkcode LambdaLogs} needs. */
export interface LambdaLogsOptions {
  settings: LambdaLogsSettings;
  /** The function's ARN: the `lambda.arn` attribute, and the hostname, as bottlecap sends it. */
  arn: string;
  /** `DD_SERVICE`, else the function's name. */
  service: string;
  /** The function's tags, then the global ones. */
  tags: string[];
  /** The logs component's `push`; null when it is off (records are then only read). */
  output: ((m: LogMessage) => void) | null;
}

/** What {@linkcode LambdaLogs} counts (tests, status). */
export interface LambdaLogsStats {
  /** Messages handed to the logs component. */
  sent: number;
  /** Messages a processing rule dropped. */
  excluded: number;
  /** Records that were neither a string nor an object. */
  unreadable: number;
}

const ENCODER = new TextEncoder();

/** Datadog statuses of the `level` values of Lambda's JSON log format (bottlecap's mapping). */
const LEVELS: Record<string, string> = {
  FATAL: "critical",
  CRITICAL: "critical",
  ERROR: "error",
  ERR: "error",
  WARN: "warn",
  WARNING: "warn",
  INFO: "info",
  INFORMATION: "info",
  DEBUG: "debug",
  TRACE: "trace",
};

/** Two decimals, as both agents print durations. */
const ms = (n: unknown) => (typeof n === "number" ? n : 0).toFixed(2);
/** Whole numbers for the sizes and the billed duration (the Go agent's `%d`). */
const whole = (n: unknown) => String(Math.trunc(typeof n === "number" ? n : 0));

/** Turns telemetry batches into log messages for the logs component. */
export class LambdaLogs {
  readonly stats: LambdaLogsStats = { sent: 0, excluded: 0, unreadable: 0 };
  readonly #o: LambdaLogsOptions;
  readonly #source: LogSource;
  /** The request id of the last `platform.start`; "" before the first. */
  #requestId = "";
  /** Lines waiting for the first request id. */
  #held: LogMessage[] = [];
  /** runtimeDone's duration per request id, for the REPORT line. */
  readonly #runtimeMs = new Map<string, number>();

  constructor(o: LambdaLogsOptions) {
    this.#o = o;
    this.#source = {
      name: "lambda",
      type: "lambda",
      config: {
        type: "lambda",
        integration: "lambda",
        configFile: "",
        path: "",
        excludePaths: [],
        port: 0,
        idleTimeoutMs: 0,
        service: o.service,
        source: "lambda",
        sourceCategory: "",
        tags: o.tags,
        startPosition: "end",
        encoding: "utf-8",
        rules: o.settings.rules,
        autoMultiLine: false,
      },
      status: { state: "ok" },
      info: emptyInfo(),
    };
  }

  /** Handles one batch, in time order (Lambda does not promise it within a batch). */
  handle(events: TelemetryEvent[]): void {
    const sorted = events
      .filter((e) => e !== null && typeof e === "object" && typeof e.type === "string")
      .map((e, i) => ({ e, i, t: Date.parse(e.time) }))
      .sort((a, b) => (a.t - b.t) || (a.i - b.i));
    for (const { e, t } of sorted) this.#event(e, Number.isFinite(t) ? t : Date.now());
  }

  /** Sends the lines still waiting for a request id without one (at SHUTDOWN). */
  release(): void {
    for (const m of this.#held.splice(0)) this.#send(m);
  }

  #event(e: TelemetryEvent, time: number): void {
    const { types, reportLine } = this.#o.settings;
    const r = (e.record ?? {}) as Record<string, unknown>;
    const id = typeof r.requestId === "string" ? r.requestId : "";
    switch (e.type) {
      case "function":
      case "extension":
        if (types.includes(e.type)) this.#record(e.record, time);
        return;
      case "platform.initStart":
        // Before any invocation: held, like the init lines, for the first request id.
        if (types.includes("platform")) {
          const v = (k: string) => (typeof r[k] === "string" ? r[k] : "");
          this.#line(
            `INIT_START Runtime Version: ${v("runtimeVersion")} Runtime Version ARN: ${
              v("runtimeVersionArn")
            }`,
            time,
            "",
          );
        }
        return;
      case "platform.start":
        if (!id) return;
        this.#requestId = id;
        // The held lines came first: they go before the START line, in their order.
        for (const m of this.#held.splice(0)) {
          m.lambda = { arn: this.#o.arn, requestId: id };
          this.#send(m);
        }
        if (types.includes("platform")) {
          this.#line(`START RequestId: ${id} Version: ${r.version ?? ""}`, time, id);
        }
        return;
      case "platform.runtimeDone": {
        const m = (r.metrics ?? {}) as Record<string, unknown>;
        if (typeof m.durationMs === "number") this.#runtimeMs.set(id, m.durationMs);
        if (!types.includes("platform") || !id) return;
        // bottlecap's suffixes: a timeout or an error shows on the END line, as an error.
        if (r.status === "timeout") {
          const s = ms((typeof m.durationMs === "number" ? m.durationMs : 0) / 1000);
          this.#line(`END RequestId: ${id} Task timed out after ${s} seconds`, time, id, "error");
        } else if (r.status === "error" || r.status === "failure") {
          const why = typeof r.errorType === "string" ? ` Task failed: ${r.errorType}` : "";
          this.#line(`END RequestId: ${id}${why}`, time, id, "error");
        } else this.#line(`END RequestId: ${id}`, time, id);
        return;
      }
      case "platform.report": {
        const runtime = this.#runtimeMs.get(id);
        this.#runtimeMs.delete(id);
        if (!types.includes("platform") || !reportLine || !id) return;
        const m = (r.metrics ?? {}) as Record<string, unknown>;
        if (typeof m.durationMs !== "number") return;
        // The Go agent's layout, tab-separated as Lambda's own REPORT line.
        const fields = [
          `REPORT RequestId: ${id}`,
          `Duration: ${ms(m.durationMs)} ms`,
          `Runtime Duration: ${ms(runtime ?? 0)} ms`,
          `Post Runtime Duration: ${ms(runtime === undefined ? 0 : m.durationMs - runtime)} ms`,
          `Billed Duration: ${whole(m.billedDurationMs)} ms`,
          `Memory Size: ${whole(m.memorySizeMB)} MB`,
          `Max Memory Used: ${whole(m.maxMemoryUsedMB)} MB`,
        ];
        if (typeof m.initDurationMs === "number" && m.initDurationMs > 0) {
          fields.push(`Init Duration: ${ms(m.initDurationMs)} ms`);
        }
        this.#line(fields.join("\t"), time, id);
        return;
      }
    }
  }

  /** A `function` / `extension` record: text (one line) or an object (JSON log format). */
  #record(record: unknown, time: number): void {
    const raw = recordText(record);
    if (raw === undefined) {
      this.stats.unreadable++;
      return;
    }
    const whole = raw.replace(/\r?\n$/, "");
    const text = cutToBytes(whole, this.#o.settings.maxMessageSize);
    if (text === "") return;
    if (text !== whole) this.#source.info.truncated++;
    let status: string;
    let id = "";
    if (typeof record === "object") {
      const o = record as Record<string, unknown>;
      const own = o.requestId ?? o.AWSRequestId;
      if (typeof own === "string") id = own;
      const level = typeof o.level === "string" ? LEVELS[o.level.toUpperCase()] : undefined;
      status = level ?? jsonStatus(text);
    } else {
      status = isOutOfMemoryLog(text) ? "error" : "info";
    }
    this.#line(text, time, id || this.#requestId, status);
  }

  /** Processes one line; with no request id known yet it is held for the first. */
  #line(text: string, time: number, requestId: string, status = "info"): void {
    if (!this.#o.output) return;
    const kept = applyRules(this.#o.settings.rules, text);
    if (kept === undefined) {
      this.stats.excluded++;
      return;
    }
    const content = ENCODER.encode(kept);
    const m: LogMessage = {
      content,
      status,
      timestamp: time,
      hostname: this.#o.arn,
      service: this.#o.service,
      source: "lambda",
      tags: this.#o.tags,
      origin: {
        source: this.#source,
        identifier: "",
        offset: "",
        tailingMode: "end",
        seq: nextSeq(),
      },
      rawBytes: content.length,
      lambda: { arn: this.#o.arn, requestId: requestId || null },
    };
    if (requestId) this.#send(m);
    else if (this.#held.length < MAX_HELD) this.#held.push(m);
    else this.#send(m);
  }

  #send(m: LogMessage): void {
    this.stats.sent++;
    this.#source.info.lines++;
    this.#source.info.bytesRead += m.rawBytes;
    this.#o.output!(m);
  }
}

const decoder = new TextDecoder();

/** `text` cut to at most `max` UTF-8 bytes, never inside a character. */
export function cutToBytes(text: string, max: number): string {
  // A UTF-16 unit is at most 3 UTF-8 bytes: most lines are short enough not to be encoded.
  if (text.length * 3 <= max) return text;
  const bytes = ENCODER.encode(text);
  if (bytes.length <= max) return text;
  let end = max;
  // Step back over continuation bytes (10xxxxxx) so a character is not split.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return decoder.decode(bytes.subarray(0, end));
}
