/**
 * The status "Collector" section: the JSON keys the Datadog Agent's template reads, and the
 * text laid out as that template lays it out.
 */
import type { StatusData, StatusProvider } from "../../status/mod.ts";
import type { Style } from "../../status/mod.ts";
import type { CheckStatsJson } from "./_stats.ts";
import { parseLastError } from "./_stats.ts";
import type { RunnerStats } from "./_runner.ts";
import { commaf, formatUnixTime, goDuration } from "./_format.ts";

/** The keys the collector adds to the JSON status. */
export interface CollectorStatus {
  runnerStats: RunnerStats;
  checkSchedulerStats: { LoaderErrors: Record<string, Record<string, string>> };
  pyLoaderStats: {
    ConfigureErrors: Record<string, string[]>;
    Py3Warnings: Record<string, string[]>;
  };
  autoConfigStats: {
    ConfigErrors: Record<string, string>;
    ResolveWarnings: Record<string, string[]>;
  };
  /** Check ID → inventory metadata. */
  inventories: Record<string, Record<string, string>>;
  workerStats: {
    Count: number;
    AverageUtilization: number;
    TopWorkers: Array<{ Name: string; Utilization: number }>;
  };
  pythonInit: { Errors: string[] };
  /** outpost: each loader's `stats()`, by loader name. */
  loaderStats: Record<string, Record<string, unknown>>;
}

/** Display names of event-platform types. */
const EVENT_PLATFORM_NAMES: Record<string, string> = {
  "dbm-samples": "Database Monitoring Query Samples",
  "dbm-metrics": "Database Monitoring Query Metrics",
  "dbm-activity": "Database Monitoring Activity Samples",
};

const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const sortedKeys = (o: Record<string, unknown>) => Object.keys(o).sort(byKey);

/** Options of {@linkcode renderInstance} and {@linkcode renderCollector}. */
export interface RenderOptions {
  style: Style;
  /** Print dates in UTC only. @default the local zone, when it is not UTC */
  utc?: boolean;
}

/** The tag after the instance ID. */
function statusTag(s: CheckStatsJson, style: Style): string {
  if (s.LastError !== "") return style.error("[ERROR]");
  if (s.LastWarnings.length > 0 || s.RunningSince > 0) return style.warn("[WARNING]");
  return style.ok("[OK]");
}

/**
 * One instance's block (six-space indent), as under "Running Checks" and after `outpost check`.
 *
 * @example
 * ```ts ignore
 * renderInstance(stats, {}, { style: PLAIN, utc: true });
 * ```
 */
export function renderInstance(
  s: CheckStatsJson,
  metadata: Record<string, string> | undefined,
  { style, utc }: RenderOptions,
): string[] {
  const i = "      ";
  const out = [`${i}Instance ID: ${s.CheckID} ${statusTag(s, style)}`];
  const ep = sortedKeys(s.TotalEventPlatformEvents);
  const epName = (t: string) => EVENT_PLATFORM_NAMES[t] ?? t;
  if (s.LongRunning) {
    out.push(
      `${i}Long Running Check: true`,
      `${i}Configuration Source: ${s.CheckConfigSource}`,
      `${i}Total Metric Samples: ${commaf(s.TotalMetricSamples)}`,
      `${i}Total Events: ${commaf(s.TotalEvents)}`,
      ...ep.map((t) => `${i}Total ${epName(t)}: ${commaf(s.TotalEventPlatformEvents[t])}`),
      `${i}Total Service Checks: ${commaf(s.TotalServiceChecks)}`,
    );
    if (s.TotalHistogramBuckets > 0) {
      out.push(`${i}Total Histogram Buckets: ${commaf(s.TotalHistogramBuckets)}`);
    }
  } else {
    const lastTotal = (label: string, last: number, total: number) =>
      `${i}${label}: Last Run: ${commaf(last)}, Total: ${commaf(total)}`;
    out.push(
      `${i}Configuration Source: ${s.CheckConfigSource}`,
      `${i}Total Runs: ${commaf(s.TotalRuns)}`,
      lastTotal("Metric Samples", s.MetricSamples, s.TotalMetricSamples),
      lastTotal("Events", s.Events, s.TotalEvents),
      ...ep.map((t) =>
        lastTotal(epName(t), s.EventPlatformEvents[t] ?? 0, s.TotalEventPlatformEvents[t])
      ),
      lastTotal("Service Checks", s.ServiceChecks, s.TotalServiceChecks),
    );
    if (s.TotalHistogramBuckets > 0) {
      out.push(lastTotal("Histogram Buckets", s.HistogramBuckets, s.TotalHistogramBuckets));
    }
    out.push(
      `${i}First Execution Time : ${goDuration(s.FirstExecutionTime)}`,
      `${i}Average Execution Time : ${goDuration(s.AverageExecutionTime)}`,
      `${i}Last Execution Date : ${
        s.UpdateTimestamp ? formatUnixTime(s.UpdateTimestamp, { utc }) : "Never"
      }`,
      `${i}Last Successful Execution Date : ${
        s.LastSuccessDate ? formatUnixTime(s.LastSuccessDate, { utc }) : "Never"
      }`,
    );
  }
  if (s.Cancelling) out.push(`${i}Cancelling: True`);
  if (metadata && Object.keys(metadata).length > 0) {
    out.push(`${i}metadata:`);
    for (const k of sortedKeys(metadata)) out.push(`${i}  ${k}: ${metadata[k]}`);
  }
  if (s.LastError !== "") {
    const { message, traceback } = parseLastError(s.LastError);
    out.push(style.error(`${i}Error: ${message}`));
    for (const line of traceback.replace(/\n+$/, "").split("\n")) {
      if (line !== "") out.push(style.error(`${i}${line}`));
    }
  }
  for (const w of s.LastWarnings) out.push(style.warn(`${i}Warning: ${w}`));
  if (s.RunningSince > 0) {
    const since = formatUnixTime(s.RunningSince, { utc });
    out.push(style.warn(
      `${i}Warning: running since ${since}, longer than its ${s.Interval / 1e9}s interval; ` +
        "its next runs are skipped until it returns",
    ));
  }
  return out;
}

/** A check name and its dashes (plus ` (<version>)` when it has one). */
function checkTitle(name: string, version: string): string[] {
  const title = version ? `${name} (${version})` : name;
  return [`    ${title}`, `    ${"-".repeat(title.length)}`];
}

function subHeading(title: string, style: Style): string[] {
  return [`  ${style.title(title)}`, `  ${"=".repeat(title.length)}`];
}

/** Lines of a (possibly multi-line) text, each with `indent`. */
function indented(text: string, indent: string): string[] {
  return text.replace(/\n+$/, "").split("\n").map((l) => `${indent}${l}`);
}

/** A fraction as a whole percentage. */
const percent = (f: number) => `${Math.round(f * 100)}%`;

/** Bytes as MiB with one decimal. */
const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

/**
 * The status lines of a loader's `stats()`: its `statusLine` if it gives one; a subprocess
 * runner (`pid`, `rss_bytes`, …) as `Python runner: pid …, RSS …`; else its scalar values.
 */
function loaderLines(name: string, stats: Record<string, unknown>, style: Style): string[] {
  if (typeof stats.statusLine === "string") return [stats.statusLine];
  if ("pid" in stats && "rss_bytes" in stats) {
    const runner = name.replace(/ Check Loader$/, "") + " runner";
    if (typeof stats.pid !== "number") return [`${runner}: not started`];
    const parts = [`pid ${stats.pid}`, `RSS ${mib(Number(stats.rss_bytes) || 0)}`];
    if (typeof stats.hwm_bytes === "number") parts.push(`peak ${mib(stats.hwm_bytes)}`);
    if (typeof stats.python_version === "string") parts.push(`Python ${stats.python_version}`);
    const out = [`${runner}: ${parts.join(", ")}`];
    const restarts = Number(stats.restarts) || 0;
    if (restarts > 0) {
      out.push(style.warn(`${runner} restarted ${restarts} time${restarts === 1 ? "" : "s"}`));
    }
    return out;
  }
  const pairs = sortedKeys(stats)
    .filter((k) => stats[k] === null || typeof stats[k] !== "object")
    .map((k) => `${k}: ${stats[k]}`);
  return pairs.length > 0 ? [`${name}: ${pairs.join(", ")}`] : [];
}

/**
 * The text of the Collector section (what follows its `Collector` heading).
 *
 * @example No checks yet
 * ```ts ignore
 * renderCollector(status, { style: PLAIN }); // "\n  Running Checks\n  ==============\n\n    No checks have run yet"
 * ```
 */
export function renderCollector(d: CollectorStatus, options: RenderOptions): string {
  const { style } = options;
  const out: string[] = [""];
  if (d.pythonInit.Errors.length > 0) {
    out.push(...subHeading("Error initializing Python", style));
    for (const e of d.pythonInit.Errors) out.push(...indented(e, "    ").map(style.error));
    out.push("");
  }
  out.push(...subHeading("Running Checks", style), "");
  const checks = d.runnerStats.Checks;
  const names = sortedKeys(checks);
  if (names.length === 0) {
    out.push("    No checks have run yet", "");
  }
  for (const name of names) {
    const ids = sortedKeys(checks[name]);
    const version = ids.map((id) => checks[name][id].CheckVersion).find((v) => v) ?? "";
    out.push(...checkTitle(name, version));
    for (const id of ids) {
      out.push(...renderInstance(checks[name][id], d.inventories[id], options), "");
    }
  }
  out.push(...subHeading("Check Worker Utilization", style));
  const w = d.workerStats;
  if (w.Count > 0 && w.TopWorkers.length > 0) {
    out.push(
      `    Total Workers: ${w.Count}`,
      `    Average Utilization: ${percent(w.AverageUtilization)}`,
      "    Top Workers (by utilization):",
      ...w.TopWorkers.map((t) => `      ${t.Name}: ${percent(t.Utilization)}`),
      "",
    );
  } else {
    out.push("    No worker utilization data available", "");
  }
  const section = (
    title: string,
    entries: Record<string, unknown>,
    body: (name: string) => string[],
  ) => {
    const names = sortedKeys(entries);
    if (names.length === 0) return;
    out.push(...subHeading(title, style));
    for (const n of names) out.push(`    ${n}`, `    ${"-".repeat(n.length)}`, ...body(n));
    out.push("");
  };
  section(
    "Python 3 Linter Warnings",
    d.pyLoaderStats.Py3Warnings,
    (n) => d.pyLoaderStats.Py3Warnings[n].flatMap((w) => indented(w, "      ").map(style.warn)),
  );
  section(
    "Check Initialization Errors",
    d.pyLoaderStats.ConfigureErrors,
    (n) =>
      d.pyLoaderStats.ConfigureErrors[n].flatMap((e, idx) => [
        `      instance ${idx}:`,
        ...indented(e, "        ").map(style.error),
      ]),
  );
  section(
    "Config Errors",
    d.autoConfigStats.ConfigErrors,
    (n) => indented(d.autoConfigStats.ConfigErrors[n], "      ").map(style.error),
  );
  section("Loading Errors", d.checkSchedulerStats.LoaderErrors, (n) => {
    const errs = d.checkSchedulerStats.LoaderErrors[n];
    return sortedKeys(errs).flatMap((loader) => [
      `      ${loader}:`,
      ...indented(errs[loader], "        ").map(style.error),
    ]);
  });
  const loaderText = sortedKeys(d.loaderStats).flatMap((n) =>
    loaderLines(n, d.loaderStats[n], style)
  );
  if (loaderText.length > 0) {
    out.push(...subHeading("Loaders", style), ...loaderText.map((l) => `    ${l}`), "");
  }
  while (out.length > 0 && out[out.length - 1] === "") out.pop();
  return out.join("\n");
}

/** The status provider of the collector: section `collector`, title `Collector`. */
export function collectorStatusProvider(
  read: () => CollectorStatus,
  options: { utc?: boolean } = {},
): StatusProvider {
  return {
    name: "Collector",
    section: "collector",
    data: () => read() as unknown as StatusData,
    text: (data, style) =>
      renderCollector(data as unknown as CollectorStatus, { style, utc: options.utc }),
  };
}
