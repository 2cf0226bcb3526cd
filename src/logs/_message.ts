/**
 * The values that flow between the sources half of log collection (tailers, listeners,
 * processing) and the sending half (batches, sender, auditor acks, status).
 */

/** Where a file source starts reading when the registry has no offset for it (A.2.4). */
export type StartPosition = "beginning" | "end" | "forceBeginning" | "forceEnd";

/** Text encodings a file source may declare. */
export type Encoding = "utf-8" | "utf-16-le" | "utf-16-be";

/** A processing rule, its regex compiled once at load. */
export interface ProcessingRule {
  type: "exclude_at_match" | "include_at_match" | "mask_sequences" | "multi_line";
  name: string;
  /** The compiled pattern: global for `mask_sequences`, anchored at line start for `multi_line`. */
  regex: RegExp;
  /** `mask_sequences`: the replacer for `String.replace`, with Go's template semantics. */
  replace: (match: string, ...groups: unknown[]) => string;
}

/** One validated entry of a `logs:` list (an integration's) . */
export interface LogsConfig {
  /** `lambda`: the Lambda extension's telemetry records (src/serverless/_logs.ts), never in conf.d. */
  type: "file" | "tcp" | "udp" | "lambda";
  /** The integration it came from (the `<name>.d` of conf.d). */
  integration: string;
  /** The file it was read from, for messages; `""` when built in code. */
  configFile: string;
  /** `type: file`: the path or glob. */
  path: string;
  /** `type: file`: globs whose matches are not tailed. */
  excludePaths: string[];
  /** `type: tcp|udp`: the listening port. */
  port: number;
  /** `type: tcp`: ms of silence after which a connection is closed; 0 = never. */
  idleTimeoutMs: number;
  service: string;
  source: string;
  sourceCategory: string;
  tags: string[];
  startPosition: StartPosition;
  encoding: Encoding;
  /** The global rules, then the source's own, in file order. */
  rules: ProcessingRule[];
  /** Auto multi-line detection for this source (the source's setting, else the global one). */
  autoMultiLine: boolean;
}

/** A source's state for status: `Pending`, `OK` or `Error: <message>` (A.6). */
export interface SourceStatus {
  state: "pending" | "ok" | "error";
  /** Set when `state` is "error". */
  message?: string;
}

/** What status shows under a source (A.6): counters and the files it tails. */
export interface SourceInfo {
  bytesRead: number;
  /** Messages the source produced (after decoding, before the processing rules). */
  lines: number;
  /** Paths tailed now (files), or peers connected (tcp). */
  inputs: string[];
  multiLineMatches: number;
  linesCombined: number;
  /** Lines cut at `max_message_size_bytes`. */
  truncated: number;
  /** Invalid byte sequences replaced while decoding. */
  decodingErrors: number;
  /** Epoch ms of the last rotation seen, 0 if none. */
  lastRotation: number;
  /** Free-form lines such as "3 files tailed out of 5 files matching". */
  messages: string[];
}

/** A configured source of logs, with its live status. */
export interface LogSource {
  /** The integration name (status groups sources under it). */
  name: string;
  type: LogsConfig["type"];
  config: LogsConfig;
  status: SourceStatus;
  info: SourceInfo;
}

/** Where a message came from, for the registry and the auditor. */
export interface Origin {
  source: LogSource;
  /** Registry key, e.g. "file:/var/log/app.log"; `""` for listeners (never recorded). */
  identifier: string;
  /**
   * Fingerprint of the file the offset is in ("0" while it has fewer than 1024 bytes), recorded
   * with it: after a rotation the registry still says which file an offset belongs to.
   * Absent means "0" (unknown), as in origins built by hand.
   */
  fingerprint?: string;
  /** Byte offset after this message in the file, as a decimal string (as the Go registry). */
  offset: string;
  /** The source's tailing mode, recorded in the registry beside the offset. */
  tailingMode: StartPosition;
  /**
   * Order of creation in this process ({@linkcode nextSeq}): the auditor ignores an ack older
   * than the registry entry's last reset (a rotation), so offsets never go backwards.
   */
  seq: number;
}

/** One processed log line or multi-line event. */
export interface LogMessage {
  /** The processed content, valid UTF-8. */
  content: Uint8Array;
  status: string;
  /** Epoch ms. */
  timestamp: number;
  hostname: string;
  service: string;
  /** `ddsource`. */
  source: string;
  tags: string[];
  origin: Origin;
  /** Bytes read from the source for it (for status). */
  rawBytes: number;
  /**
   * The invocation a Lambda function's line belongs to: the intake event's `message` is then an
   * object, `{message, lambda: {arn, request_id}}`, as the Datadog serverless agents send it.
   */
  lambda?: { arn: string; requestId: string | null };
}

/** A fresh, zeroed `SourceInfo`. */
export function emptyInfo(): SourceInfo {
  return {
    bytesRead: 0,
    lines: 0,
    inputs: [],
    multiLineMatches: 0,
    linesCombined: 0,
    truncated: 0,
    decodingErrors: 0,
    lastRotation: 0,
    messages: [],
  };
}

let seq = 0;
/** The next value of the process-wide message sequence (see {@linkcode Origin.seq}). */
export function nextSeq(): number {
  return ++seq;
}
