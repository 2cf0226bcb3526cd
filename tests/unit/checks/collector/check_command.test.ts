import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { runCheckCommand } from "../../../../src/checks/mod.ts";
import { checksSettings } from "../../../../src/checks/mod.ts";
import type { CheckConfig, Loader, Sender } from "../../../../src/checks/_types.ts";
import { configDefaults } from "../../../../src/config/mod.ts";
import { createHttpClient, httpSettings } from "../../../../src/http/mod.ts";
import { runtime } from "../../../../src/runtime/mod.ts";
import { captureLogger, config, instance, testLoader } from "./_fakes.ts";

async function run(
  o: {
    name?: string;
    loaders: Loader[];
    configs: CheckConfig[];
    errors?: Record<string, string>;
    times?: number;
    json?: boolean;
  },
) {
  const out: string[] = [];
  const err: string[] = [];
  const cfg = configDefaults();
  const { logger } = captureLogger();
  const code = await runCheckCommand({
    name: o.name ?? "hello",
    settings: checksSettings(cfg, null),
    runtime,
    config: cfg,
    logger,
    http: createHttpClient(runtime, httpSettings(cfg, {})),
    hostname: "cli-host",
    loaders: o.loaders,
    loadConfigs: () => ({ configs: o.configs, errors: o.errors ?? {} }),
    times: o.times,
    json: o.json,
    delayMs: 0,
    out: (t) => void out.push(t),
    err: (t) => void err.push(t),
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const hello = (sender: Sender) => {
  sender.metric("gauge", "hello.world", 1, ["a:b"]);
  sender.serviceCheck("hello.can_connect", 0);
  sender.setMetadata("version.raw", "1.2.3");
  return { warnings: [] };
};

describe("runCheckCommand()", () => {
  it("prints Series, Sketches, Service Checks, Events, the instance block and the --check-rate hint", async () => {
    const loader = testLoader({ takes: ["hello"], run: hello });
    const { code, out } = await run({ loaders: [loader], configs: [config("hello")] });
    assert.equal(code, 0);
    const series = JSON.parse(out.split("=== Series ===\n")[1].split("\n=== Sketches ===")[0]);
    assert.equal(series.length, 1);
    assert.deepEqual(Object.keys(series[0]), [
      "metric",
      "points",
      "tags",
      "host",
      "type",
      "interval",
      "source_type_name",
    ]);
    assert.deepEqual(
      [series[0].metric, series[0].points[0][1], series[0].tags, series[0].host, series[0].type],
      ["hello.world", 1, ["a:b"], "cli-host", "gauge"],
    );
    const sc = JSON.parse(out.split("=== Service Checks ===\n")[1].split("\n=== Events ===")[0]);
    assert.deepEqual(sc.map((c: { check: string }) => c.check), ["hello.can_connect"]);
    assert.ok(out.includes("=== Events ===\n[]"));
    assert.ok(
      out.includes(
        "    hello (1.0.0)\n    -------------\n      Instance ID: hello:0000000000000000 [OK]",
      ),
    );
    assert.ok(out.includes("      Total Runs: 1\n      Metric Samples: Last Run: 1, Total: 1"));
    assert.ok(out.includes("  Metadata\n  ========\n    version.raw: 1.2.3"));
    assert.ok(out.endsWith(
      "Check has run only once, if some metrics are missing you can try again with --check-rate to see any other metric if available.",
    ));
    assert.equal(loader.stopped, 1);
  });

  it("--json prints one {aggregator, runner, inventories} per instance; several instances are announced", async () => {
    const loader = testLoader({ takes: ["hello"], run: hello });
    const { code, out } = await run({
      loaders: [loader],
      configs: [config("hello", [instance("hello", 0), instance("hello", 1)])],
      json: true,
      times: 2,
    });
    assert.equal(code, 0);
    const [first, json] = out.split("\n", 1).concat(out.slice(out.indexOf("\n") + 1));
    assert.equal(first, "Multiple check instances found, running each of them");
    const results = JSON.parse(json);
    assert.equal(results.length, 2);
    assert.deepEqual(Object.keys(results[0]), ["aggregator", "runner", "inventories"]);
    assert.deepEqual(Object.keys(results[0].aggregator), [
      "metrics",
      "sketches",
      "service_checks",
      "events",
    ]);
    assert.equal(results[0].runner.TotalRuns, 2);
    assert.deepEqual(results[1].inventories, {
      "hello:0000000000000001": { "version.raw": "1.2.3" },
    });
  });

  it("exits 1 when a run errored", async () => {
    const loader = testLoader({
      takes: ["hello"],
      run: () => {
        throw new Error("nope");
      },
    });
    const { code, out } = await run({ loaders: [loader], configs: [config("hello")] });
    assert.equal(code, 1);
    assert.ok(out.includes("[ERROR]") && out.includes("      Error: nope"));
  });

  it("lists each loader's error when none could load the check, and exits 1", async () => {
    const py = testLoader({
      name: "Python Check Loader",
      key: "python",
      priority: 20,
      fails: { hello: "unable to import module 'hello'" },
    });
    const core = testLoader({
      name: "Core Check Loader",
      key: "core",
      priority: 30,
      fails: { hello: "Check hello not found in Catalog" },
    });
    const { code, err } = await run({ loaders: [py, core], configs: [config("hello")] });
    assert.equal(code, 1);
    assert.equal(
      err,
      "could not load hello:\n* Python Check Loader: unable to import module 'hello'\n* Core Check Loader: Check hello not found in Catalog",
    );
  });

  it("says 'no valid check found' for an unknown name, and an invalid config by name", async () => {
    const a = await run({ name: "absent", loaders: [], configs: [] });
    assert.deepEqual([a.code, a.err], [1, "no valid check found"]);
    const b = await run({
      name: "broken",
      loaders: [],
      configs: [],
      errors: { broken: "yaml: bad" },
    });
    assert.equal(b.code, 1);
    assert.ok(b.err.startsWith("Error: invalid config for broken: yaml: bad"));
  });

  it("accepts the TitleCase form of a check name", async () => {
    const loader = testLoader({ takes: ["my_check"] });
    const { code, out } = await run({
      name: "MyCheck",
      loaders: [loader],
      configs: [config("my_check")],
    });
    assert.equal(code, 0);
    assert.ok(out.includes("my_check.up"));
  });
});
