/**
 * The processor (A.3): applies a source's exclude, include and mask rules to each event in
 * order, reads a status from JSON content, and builds the {@linkcode LogMessage} the sender takes.
 * Rules run on text; events of a source without such rules stay bytes and are never decoded.
 *
 * @module
 */
import type { LogsEvents } from "../telemetry/events/mod.ts";
import type { LogEvent } from "./_lines.ts";
import {
  type LogMessage,
  type LogsConfig,
  type LogSource,
  nextSeq,
  type ProcessingRule,
  type StartPosition,
} from "./_message.ts";

/** Options of {@linkcode createProcessor}. */
export interface ProcessorOptions {
  source: LogSource;
  hostname: string;
  /** Every tag of the messages: the source's, then the tailer's (`filename:`…). */
  tags: string[];
  /** Added to the tags of a cut event, when `tag_truncated_logs` is on. */
  truncatedTag?: string;
  /** Host tags added to every message until `until` (epoch ms): `expected_tags_duration`. */
  hostTags?: { tags: string[]; until: number };
  /** Registry key of the stream; `""` when it is not recorded (listeners, rotated files). */
  identifier: () => string;
  /** Fingerprint of the file being read now (see {@linkcode Origin.fingerprint}). */
  fingerprint: () => string;
  tailingMode: StartPosition;
  output: (m: LogMessage) => void;
  events: LogsEvents;
}

const UTF8 = new TextDecoder();
const ENCODER = new TextEncoder();
/** Attributes Datadog's status remapper reads, in its order. */
const STATUS_KEYS = ["status", "severity", "level"] as const;
const MAY_HAVE_STATUS = /"(?:status|severity|level)"\s*:/;

/** A function that processes one event of `source` and hands the message on (or drops it). */
export function createProcessor(o: ProcessorOptions): (e: LogEvent) => void {
  const rules = o.source.config.rules.filter((r) => r.type !== "multi_line");
  const { events, source, output } = o;
  const withHost = o.hostTags ? [...o.tags, ...o.hostTags.tags] : o.tags;
  const until = o.hostTags?.until ?? 0;
  const tagsOf = (e: LogEvent): string[] => {
    const base = until > 0 && Date.now() < until ? withHost : o.tags;
    return e.truncated && o.truncatedTag ? [...base, o.truncatedTag] : base;
  };
  return (e) => {
    events.logsDecoded.inc();
    let content = e.content;
    let text: string | undefined;
    if (rules.length > 0) {
      text = applyRules(rules, UTF8.decode(content));
      if (text === undefined) return;
      content = ENCODER.encode(text);
    }
    output({
      content,
      status: content[0] === 0x7b ? jsonStatus(text ?? UTF8.decode(content)) : "info",
      timestamp: Date.now(),
      hostname: o.hostname,
      service: source.config.service,
      source: source.config.source,
      tags: tagsOf(e),
      origin: {
        source,
        identifier: o.identifier(),
        fingerprint: o.fingerprint(),
        offset: String(e.offset),
        tailingMode: o.tailingMode,
        seq: nextSeq(),
      },
      rawBytes: e.rawLen,
    });
  };
}

/**
 * The tag of a cut event: `truncated:single_line`, or the line handler's reason
 * (`multi_line`, `auto_multiline`; those two names are ours, the Go agent's are unverified).
 */
export function truncatedTag(config: LogsConfig): string {
  if (config.rules.some((r) => r.type === "multi_line")) return "truncated:multi_line";
  return config.autoMultiLine ? "truncated:auto_multiline" : "truncated:single_line";
}

/** The text after the rules, or undefined when a rule drops it. */
export function applyRules(rules: readonly ProcessingRule[], text: string): string | undefined {
  for (const r of rules) {
    switch (r.type) {
      case "exclude_at_match":
        if (r.regex.test(text)) return undefined;
        break;
      case "include_at_match":
        if (!r.regex.test(text)) return undefined;
        break;
      case "mask_sequences":
        text = text.replace(r.regex, r.replace);
        break;
    }
  }
  return text;
}

/** `status`, `severity` or `level` of a JSON object, as given; `info` when it has none. */
export function jsonStatus(text: string): string {
  if (!MAY_HAVE_STATUS.test(text)) return "info";
  try {
    const o = JSON.parse(text);
    if (o !== null && typeof o === "object" && !Array.isArray(o)) {
      for (const k of STATUS_KEYS) {
        const v = o[k];
        if (typeof v === "string" && v !== "") return v.slice(0, 64);
      }
    }
  } catch {
    // not JSON after all: a plain line that starts with `{`
  }
  return "info";
}
