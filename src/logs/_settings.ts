/**
 * The logs settings: the global `logs_config.*` keys the sources need, and every `logs:` entry
 * of conf.d validated into a {@linkcode LogsConfig}. A bad entry is one line in `errors`, naming
 * the file and the key; the other entries still run.
 *
 * @module
 */
import { isAbsolute, join } from "node:path";
import * as v from "valibot";
import type { Config } from "../config/mod.ts";
import { LIST, listOf, oneOf, port, text } from "../config/_kinds.ts";
import { processingRuleSchema } from "../config/keys/logs.ts";
import { checksSettings } from "../checks/mod.ts";
import { loadConfd } from "../checks/confd/mod.ts";
import { OutpostError } from "../errors.ts";
import type { LogsConfig, ProcessingRule, StartPosition } from "./_message.ts";
import { compileRule, type RawRule } from "./_rules.ts";

/** What the sources half of log collection reads from the config. */
export interface LogsSettings {
  enabled: boolean;
  /** `<logs_config.run_path or run_path>/registry.json`. */
  registryPath: string;
  /** Every valid `logs:` entry of conf.d, in file order. */
  sources: LogsConfig[];
  /** One line per refused entry: `<file>: logs[<i>].<key>: <what was expected>`. */
  errors: string[];
  /** Entries kept with a setting ignored (an unparsable `idle_timeout`). */
  warnings: string[];
  openFilesLimit: number;
  scanPeriodMs: number;
  selectionMode: "by_name" | "by_modification_time";
  /** Longest line or event in bytes (`max_message_size_bytes`). */
  maxMessageSize: number;
  tagTruncated: boolean;
  /** `auto_multi_line_extra_patterns`, compiled: lines they match (at the start) start an event. */
  autoMultiLinePatterns: RegExp[];
  /** TCP read buffer and largest UDP datagram kept. */
  frameSize: number;
  closeTimeoutMs: number;
  aggregationTimeoutMs: number;
  useSourcehostTag: boolean;
  auditorTtlMs: number;
  /** The global `tags`, added to every message for `expectedTagsMs` after start. */
  hostTags: string[];
  expectedTagsMs: number;
  /** Sleep of a tailer at end of file, in ms (the Go agent's 1 s; tests shorten it). */
  filePollMs: number;
  /** Auto multi-line never groups JSON lines (`auto_multi_line.enable_json_detection`). */
  jsonDetection: boolean;
}

const TYPES = ["file", "tcp", "udp"] as const;
/** Types the Datadog Agent knows that have no meaning (or no reader) on an outpost host. */
const UNSUPPORTED = new Set(["journald", "windows_event", "docker", "container", "integration"]);

/** `tags` may be a list or one comma-separated string. */
const tagsSchema = v.optional(
  v.union([
    v.pipe(text(65_536), v.transform((s) => s.split(",").map((t) => t.trim()).filter(Boolean))),
    v.pipe(v.array(text(1024)), v.maxLength(1000)),
  ], `${LIST}, or a comma-separated string`),
  [],
);

const sourceSchema = v.object({
  type: v.picklist(TYPES, "expected file, tcp or udp"),
  path: v.optional(v.pipe(text(4096), v.check((p) => !p.includes("\0"))), ""),
  exclude_paths: listOf(text(4096), [], { max: 1000 }),
  port: v.optional(port(0), 0),
  idle_timeout: v.optional(text(64), ""),
  service: v.optional(text(512), ""),
  source: v.optional(text(512), ""),
  sourcecategory: v.optional(text(512), ""),
  tags: tagsSchema,
  encoding: oneOf(["utf-8", "utf-16-le", "utf-16-be"] as const, "utf-8"),
  start_position: oneOf(["end", "beginning", "forceEnd", "forceBeginning"] as const, "end"),
  log_processing_rules: listOf(processingRuleSchema, [], { max: 256 }),
  auto_multi_line_detection: v.optional(v.boolean("expected a boolean (true or false)")),
});

/**
 * Reads the logs keys and conf.d's `logs:` sections. conf.d is `confd_path`, else `conf.d`
 * beside the config file (as the checks read it). Throws `config_invalid` for a global
 * processing rule whose pattern does not compile, as that would change every source.
 *
 * @example
 * ```ts
 * import { configDefaults } from "../config/mod.ts";
 * import { logsSettings } from "./_settings.ts";
 * const s = logsSettings(configDefaults(), "/nonexistent/datadog.yaml");
 * console.assert(s.enabled === false && s.sources.length === 0);
 * ```
 */
export function logsSettings(config: Config, configFile: string | null): LogsSettings {
  const lc = config.logs_config;
  const globalRules = lc.processing_rules.map((r, i) => {
    try {
      return compileRule(r);
    } catch (e) {
      throw new OutpostError(
        "config_invalid",
        `Invalid config key "logs_config.processing_rules[${i}]" (${r.name}): ${
          (e as Error).message
        }`,
      );
    }
  });
  const errors: string[] = [];
  const warnings: string[] = [];
  const sources: LogsConfig[] = [];
  const confd = loadConfd({
    confdPaths: checksSettings(config, configFile).confdPaths,
    defaults: [],
    env: process.env,
  });
  for (const c of confd.configs) {
    if (!c.logs) continue;
    const file = c.source.replace(/^file:/, "");
    c.logs.forEach((raw, i) => {
      const r = parseLogsConfig(raw, {
        integration: c.name,
        configFile: file,
        globalRules,
        autoMultiLine: lc.auto_multi_line_detection,
      });
      const where = `${file}: logs[${i}]`;
      if ("error" in r) errors.push(`${where}${r.error}`);
      else {
        sources.push(r.config);
        for (const w of r.warnings) warnings.push(`${where}${w}`);
      }
    });
  }
  return {
    enabled: config.logs_enabled,
    registryPath: join(lc.run_path || config.run_path, "registry.json"),
    sources,
    errors,
    warnings,
    openFilesLimit: lc.open_files_limit,
    scanPeriodMs: Math.round(lc.file_scan_period * 1000),
    selectionMode: lc.file_wildcard_selection_mode,
    maxMessageSize: lc.max_message_size_bytes,
    tagTruncated: lc.tag_truncated_logs,
    autoMultiLinePatterns: lc.auto_multi_line_extra_patterns.map((pattern, i) => {
      try {
        return compileRule({ type: "multi_line", name: "", pattern, replace_placeholder: "" })
          .regex;
      } catch (e) {
        throw new OutpostError(
          "config_invalid",
          `Invalid config key "logs_config.auto_multi_line_extra_patterns[${i}]": ${
            (e as Error).message
          }`,
        );
      }
    }),
    frameSize: lc.frame_size,
    closeTimeoutMs: lc.close_timeout * 1000,
    aggregationTimeoutMs: lc.aggregation_timeout,
    useSourcehostTag: lc.use_sourcehost_tag,
    auditorTtlMs: lc.auditor_ttl * 3600_000,
    hostTags: config.tags,
    expectedTagsMs: lc.expected_tags_duration * 1000,
    filePollMs: 1000,
    jsonDetection: lc.auto_multi_line.enable_json_detection,
  };
}

/** Where an entry came from and the global settings it inherits. */
export interface ParseContext {
  integration: string;
  configFile: string;
  globalRules: ProcessingRule[];
  autoMultiLine: boolean;
}

/**
 * Validates one `logs:` entry. The error (when any) starts with `.<key>: ` so the caller can
 * put the file and index in front.
 */
export function parseLogsConfig(
  raw: unknown,
  ctx: ParseContext,
): { config: LogsConfig; warnings: string[] } | { error: string } {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return { error: ": expected a map" };
  }
  const type = (raw as Record<string, unknown>).type;
  if (typeof type === "string" && UNSUPPORTED.has(type)) {
    return { error: `.type: ${type} sources are not supported by outpost (file, tcp, udp are)` };
  }
  const r = v.safeParse(sourceSchema, raw);
  if (!r.success) {
    const issue = r.issues[0];
    const key = (issue.path ?? []).map((p) =>
      typeof p.key === "number" ? `[${p.key}]` : `.${p.key}`
    )
      .join("");
    return { error: `${key}: ${issue.message}` };
  }
  const s = r.output;
  if (s.type === "file") {
    if (s.path === "") return { error: ".path: expected a path for a file source" };
    if (!isAbsolute(s.path)) return { error: `.path: expected an absolute path, got "${s.path}"` };
  } else if (s.port === 0) {
    return { error: `.port: expected a port from 1 to 65535 for a ${s.type} source` };
  }
  const rules: ProcessingRule[] = [...ctx.globalRules];
  for (const [j, rule] of s.log_processing_rules.entries()) {
    try {
      rules.push(compileRule(rule as RawRule));
    } catch (e) {
      return { error: `.log_processing_rules[${j}] (${rule.name}): ${(e as Error).message}` };
    }
  }
  const warnings: string[] = [];
  let idleTimeoutMs = 0;
  if (s.idle_timeout !== "") {
    const ms = parseGoDuration(s.idle_timeout);
    if (ms === null) {
      warnings.push(
        `.idle_timeout: Error parsing log's idle_timeout as a duration: ${s.idle_timeout}`,
      );
    } else idleTimeoutMs = ms;
  }
  return {
    warnings,
    config: {
      type: s.type,
      integration: ctx.integration,
      configFile: ctx.configFile,
      path: s.path,
      excludePaths: s.exclude_paths,
      port: s.port,
      idleTimeoutMs,
      service: s.service,
      source: s.source,
      sourceCategory: s.sourcecategory,
      tags: s.tags,
      startPosition: s.start_position as StartPosition,
      encoding: s.encoding,
      rules,
      autoMultiLine: s.auto_multi_line_detection ?? ctx.autoMultiLine,
    },
  };
}

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's `time.ParseDuration` (`1h30m`, `500ms`, `30s`) in ms; null when it does not parse. */
export function parseGoDuration(text: string): number | null {
  if (text === "0") return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let at = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    total += Number(m[1]) * UNIT_MS[m[2]];
    at = re.lastIndex;
  }
  return at === text.length && at > 0 ? total : null;
}
