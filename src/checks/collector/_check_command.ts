/**
 * `outpost check <name>`: loads the configs and loaders, runs each instance of one check in
 * this process against its own aggregator (nothing is sent, no port is bound), and prints
 * what the runs submitted and their stats.
 */
import type { ConfdResult, Loader } from "../_types.ts";
import type { Config } from "../../config/mod.ts";
import type { Logger } from "../../log/mod.ts";
import type { Runtime } from "../../runtime/types.ts";
import type { HttpClient } from "../../http/mod.ts";
import { Aggregator, memorySink } from "../../aggregator/mod.ts";
import type { Event, Serie, ServiceCheck, SketchSeries } from "../../metrics/model.ts";
import { Registry } from "../../telemetry/mod.ts";
import { PLAIN, type Style } from "../../status/mod.ts";
import { type ChecksSettings, Collector } from "./_collector.ts";
import { renderInstance } from "./_status.ts";
import { NO_CHECK } from "./_api.ts";
import type { CheckStatsJson } from "./_stats.ts";

/** Options of {@linkcode runCheckCommand}. */
export interface CheckCommandOptions {
  /** The check name (or its TitleCase form). */
  name: string;
  settings: ChecksSettings;
  runtime: Runtime;
  config: Config;
  logger: Logger;
  http: HttpClient;
  hostname: string;
  loaders: Loader[];
  loadConfigs: () => ConfdResult;
  /** Runs. @default 1 */
  times?: number;
  /** Two runs a second apart, for rates. @default false */
  checkRate?: boolean;
  /** ms between runs. @default 0 */
  pauseMs?: number;
  /** ms between the last run and reading the aggregator. @default 100 */
  delayMs?: number;
  /** @default false */
  json?: boolean;
  /** @default PLAIN */
  style?: Style;
  /** Where the output goes. @default console.log */
  out?: (text: string) => void;
  /** Where errors go. @default console.error */
  err?: (text: string) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `my_check` also answers to `MyCheck`. */
const normalizeName = (n: string) => n.toLowerCase().replace(/_/g, "");

/** The agent's own series and service check, which a check did not submit. */
const AGENT_SERIES = new Set([
  "datadog.agent.running",
  "n_o_i_n_d_e_x.datadog.agent.payload.dropped",
]);
const AGENT_SERVICE_CHECKS = new Set(["datadog.agent.up"]);

function seriesJson(s: Serie) {
  return {
    metric: s.name,
    points: s.points,
    tags: s.tags,
    host: s.host,
    type: s.type,
    interval: s.interval,
    source_type_name: s.sourceTypeName,
  };
}

function sketchJson(s: SketchSeries) {
  return {
    metric: s.name,
    tags: s.tags,
    host: s.host,
    interval: s.interval,
    points: s.points.map((p) => ({
      ts: p.ts,
      cnt: p.cnt,
      min: p.min,
      max: p.max,
      avg: p.avg,
      sum: p.sum,
    })),
  };
}

function serviceCheckJson(c: ServiceCheck) {
  return {
    check: c.name,
    host_name: c.host,
    timestamp: c.timestamp,
    status: c.status,
    message: c.message,
    tags: c.tags,
  };
}

function eventJson(e: Event) {
  return {
    msg_title: e.title,
    msg_text: e.text,
    timestamp: e.timestamp,
    priority: e.priority,
    host: e.host,
    tags: e.tags,
    alert_type: e.alertType,
    aggregation_key: e.aggregationKey,
    source_type_name: e.sourceTypeName,
    event_type: e.eventType,
  };
}

/**
 * Runs `outpost check`; resolves to the exit code: 1 when no instance ran or a run failed.
 *
 * @example
 * ```ts ignore
 * const code = await runCheckCommand({ name: "hello", settings, runtime, config, logger, http,
 *   hostname: "h", loaders, loadConfigs });
 * ```
 */
export async function runCheckCommand(o: CheckCommandOptions): Promise<number> {
  const out = o.out ?? ((t: string) => console.log(t));
  const err = o.err ?? ((t: string) => console.error(t));
  const style = o.style ?? PLAIN;
  let times = Math.max(1, Math.trunc(o.times ?? 1));
  let pauseMs = o.pauseMs ?? 0;
  if (o.checkRate) {
    if (times < 2) times = 2;
    pauseMs = Math.max(pauseMs, 1000);
  }
  const sink = memorySink();
  const registry = new Registry();
  const aggregator = new Aggregator({
    sink,
    hostname: o.hostname,
    registry,
    log: o.logger.for("aggregator"),
  });
  const collector = new Collector(o.settings, {
    runtime: o.runtime,
    config: o.config,
    registry,
    logger: o.logger,
    aggregator,
    http: o.http,
    hostname: o.hostname,
    loaders: o.loaders,
    loadConfigs: o.loadConfigs,
  });
  try {
    let result: ConfdResult;
    try {
      result = o.loadConfigs();
    } catch (e) {
      err(`Error: cannot read the check configs: ${(e as Error).message}`);
      return 1;
    }
    const wanted = normalizeName(o.name);
    const configs = result.configs.filter((c) =>
      c.name === o.name || normalizeName(c.name) === wanted
    );
    const configError = Object.entries(result.errors).find(([n]) =>
      n === o.name || normalizeName(n) === wanted
    );
    if (configError) err(`Error: invalid config for ${o.name}: ${configError[1]}`);
    const loaded = [];
    for (const config of configs) {
      for (const instance of config.instances) {
        const check = await collector.loadInstance(config, instance);
        if (check) {
          collector.track(check, config, instance);
          loaded.push(check);
        }
      }
    }
    if (loaded.length === 0) {
      const errors = Object.entries(collector.loaderErrors).filter(([n]) =>
        n === o.name || normalizeName(n) === wanted
      );
      if (errors.length > 0) {
        err(`could not load ${o.name}:`);
        for (const [, byLoader] of errors) {
          for (const [loader, e] of Object.entries(byLoader)) err(`* ${loader}: ${e}`);
        }
      } else {
        err(NO_CHECK);
      }
      return 1;
    }
    if (loaded.length > 1) out("Multiple check instances found, running each of them");
    const results: unknown[] = [];
    let failed = false;
    for (const check of loaded) {
      sink.clear();
      let stats: CheckStatsJson | undefined;
      for (let i = 0; i < times; i++) {
        if (i > 0 && pauseMs > 0) await sleep(pauseMs);
        stats = await collector.runner.runNow(check);
      }
      if (o.delayMs ?? 100) await sleep(o.delayMs ?? 100);
      await aggregator.flush({ all: true });
      const r = sink.received;
      const metrics = r.series.filter((s) => !AGENT_SERIES.has(s.name)).map(seriesJson);
      const sketches = r.sketches.map(sketchJson);
      const serviceChecks = r.serviceChecks
        .filter((c) => !AGENT_SERVICE_CHECKS.has(c.name))
        .map(serviceCheckJson);
      const events = r.events.map(eventJson);
      const metadata = collector.senderOf(check.id)?.metadata() ?? {};
      if (!stats || stats.LastError !== "") failed = true;
      if (o.json) {
        results.push({
          aggregator: { metrics, sketches, service_checks: serviceChecks, events },
          runner: stats,
          inventories: Object.keys(metadata).length > 0 ? { [check.id]: metadata } : {},
        });
        continue;
      }
      const text = [
        "=== Series ===",
        JSON.stringify(metrics, null, 2),
        "=== Sketches ===",
        JSON.stringify(sketches, null, 2),
        "=== Service Checks ===",
        JSON.stringify(serviceChecks, null, 2),
        "=== Events ===",
        JSON.stringify(events, null, 2),
      ];
      if (stats) {
        const title = check.version ? `${check.name} (${check.version})` : check.name;
        text.push(
          "=========",
          "Collector",
          "=========",
          "",
          "  Running Checks",
          "  ==============",
          "",
          `    ${title}`,
          `    ${"-".repeat(title.length)}`,
          ...renderInstance(stats, metadata, { style }),
          "",
        );
      }
      if (Object.keys(metadata).length > 0) {
        text.push("  Metadata", "  ========");
        for (const [k, v] of Object.entries(metadata)) text.push(`    ${k}: ${v}`);
        text.push("");
      }
      out(text.join("\n"));
    }
    if (o.json) out(JSON.stringify(results, null, 2));
    else if (times === 1) {
      out(style.warn(
        "Check has run only once, if some metrics are missing you can try again with --check-rate to see any other metric if available.",
      ));
    }
    return failed ? 1 : 0;
  } finally {
    await collector.stop();
  }
}
