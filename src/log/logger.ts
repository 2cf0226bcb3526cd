/**
 * The logger: one line per message with UTC time, component, level and text, written to
 * stderr and to `log_file` with size-based rotation. Every line passes through the scrubber,
 * so a secret never reaches a log.
 *
 * @module
 */
import { appendFileSync, existsSync, renameSync, rmSync, statSync } from "node:fs";
import { scrubText } from "../config/scrub.ts";

/** Log levels, most verbose first. */
export type Level = "trace" | "debug" | "info" | "warn" | "error" | "critical" | "off";
const RANK: Record<Level, number> = {
  trace: 0,
  debug: 1,
  info: 2,
  warn: 3,
  error: 4,
  critical: 5,
  off: 6,
};

/** Options of {@linkcode createLogger}. */
export interface LoggerOptions {
  /** Least severe level written. @default "info" */
  level?: Level;
  /** File to append to; empty for none. @default "" */
  file?: string;
  /** Rotate when the file would grow past this many bytes. @default 10485760 */
  maxSize?: number;
  /** Rotated files kept (`file.1` … `file.N`). @default 1 */
  maxRolls?: number;
  /** Also write to stderr. @default true */
  console?: boolean;
  /** Where console lines go. @default stderr */
  write?: (line: string) => void;
}

/** A component's logger. */
export interface Log {
  trace(msg: string): void;
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  critical(msg: string): void;
  /** True when `level` would be written: lets callers skip building costly messages. */
  enabled(level: Level): boolean;
}

/** The root logger: hands out component loggers and can be reconfigured once config is loaded. */
export interface Logger {
  for(component: string): Log;
  configure(options: LoggerOptions): void;
  readonly options: Readonly<Required<Omit<LoggerOptions, "write">>>;
}

/**
 * Creates a logger.
 *
 * @example
 * ```ts
 * import { createLogger } from "./logger.ts";
 * const log = createLogger({ level: "debug" }).for("agent");
 * log.info("started"); // 2026-01-01 00:00:00 UTC | OUTPOST | INFO | (agent) | started
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  let o = normalize(options);
  let write = options.write ?? ((line: string) => void process.stderr.write(line));
  let fileSize = sizeOf(o.file);

  function emit(level: Level, component: string, msg: string) {
    if (RANK[level] < RANK[o.level]) return;
    const line =
      scrubText(`${timestamp()} | OUTPOST | ${level.toUpperCase()} | (${component}) | ${msg}`) +
      "\n";
    if (o.console) write(line);
    if (o.file) toFile(line);
  }

  function toFile(line: string) {
    const bytes = Buffer.byteLength(line);
    if (fileSize > 0 && fileSize + bytes > o.maxSize) rotate();
    try {
      appendFileSync(o.file, line, { mode: 0o640 });
      fileSize += bytes;
    } catch (e) {
      if (o.console) {
        write(`${timestamp()} | OUTPOST | ERROR | (log) | cannot write ${o.file}: ${e}\n`);
      }
    }
  }

  function rotate() {
    if (o.maxRolls === 0) {
      rmSync(o.file, { force: true });
    } else {
      for (let i = o.maxRolls - 1; i >= 1; i--) {
        if (existsSync(`${o.file}.${i}`)) renameSync(`${o.file}.${i}`, `${o.file}.${i + 1}`);
      }
      renameSync(o.file, `${o.file}.1`);
    }
    fileSize = 0;
  }

  return {
    for(component) {
      const at = (level: Level) => (msg: string) => emit(level, component, msg);
      return {
        trace: at("trace"),
        debug: at("debug"),
        info: at("info"),
        warn: at("warn"),
        error: at("error"),
        critical: at("critical"),
        enabled: (level) => RANK[level] >= RANK[o.level],
      };
    },
    configure(next) {
      o = normalize({ ...o, ...next });
      if (next.write) write = next.write;
      fileSize = sizeOf(o.file);
    },
    get options() {
      return o;
    },
  };
}

function normalize(options: LoggerOptions): Required<Omit<LoggerOptions, "write">> {
  return {
    level: options.level ?? "info",
    file: options.file ?? "",
    maxSize: options.maxSize ?? 10 * 1024 * 1024,
    maxRolls: options.maxRolls ?? 1,
    console: options.console ?? true,
  };
}

function sizeOf(file: string): number {
  try {
    return file ? statSync(file).size : 0;
  } catch {
    return 0;
  }
}

/** `YYYY-MM-DD HH:MM:SS UTC` */
function timestamp(): string {
  return new Date().toISOString().replace("T", " ").slice(0, 19) + " UTC";
}
