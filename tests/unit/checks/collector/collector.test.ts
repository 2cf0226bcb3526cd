import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { config, instance, setupCollector, testLoader } from "./_fakes.ts";
import type { Loader } from "../../../../src/checks/_types.ts";
import { renderCollector } from "../../../../src/checks/collector/_status.ts";
import { checksApiArea } from "../../../../src/checks/collector/_api.ts";
import { buildChecks, checksSettings } from "../../../../src/checks/mod.ts";
import { configDefaults } from "../../../../src/config/mod.ts";
import { PLAIN } from "../../../../src/status/mod.ts";
import { createHttpClient, httpSettings } from "../../../../src/http/mod.ts";
import { runtime } from "../../../../src/runtime/mod.ts";

describe("Collector", () => {
  it("checksSettings() puts conf.d and checks.d beside the config file, or under /etc/outpost", () => {
    const c = configDefaults();
    assert.deepEqual(checksSettings(c, "/opt/o/datadog.yaml").confdPaths, ["/opt/o/conf.d"]);
    assert.deepEqual(checksSettings(c, "/opt/o/datadog.yaml").checksdPaths, ["/opt/o/checks.d"]);
    assert.deepEqual(checksSettings(c, null).confdPaths, ["/etc/outpost/conf.d"]);
    const set = {
      ...c,
      confd_path: "/x/conf",
      additional_checksd: "/x/code",
      tracemalloc_debug: true,
    };
    const s = checksSettings(set, "/opt/o/datadog.yaml");
    assert.deepEqual([s.confdPaths, s.checksdPaths, s.runners], [["/x/conf"], ["/x/code"], 1]);
    assert.match(s.agentVersion, /^7\.\d+\.\d+$/);
  });

  it("start() tries loaders by priority; the first that returns a check wins, null passes", async () => {
    const js = testLoader({ name: "JS Check Loader", key: "js", priority: 10, takes: [] });
    const py = testLoader({
      name: "Python Check Loader",
      key: "python",
      priority: 20,
      takes: ["a"],
    });
    const core = testLoader({
      name: "Core Check Loader",
      key: "core",
      priority: 30,
      takes: ["a", "b"],
    });
    const { collector } = setupCollector({
      loaders: [core, js, py],
      configs: [config("a"), config("b")],
    });
    await collector.start();
    assert.deepEqual(py.loads, ["a:0000000000000000"]);
    assert.deepEqual(core.loads, ["b:0000000000000000"]);
    assert.deepEqual([...collector.checks.values()].map((c) => c.loader), [
      "Python Check Loader",
      "Core Check Loader",
    ]);
    assert.deepEqual(collector.loaderErrors, {});
    await collector.stop();
  });

  it("a load that never answers is a loading error after 30 s; the checks after it still load", async () => {
    const hung: Loader = {
      name: "Hung Loader",
      key: "hung",
      priority: 1,
      load: (c) => (c.name === "slow" ? new Promise(() => {}) : Promise.resolve(null)),
    };
    const ok = testLoader({ takes: ["fine"] });
    const { collector, time } = setupCollector({
      loaders: [hung, ok],
      configs: [config("slow"), config("fine")],
    });
    const started = collector.start();
    await time.advance(30_000);
    await started;
    assert.deepEqual(collector.loaderErrors, {
      slow: {
        "Hung Loader": "loading took longer than 30s: given up",
      },
    });
    assert.deepEqual([...collector.checks.keys()], ["fine:0000000000000000"]);
    await collector.stop();
  });

  it("a config that no loader takes is a loading error under every loader", async () => {
    const a = testLoader({ name: "JS Check Loader", key: "js", priority: 10, takes: [] });
    const b = testLoader({ name: "Core Check Loader", key: "core", priority: 30, takes: [] });
    const { collector } = setupCollector({ loaders: [a, b], configs: [config("nosuch")] });
    await collector.start();
    assert.deepEqual(collector.loaderErrors, {
      nosuch: {
        "JS Check Loader": 'no check named "nosuch"',
        "Core Check Loader": 'no check named "nosuch"',
      },
    });
    assert.equal(collector.checks.size, 0);
    await collector.stop();
  });

  it("a loader: key tries only that loader", async () => {
    const py = testLoader({
      name: "Python Check Loader",
      key: "python",
      priority: 20,
      takes: ["a"],
    });
    const core = testLoader({ name: "Core Check Loader", key: "core", priority: 30, takes: ["a"] });
    const { collector } = setupCollector({
      loaders: [py, core],
      configs: [config("a", [instance("a", 0, { loader: "core" })])],
    });
    await collector.start();
    assert.deepEqual([py.loads.length, core.loads.length], [0, 1]);
    await collector.stop();
  });

  it("when every loader fails, LoaderErrors lists each by name and status shows them", async () => {
    const py = testLoader({
      name: "Python Check Loader",
      key: "python",
      priority: 20,
      fails: { x: "unable to import module 'x'" },
    });
    const core = testLoader({
      name: "Core Check Loader",
      key: "core",
      priority: 30,
      fails: { x: "Check x not found in Catalog" },
    });
    const { collector } = setupCollector({ loaders: [py, core], configs: [config("x")] });
    await collector.start();
    assert.deepEqual(collector.loaderErrors, {
      x: {
        "Python Check Loader": "unable to import module 'x'",
        "Core Check Loader": "Check x not found in Catalog",
      },
    });
    const text = renderCollector(collector.status(), { style: PLAIN });
    assert.ok(
      text.includes(`  Loading Errors
  ==============
    x
    -
      Core Check Loader:
        Check x not found in Catalog
      Python Check Loader:
        unable to import module 'x'`),
      text,
    );
    await collector.stop();
  });

  it("a bad config is listed under Config Errors while the other checks run", async () => {
    const loader = testLoader({ takes: ["good"], intervalS: 1 });
    const { collector, time, sink, aggregator } = setupCollector({
      loaders: [loader],
      configs: [config("good")],
      errors: { broken: "yaml: line 2: mapping values are not allowed in this context" },
    });
    await collector.start();
    await time.advance(1000);
    const s = collector.status();
    assert.deepEqual(s.autoConfigStats.ConfigErrors, {
      broken: "yaml: line 2: mapping values are not allowed in this context",
    });
    assert.equal(s.runnerStats.Checks.good["good:0000000000000000"].TotalRuns, 1);
    const text = renderCollector(s, { style: PLAIN });
    assert.ok(
      text.includes("  Config Errors\n  =============\n    broken\n    ------\n      yaml: line 2"),
    );
    assert.ok(text.includes("      Instance ID: good:0000000000000000 [OK]"));
    await aggregator.flush();
    const up = sink.received.series.find((x) => x.name === "good.up")!;
    assert.deepEqual([up.host, up.tags], ["agent-host", ["t:1"]]);
    await collector.stop();
  });

  it("instance tags and service reach the submissions through host.senderFor()", async () => {
    const loader = testLoader({ takes: ["t"], intervalS: 1 });
    const { collector, time, sink, aggregator } = setupCollector({
      loaders: [loader],
      configs: [config("t", [instance("t", 0, { tags: ["env:x"], service: "svc" })])],
    });
    await collector.start();
    await time.advance(1000);
    await aggregator.flush();
    assert.deepEqual(sink.received.series.find((x) => x.name === "t.up")?.tags, [
      "env:x",
      "service:svc",
      "t:1",
    ]);
    await collector.stop();
  });

  it("a throwing check shows [ERROR] with its traceback; a warning shows [WARNING]", async () => {
    const loader = testLoader({
      takes: ["bad", "meh"],
      intervalS: 1,
      run: (sender) => {
        sender.metric("gauge", "x", 1);
        throw new Error("kaput");
      },
    });
    const warn = testLoader({
      name: "Warn Loader",
      priority: 1,
      takes: ["meh"],
      intervalS: 1,
      run: () => ({ warnings: ["careful"] }),
    });
    const { collector, time } = setupCollector({
      loaders: [loader, warn],
      configs: [config("bad"), config("meh")],
    });
    await collector.start();
    await time.advance(1000);
    const text = renderCollector(collector.status(), { style: PLAIN, utc: true });
    assert.match(text, /Instance ID: bad:0+ \[ERROR\]\n/);
    assert.match(text, / {6}Error: kaput\n {6}Error: kaput\n\s+at /);
    assert.match(text, /Instance ID: meh:0+ \[WARNING\]/);
    assert.ok(text.includes("      Warning: careful"));
    const bad = collector.status().runnerStats.Checks.bad["bad:0000000000000000"];
    assert.deepEqual([bad.TotalErrors, bad.LastSuccessDate, bad.MetricSamples], [1, 0, 1]);
    await collector.stop();
  });

  it("integration_check_status_enabled sends datadog.agent.check_status after each run", async () => {
    for (const enabled of [false, true]) {
      const loader = testLoader({ takes: ["c"], intervalS: 1 });
      const { collector, time, sink, aggregator } = setupCollector({
        loaders: [loader],
        configs: [config("c")],
        settings: { checkStatusEnabled: enabled },
      });
      await collector.start();
      await time.advance(1000);
      await aggregator.flush();
      const sc = sink.received.serviceChecks.filter((c) => c.name === "datadog.agent.check_status");
      assert.equal(sc.length, enabled ? 1 : 0);
      if (enabled) {
        assert.deepEqual([sc[0].status, sc[0].host, sc[0].tags], [0, "agent-host", [
          "check:c",
          "dd_enable_check_intake:true",
        ]]);
      }
      await collector.stop();
    }
  });

  it("reload() unschedules changed and vanished configs, schedules new ones, keeps the rest", async () => {
    const loader = testLoader({ takes: ["keep", "change", "gone", "new"], intervalS: 1 });
    const { collector, state, time } = setupCollector({
      loaders: [loader],
      configs: [config("keep"), config("change"), config("gone")],
    });
    await collector.start();
    await time.advance(1000);
    state.configs = [
      config("keep"),
      config("change", undefined, { digest: "ffffffffffffffff" }),
      config("new"),
    ];
    const r = await collector.reload();
    assert.deepEqual(r.unscheduled.sort(), ["change:0000000000000000", "gone:0000000000000000"]);
    assert.deepEqual(r.scheduled.sort(), ["change:0000000000000000", "new:0000000000000000"]);
    assert.deepEqual([...collector.checks.keys()].sort(), [
      "change:0000000000000000",
      "keep:0000000000000000",
      "new:0000000000000000",
    ]);
    // The kept check kept its stats; the reloaded one starts over.
    const checks = collector.status().runnerStats.Checks;
    assert.equal(checks.keep["keep:0000000000000000"].TotalRuns >= 1, true);
    assert.equal(checks.change, undefined);
    assert.equal(checks.gone, undefined);
    await collector.stop();
  });

  it("reload({ all: true }) loads every check again, unchanged ones too", async () => {
    const loader = testLoader({ takes: ["a", "b"] });
    const { collector } = setupCollector({
      loaders: [loader],
      configs: [config("a"), config("b")],
    });
    await collector.start();
    const r = await collector.reload({ all: true });
    assert.deepEqual(r.unscheduled.sort(), ["a:0000000000000000", "b:0000000000000000"]);
    assert.deepEqual(r.scheduled.sort(), ["a:0000000000000000", "b:0000000000000000"]);
    assert.equal(loader.loads.length, 4);
    await collector.stop();
  });

  it("stop() cancels the checks and stops the loaders", async () => {
    const loader = testLoader({ takes: ["a"] });
    const { collector } = setupCollector({ loaders: [loader], configs: [config("a")] });
    await collector.start();
    await collector.stop();
    assert.equal(loader.stopped, 1);
    assert.equal(collector.checks.size, 0);
  });

  it("publishes the expvar runner and scheduler objects", async () => {
    const loader = testLoader({ takes: ["a"], intervalS: 1 });
    const { collector, registry, time } = setupCollector({
      loaders: [loader],
      configs: [config("a")],
    });
    await collector.start();
    await time.advance(1000);
    const vars = registry.snapshot() as Record<string, any>;
    assert.deepEqual(vars.scheduler, {
      QueuesCount: 1,
      ChecksEntered: 1,
      Queues: [{ Interval: 1, Buckets: 1, Size: 1 }],
    });
    assert.equal(vars.runner.Runs, 1);
    assert.equal(vars.runner.Checks.a["a:0000000000000000"].CheckName, "a");
    assert.deepEqual(Object.keys(vars.runner).sort(), [
      "Checks",
      "Errors",
      "Running",
      "RunningChecks",
      "Runs",
      "Warnings",
      "Workers",
    ]);
    assert.equal(vars.checks.runs.ok, 1);
    await collector.stop();
  });

  it("GET /agent/config-check and POST /agent/checks/reload answer from the collector", async () => {
    const loader = testLoader({ takes: ["a", "b"] });
    const { collector, state } = setupCollector({
      loaders: [loader],
      configs: [
        config("a", [instance("a", 0, { bytes: "host: x\n" })], { initConfigBytes: "k: 1\n" }),
      ],
      errors: { z: "bad yaml" },
    });
    await collector.start();
    const area = checksApiArea(collector, () => Promise.reject(new Error("not asked")));
    const app = new Hono().route(area.path, area.app);
    const answer = await (await app.request("/agent/config-check")).json();
    assert.deepEqual(answer.config_errors, { z: "bad yaml" });
    assert.deepEqual(answer.configs[0].instances, [
      { id: "a:0000000000000000", yaml: "host: x\n", check_id: "a:0000000000000000" },
    ]);
    assert.equal(answer.configs[0].init_config, "k: 1\n");
    state.configs = [config("b")];
    const res = await app.request("/agent/checks/reload", { method: "POST" });
    assert.deepEqual(await res.json(), {
      scheduled: ["b:0000000000000000"],
      unscheduled: ["a:0000000000000000"],
    });
    await collector.stop();
  });

  it("POST /agent/checks/:name/run runs the check apart from the scheduled one", async () => {
    const scheduled = testLoader({ takes: ["a"] });
    const runLoader = testLoader({ takes: ["a"] });
    const { collector: _, ...deps } = setupCollector({
      configs: [config("a", [instance("a", 0)])],
    });
    const cfg = configDefaults();
    const { component } = buildChecks(checksSettings(cfg, null), {
      runtime,
      config: cfg,
      registry: deps.registry,
      logger: deps.logger,
      aggregator: deps.aggregator,
      http: createHttpClient(runtime, httpSettings(cfg, {})),
      hostname: "agent-host",
      loaders: [scheduled],
      loadConfigs: () => ({ configs: deps.state.configs, errors: {} }),
      runLoaders: () => [runLoader],
    });
    const app = new Hono().route(component.apiArea.path, component.apiArea.app);
    const ran = await app.request("/agent/checks/a/run", { method: "POST" });
    assert.equal(ran.status, 200);
    const answer = await ran.json();
    assert.equal(answer.exit_code, 0);
    assert.deepEqual(
      answer.results[0].aggregator.metrics.map((m: { metric: string }) => m.metric),
      [
        "a.up",
      ],
    );
    // The run's loader was stopped with its collector; the scheduled one was never asked.
    assert.equal(runLoader.stopped, 1);
    assert.deepEqual(scheduled.loads, []);
    const unknown = await app.request("/agent/checks/nope/run", { method: "POST" });
    assert.equal(unknown.status, 404);
    assert.deepEqual((await unknown.json()).errors, ["no valid check found"]);
    const bad = await app.request("/agent/checks/a%20b/run", { method: "POST" });
    assert.equal(bad.status, 400);
  });
});
