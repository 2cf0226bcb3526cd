import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runtime } from "../../../src/runtime/mod.ts";
import { createLogger } from "../../../src/log/mod.ts";
import { type LambdaSettings, runExtension, StateFile } from "../../../src/serverless/mod.ts";
import { lambdaLogsSettings } from "../../../src/serverless/_logs.ts";
import { configDefaults } from "../../../src/config/mod.ts";
import { TestRuntimeApi } from "../../_lambda_runtime_api.ts";
import { tempDir } from "../../_temp.ts";

const logger = createLogger({ level: "off" });
const ARN = "arn:aws:lambda:us-east-1:123456789012:function:outpost-test";
let api: TestRuntimeApi;
before(async () => {
  api = new TestRuntimeApi();
  await api.start();
});
after(() => api.close());

const settings = (statePath: string): LambdaSettings => ({
  runtimeApi: api.address,
  extensionName: "datadog-agent",
  daemonPort: 0,
  localTest: false,
  hasApiKey: false,
  flushStrategy: { kind: "end" },
  managedInstances: false,
  statePath,
  telemetryPort: 0,
  region: "us-east-1",
  memorySizeMB: 128,
  logs: lambdaLogsSettings(configDefaults(), {}),
  enhancedMetrics: true,
  warnings: [],
});

/** One extension run of `ids` invocations then SHUTDOWN, keeping its state in `path`. */
async function run(path: string, ids: string[]): Promise<void> {
  const done = runExtension({
    runtime,
    settings: settings(path),
    logger,
    buildAgent: () => {
      throw new Error("not called without a key");
    },
  });
  const before = api.callsTo("/event/next").length;
  for (const [i, id] of ids.entries()) {
    api.invoke(id);
    await api.waitFor("/event/next", before + i + 2);
  }
  api.shutdown();
  assert.equal(await done, 0);
}

describe("the Lambda state file", () => {
  it("records the ARN, the current request and the cold start, and a restart restores them", async () => {
    const dir = tempDir("outpost-lambda-state-");
    const path = join(dir, "dd-lambda-extension-cache.json");
    await run(path, ["req-1", "req-2"]);
    const first = JSON.parse(readFileSync(path, "utf8"));
    assert.equal(first.ARN, ARN);
    assert.equal(first.LastRequestID, "req-2");
    assert.equal(first.ColdstartRequestID, "req-1");
    assert.equal(first.WasColdStart, true);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ["dd-lambda-extension-cache.json"], "no temp file left");

    const restored = new StateFile(logger.for("lambda"), path);
    assert.equal(restored.restored, true);
    assert.equal(restored.state.LastRequestID, "req-2");
    assert.equal(restored.isColdStart("req-3"), false);

    await run(path, ["req-3"]);
    const second = JSON.parse(readFileSync(path, "utf8"));
    assert.equal(second.LastRequestID, "req-3");
    assert.equal(second.ColdstartRequestID, "req-1", "the restart is not a second cold start");
  });

  it("reads the older format and starts fresh from a file that is not a state", () => {
    const dir = tempDir("outpost-lambda-state-");
    const path = join(dir, "state.json");
    writeFileSync(path, JSON.stringify({ CurrentARN: ARN, CurrentReqID: "old-1" }));
    const old = new StateFile(logger.for("lambda"), path);
    assert.equal(old.state.ARN, ARN);
    assert.equal(old.state.LastRequestID, "old-1");
    assert.equal(old.isColdStart("old-2"), false);

    writeFileSync(path, "{not json");
    const fresh = new StateFile(logger.for("lambda"), path);
    assert.equal(fresh.restored, false);
    fresh.record({
      eventType: "INVOKE",
      requestId: "new-1",
      invokedFunctionArn: ARN,
      deadlineMs: 0,
    });
    assert.equal(fresh.isColdStart("new-1"), true);
    assert.equal(JSON.parse(readFileSync(path, "utf8")).LastRequestID, "new-1");
  });

  it("logs a state file it cannot write and goes on", () => {
    const dir = tempDir("outpost-lambda-state-");
    const state = new StateFile(logger.for("lambda"), join(dir, "missing", "state.json"));
    state.record({ eventType: "INVOKE", requestId: "r", invokedFunctionArn: ARN, deadlineMs: 0 });
    assert.equal(state.state.LastRequestID, "r");
  });
});
