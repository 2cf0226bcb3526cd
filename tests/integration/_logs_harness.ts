/** A log sources pipeline on real files and sockets, collecting what it outputs. */
import { join } from "node:path";
import { configDefaults } from "../../src/config/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { runtime } from "../../src/runtime/mod.ts";
import { Registry } from "../../src/telemetry/mod.ts";
import {
  Auditor,
  buildLogSources,
  type LogMessage,
  type LogsSettings,
} from "../../src/logs/mod.ts";
import { parseLogsConfig } from "../../src/logs/_settings.ts";
import { logsSettings } from "../../src/logs/mod.ts";

export interface HarnessOptions {
  settings?: Partial<LogsSettings>;
  canAccept?: () => boolean;
}

/** Sources from raw `logs:` entries, with short poll and scan periods. */
export function logsHarness(dir: string, raw: unknown[], o: HarnessOptions = {}) {
  const base = logsSettings(configDefaults(), join(dir, "datadog.yaml"));
  const sources = raw.map((r, i) => {
    const p = parseLogsConfig(r, {
      integration: `src${i}`,
      configFile: "",
      globalRules: [],
      autoMultiLine: false,
    });
    if ("error" in p) throw new Error(p.error);
    return p.config;
  });
  const settings: LogsSettings = {
    ...base,
    registryPath: join(dir, "run", "registry.json"),
    sources,
    filePollMs: 20,
    scanPeriodMs: 100,
    closeTimeoutMs: 1000,
    aggregationTimeoutMs: 200,
    ...o.settings,
  };
  const messages: LogMessage[] = [];
  const registry = new Registry();
  const auditor = new Auditor({ path: settings.registryPath, flushMs: 50 });
  const built = buildLogSources(settings, {
    runtime,
    registry,
    logger: createLogger({ console: false }),
    hostname: "test-host",
    auditor,
    output: (m) => messages.push(m),
    canAccept: o.canAccept,
  });
  const text = () => messages.map((m) => new TextDecoder().decode(m.content));
  return {
    settings,
    messages,
    registry,
    auditor,
    sources: built,
    text,
    async start() {
      await auditor.start();
      await built.start();
    },
    async stop() {
      await built.stop();
      await auditor.stop();
    },
    /** Acknowledges every message so far, as the sender does after the intake accepted them. */
    ackAll() {
      auditor.ack(messages.map((m) => m.origin));
    },
    async waitFor(pred: () => boolean, what: string, ms = 10_000) {
      const end = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > end) {
          throw new Error(
            `timed out waiting for ${what}; got ${messages.length} messages: ${
              JSON.stringify(text().slice(-5))
            }`,
          );
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}
