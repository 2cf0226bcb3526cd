/**
 * The sources half of log collection wired together: the file launcher and the TCP/UDP
 * listeners, each message processed and handed to the sender's `output` in order per origin.
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";
import type { Runtime } from "../runtime/types.ts";
import { logsEvents } from "../telemetry/events/mod.ts";
import type { Registry } from "../telemetry/mod.ts";
import type { Auditor } from "./_auditor.ts";
import { FileLauncher } from "./_launcher.ts";
import { type Listener, startListener } from "./_listeners.ts";
import { emptyInfo, type LogMessage, type LogSource } from "./_message.ts";
import type { LogsSettings } from "./_settings.ts";
import type { TailerContext } from "./_tailer.ts";

/** What the sources need from the agent. */
export interface LogsPipelineDeps {
  runtime: Runtime;
  registry: Registry;
  logger: Logger;
  hostname: string;
  auditor: Auditor;
  /** Called for each processed message, in order per origin. */
  output: (m: LogMessage) => void;
  /** Back-pressure: while false, tailers stop reading and listeners drop (counted). */
  canAccept?: () => boolean;
}

/** The running sources. */
export interface LogSources {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Every configured source with its live status, for the status page. */
  sources(): LogSource[];
  /** The launcher's global warning (the open-files limit reached), or "". */
  warnings(): string[];
}

/**
 * Builds the sources of `settings.sources`; starts nothing.
 *
 * @example Tail one file into an array
 * ```ts ignore
 * const sources = buildLogSources(settings, { runtime, registry, logger, hostname, auditor, output: (m) => out.push(m) });
 * await auditor.start();
 * await sources.start();
 * ```
 */
export function buildLogSources(settings: LogsSettings, deps: LogsPipelineDeps): LogSources {
  const events = logsEvents(deps.registry);
  const log = deps.logger.for("logs");
  const all: LogSource[] = settings.sources.map((config) => ({
    name: config.integration,
    type: config.type,
    config,
    status: { state: "pending" },
    info: emptyInfo(),
  }));
  const canAccept = deps.canAccept ?? (() => true);
  const ctx: TailerContext = {
    maxMessageSize: settings.maxMessageSize,
    aggregationTimeoutMs: settings.aggregationTimeoutMs,
    closeTimeoutMs: settings.closeTimeoutMs,
    filePollMs: settings.filePollMs,
    jsonDetection: settings.jsonDetection,
    autoMultiLinePatterns: settings.autoMultiLinePatterns,
    tagTruncated: settings.tagTruncated,
    hostname: deps.hostname,
    auditor: deps.auditor,
    events,
    output: deps.output,
    canAccept,
    log,
  };
  const launcher = new FileLauncher(all.filter((s) => s.type === "file"), settings, ctx);
  let listeners: Listener[] = [];
  return {
    async start() {
      events.sources.set(all.length);
      if (settings.expectedTagsMs > 0 && settings.hostTags.length > 0) {
        ctx.hostTags = { tags: settings.hostTags, until: Date.now() + settings.expectedTagsMs };
      }
      await launcher.start();
      listeners = (await Promise.all(
        all.filter((s) => s.type !== "file").map((s) =>
          startListener(s, {
            ...ctx,
            runtime: deps.runtime,
            frameSize: settings.frameSize,
            useSourcehostTag: settings.useSourcehostTag,
          }).catch((e: unknown) => {
            s.status = { state: "error", message: (e as Error).message };
            log.error(`Cannot start the ${s.type} listener of ${s.name}: ${(e as Error).message}`);
            return null;
          })
        ),
      )).filter((l: Listener | null): l is Listener => l !== null);
    },
    async stop() {
      await Promise.all(listeners.map((l) => l.stop()));
      await launcher.stop();
    },
    sources: () => all,
    warnings: () => (launcher.warning ? [launcher.warning] : []),
  };
}
