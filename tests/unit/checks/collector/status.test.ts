import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { renderCollector } from "../../../../src/checks/collector/_status.ts";
import type { CollectorStatus } from "../../../../src/checks/collector/_status.ts";
import type { CheckStatsJson } from "../../../../src/checks/collector/_stats.ts";
import { commaf, formatUnixTime, goDuration } from "../../../../src/checks/collector/_format.ts";
import { PLAIN } from "../../../../src/status/mod.ts";
import { StatusCollector } from "../../../../src/status/mod.ts";
import { collectorStatusProvider } from "../../../../src/checks/collector/_status.ts";

function stats(extra: Partial<CheckStatsJson>): CheckStatsJson {
  return {
    CheckName: "cpu",
    CheckVersion: "",
    CheckConfigSource: "file:/etc/outpost/conf.d/cpu.d/conf.yaml.default",
    CheckID: "cpu",
    CheckLoader: "Core Check Loader",
    Interval: 15e9,
    LongRunning: false,
    TotalRuns: 1234,
    TotalErrors: 0,
    TotalWarnings: 0,
    MetricSamples: 9,
    Events: 0,
    ServiceChecks: 1,
    HistogramBuckets: 0,
    TotalMetricSamples: 11098,
    TotalEvents: 0,
    TotalServiceChecks: 69,
    TotalHistogramBuckets: 0,
    EventPlatformEvents: {},
    TotalEventPlatformEvents: {},
    ExecutionTimes: [38],
    FirstExecutionTime: 41,
    AverageExecutionTime: 38,
    LastExecutionTime: 38,
    Cancelling: false,
    LastSuccessDate: 1654170659,
    LastError: "",
    LastWarnings: [],
    LastDelay: 0,
    UpdateTimestamp: 1654170659,
    RunningSince: 0,
    ...extra,
  };
}

function status(checks: CheckStatsJson[], extra: Partial<CollectorStatus> = {}): CollectorStatus {
  const byName: CollectorStatus["runnerStats"]["Checks"] = {};
  for (const s of checks) (byName[s.CheckName] ??= {})[s.CheckID] = s;
  return {
    runnerStats: {
      Checks: byName,
      Errors: 0,
      Warnings: 0,
      Runs: checks.length,
      RunningChecks: 0,
      Running: {},
      Workers: { Count: 4, Instances: {} },
    },
    checkSchedulerStats: { LoaderErrors: {} },
    pyLoaderStats: { ConfigureErrors: {}, Py3Warnings: {} },
    autoConfigStats: { ConfigErrors: {}, ResolveWarnings: {} },
    inventories: {},
    workerStats: { Count: 4, AverageUtilization: 0, TopWorkers: [] },
    pythonInit: { Errors: [] },
    loaderStats: {},
    ...extra,
  };
}

describe("Collector status text", () => {
  it("commaf(), goDuration() and formatUnixTime() print as the agent's template helpers", () => {
    assert.deepEqual([0, 12, 1234, 5833916, 1.5].map(commaf), [
      "0",
      "12",
      "1,234",
      "5,833,916",
      "1.5",
    ]);
    assert.deepEqual([0, 38, 999, 1000, 1798, 60000, 1700950, 3600000].map(goDuration), [
      "0s",
      "38ms",
      "999ms",
      "1s",
      "1.798s",
      "1m0s",
      "28m20.95s",
      "1h0m0s",
    ]);
    assert.equal(
      formatUnixTime(1654170659, { utc: true }),
      "2022-06-02 11:50:59 UTC (1654170659000)",
    );
  });

  it("renderCollector() lays out a fixture byte for byte: sorted, [OK]/[WARNING]/[ERROR], metadata, errors", () => {
    const text = renderCollector(
      status([
        stats({}),
        stats({
          CheckName: "mysql",
          CheckVersion: "12.1.0",
          CheckID: "mysql:abc",
          CheckConfigSource: "file:/etc/outpost/conf.d/mysql.d/conf.yaml",
          EventPlatformEvents: { "dbm-samples": 1 },
          TotalEventPlatformEvents: { "dbm-samples": 74451 },
          HistogramBuckets: 77,
          TotalHistogramBuckets: 77,
          LastWarnings: ["slow query log off"],
        }),
        stats({
          CheckName: "mysql",
          CheckVersion: "12.1.0",
          CheckID: "mysql:9f",
          CheckConfigSource: "file:/etc/outpost/conf.d/mysql.d/conf.yaml",
          LastError: JSON.stringify([{
            message: "boom",
            traceback:
              'Traceback (most recent call last):\n  File "x.py", line 1\nValueError: boom\n',
          }]),
          LastSuccessDate: 0,
          TotalErrors: 1234,
          AverageExecutionTime: 1700950,
        }),
      ], {
        workerStats: {
          Count: 2,
          AverageUtilization: 0.125,
          TopWorkers: [{ Name: "worker_1", Utilization: 0.2 }, {
            Name: "worker_2",
            Utilization: 0.05,
          }],
        },
        inventories: { "mysql:abc": { "version.raw": "8.0.1", "version.major": "8" } },
        autoConfigStats: {
          ConfigErrors: { redis: "yaml: line 3: did not find expected key" },
          ResolveWarnings: {},
        },
        checkSchedulerStats: {
          LoaderErrors: {
            nope: {
              "Python Check Loader": "unable to import module 'nope'",
              "Core Check Loader": "Check nope not found in Catalog",
            },
          },
        },
      }),
      { style: PLAIN, utc: true },
    );
    const expected = `
  Running Checks
  ==============

    cpu
    ---
      Instance ID: cpu [OK]
      Configuration Source: file:/etc/outpost/conf.d/cpu.d/conf.yaml.default
      Total Runs: 1,234
      Metric Samples: Last Run: 9, Total: 11,098
      Events: Last Run: 0, Total: 0
      Service Checks: Last Run: 1, Total: 69
      First Execution Time : 41ms
      Average Execution Time : 38ms
      Last Execution Date : 2022-06-02 11:50:59 UTC (1654170659000)
      Last Successful Execution Date : 2022-06-02 11:50:59 UTC (1654170659000)

    mysql (12.1.0)
    --------------
      Instance ID: mysql:9f [ERROR]
      Configuration Source: file:/etc/outpost/conf.d/mysql.d/conf.yaml
      Total Runs: 1,234
      Metric Samples: Last Run: 9, Total: 11,098
      Events: Last Run: 0, Total: 0
      Service Checks: Last Run: 1, Total: 69
      First Execution Time : 41ms
      Average Execution Time : 28m20.95s
      Last Execution Date : 2022-06-02 11:50:59 UTC (1654170659000)
      Last Successful Execution Date : Never
      Error: boom
      Traceback (most recent call last):
        File "x.py", line 1
      ValueError: boom

      Instance ID: mysql:abc [WARNING]
      Configuration Source: file:/etc/outpost/conf.d/mysql.d/conf.yaml
      Total Runs: 1,234
      Metric Samples: Last Run: 9, Total: 11,098
      Events: Last Run: 0, Total: 0
      Database Monitoring Query Samples: Last Run: 1, Total: 74,451
      Service Checks: Last Run: 1, Total: 69
      Histogram Buckets: Last Run: 77, Total: 77
      First Execution Time : 41ms
      Average Execution Time : 38ms
      Last Execution Date : 2022-06-02 11:50:59 UTC (1654170659000)
      Last Successful Execution Date : 2022-06-02 11:50:59 UTC (1654170659000)
      metadata:
        version.major: 8
        version.raw: 8.0.1
      Warning: slow query log off

  Check Worker Utilization
  ========================
    Total Workers: 2
    Average Utilization: 13%
    Top Workers (by utilization):
      worker_1: 20%
      worker_2: 5%

  Config Errors
  =============
    redis
    -----
      yaml: line 3: did not find expected key

  Loading Errors
  ==============
    nope
    ----
      Core Check Loader:
        Check nope not found in Catalog
      Python Check Loader:
        unable to import module 'nope'`;
    assert.equal(text, expected);
  });

  it("a long-running check prints totals only", () => {
    const text = renderCollector(
      status([stats({ LongRunning: true, Interval: 0, TotalHistogramBuckets: 2 })]),
      { style: PLAIN, utc: true },
    );
    assert.ok(
      text.includes(`      Instance ID: cpu [OK]
      Long Running Check: true
      Configuration Source: file:/etc/outpost/conf.d/cpu.d/conf.yaml.default
      Total Metric Samples: 11,098
      Total Events: 0
      Total Service Checks: 69
      Total Histogram Buckets: 2`),
      text,
    );
    assert.ok(!text.includes("Total Runs"));
  });

  it("a run that outlived its interval is a warning, and a check that never finished says Never", () => {
    const text = renderCollector(
      status([stats({ RunningSince: 1654170659, TotalRuns: 0, UpdateTimestamp: 0 })]),
      { style: PLAIN, utc: true },
    );
    assert.ok(text.includes("      Instance ID: cpu [WARNING]"), text);
    assert.ok(text.includes("      Last Execution Date : Never"), text);
    assert.ok(
      text.includes(
        `      Warning: running since ${formatUnixTime(1654170659, { utc: true })}, longer than ` +
          "its 15s interval; its next runs are skipped until it returns",
      ),
      text,
    );
  });

  it("says 'No checks have run yet' with no stats, and shows Python init errors first", () => {
    assert.equal(
      renderCollector(status([]), { style: PLAIN }),
      "\n  Running Checks\n  ==============\n\n    No checks have run yet\n\n" +
        "  Check Worker Utilization\n  ========================\n    No worker utilization data available",
    );
    const text = renderCollector(status([], { pythonInit: { Errors: ["python3 not found"] } }), {
      style: PLAIN,
    });
    assert.ok(
      text.startsWith(
        "\n  Error initializing Python\n  =========================\n    python3 not found\n",
      ),
    );
  });

  it("prints a subprocess runner's pid, memory and restarts under Loaders", () => {
    const text = renderCollector(
      status([], {
        loaderStats: {
          "Python Check Loader": {
            pid: 4242,
            python_version: "3.11.2",
            rss_bytes: 31457280,
            hwm_bytes: 33554432,
            restarts: 2,
            checks: {},
            Py3Warnings: {},
          },
          "JS Check Loader": {},
        },
      }),
      { style: PLAIN },
    );
    assert.ok(
      text.endsWith(
        "  Loaders\n  =======\n    Python runner: pid 4242, RSS 30.0 MiB, peak 32.0 MiB, Python 3.11.2\n" +
          "    Python runner restarted 2 times",
      ),
      text,
    );
  });

  it("prints a loader's status line under Loaders", () => {
    const text = renderCollector(
      status([], {
        loaderStats: { "Python Check Loader": { statusLine: "Python runner: pid 12, RSS 30 MiB" } },
      }),
      { style: PLAIN },
    );
    assert.ok(text.endsWith("  Loaders\n  =======\n    Python runner: pid 12, RSS 30 MiB"), text);
  });

  it("registers as the collector section, first, titled Collector", async () => {
    const sc = new StatusCollector({
      header: {
        version: "0",
        flavor: "agent",
        runtime: "bun",
        runtimeVersion: "1",
        buildArch: "x",
        pid: 1,
        startMs: 0,
        confFile: null,
        logFile: "",
        logLevel: "info",
      },
    });
    sc.register({ name: "Aggregator", section: "aggregator", data: () => ({}), text: () => "  x" });
    sc.register(collectorStatusProvider(() => status([])));
    assert.deepEqual(sc.sections(), ["collector", "aggregator"]);
    const text = await sc.text("collector");
    assert.equal(
      text,
      "=========\nCollector\n=========\n\n  Running Checks\n  ==============\n\n    No checks have run yet\n\n" +
        "  Check Worker Utilization\n  ========================\n    No worker utilization data available\n",
    );
    const json = await sc.json("collector");
    assert.deepEqual(Object.keys(json).sort(), [
      "autoConfigStats",
      "checkSchedulerStats",
      "inventories",
      "loaderStats",
      "pyLoaderStats",
      "pythonInit",
      "runnerStats",
      "workerStats",
    ]);
  });
});
