import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { configDefaults } from "../../../src/config/mod.ts";
import { isLambdaExtension, lambdaSettings } from "../../../src/serverless/mod.ts";

const API = { AWS_LAMBDA_RUNTIME_API: "127.0.0.1:9001" };

describe("isLambdaExtension", () => {
  it("is true for any executable in /opt/extensions/, Runtime API or not", () => {
    assert.equal(isLambdaExtension("/opt/extensions/datadog-agent", {}), true);
    assert.equal(isLambdaExtension("/opt/extensions/outpost", {}), true);
  });

  it("is true under another name only with the Runtime API set", () => {
    assert.equal(isLambdaExtension("/layer/datadog-agent", API), true);
    assert.equal(isLambdaExtension("/layer/datadog-agent", {}), false);
    assert.equal(isLambdaExtension("/layer/datadog-agent", { AWS_LAMBDA_RUNTIME_API: "" }), false);
  });

  it("leaves the outpost CLI alone in a Lambda container image", () => {
    assert.equal(isLambdaExtension("/usr/bin/outpost", API), false);
    assert.equal(isLambdaExtension("/usr/local/lib/outpost/outpost-linux-x64", API), false);
  });
});

describe("lambdaSettings", () => {
  it("takes the extension name from the file name and the key from the config", () => {
    const s = lambdaSettings(
      { ...configDefaults(), api_key: "k", run_path: "/tmp/outpost" },
      {
        ...API,
        DD_LOCAL_TEST: "true",
        AWS_REGION: "eu-west-1",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "512",
      },
      "/opt/extensions/datadog-agent",
    );
    assert.deepEqual(s, {
      runtimeApi: "127.0.0.1:9001",
      extensionName: "datadog-agent",
      daemonPort: 8124,
      telemetryPort: 8999,
      region: "eu-west-1",
      memorySizeMB: 512,
      localTest: true,
      hasApiKey: true,
      flushStrategy: { kind: "adaptive" },
      managedInstances: false,
      statePath: "/tmp/outpost/dd-lambda-extension-cache.json",
      logs: {
        enabled: true,
        types: ["platform", "function", "extension"],
        maxMessageSize: 256_000,
        reportLine: true,
        rules: [],
        tags: [],
        warnings: [],
      },
      enhancedMetrics: true,
      warnings: [],
    });
  });

  it("reads DD_LOCAL_TEST as a boolean and notices a missing key", () => {
    for (const [value, expected] of [["1", true], ["false", false], ["", false]] as const) {
      const s = lambdaSettings(configDefaults(), { ...API, DD_LOCAL_TEST: value }, "/x/o");
      assert.equal(s.localTest, expected, `DD_LOCAL_TEST=${value}`);
      assert.equal(s.hasApiKey, false);
    }
  });

  it("reads the flush strategy, and falls back to adaptive with a warning on a bad one", () => {
    const at = (v: string) =>
      lambdaSettings({ ...configDefaults(), serverless_flush_strategy: v }, API, "/x/o");
    assert.deepEqual(at("periodically,250").flushStrategy, {
      kind: "periodically",
      intervalMs: 250,
    });
    const bad = at("sometimes");
    assert.deepEqual(bad.flushStrategy, { kind: "adaptive" });
    assert.match(bad.warnings[0], /^serverless_flush_strategy: expected end, end,<ms>/);
  });

  it("on Managed Instances flushes continuously: every 30 s, or the configured continuously interval", () => {
    const env = { ...API, AWS_LAMBDA_INITIALIZATION_TYPE: "lambda-managed-instances" };
    const at = (v: string) =>
      lambdaSettings({ ...configDefaults(), serverless_flush_strategy: v }, env, "/x/o");
    const byDefault = at("");
    assert.equal(byDefault.managedInstances, true);
    assert.deepEqual(byDefault.flushStrategy, { kind: "continuously", intervalMs: 30_000 });
    assert.deepEqual(byDefault.warnings, []);
    assert.deepEqual(at("continuously,5000").flushStrategy, {
      kind: "continuously",
      intervalMs: 5_000,
    });
    const end = at("end");
    assert.deepEqual(end.flushStrategy, { kind: "continuously", intervalMs: 30_000 });
    assert.match(end.warnings[0], /end does not apply on Managed Instances/);
    const onDemand = { ...API, AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand" };
    assert.equal(lambdaSettings(configDefaults(), onDemand, "/x/o").managedInstances, false);
  });

  it("names AWS_LAMBDA_RUNTIME_API when it is missing", () => {
    assert.throws(
      () => lambdaSettings(configDefaults(), {}, "/opt/extensions/datadog-agent"),
      /AWS_LAMBDA_RUNTIME_API: expected the Runtime API's host:port/,
    );
  });
});
