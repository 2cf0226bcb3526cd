import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { runtime } from "../../../src/runtime/mod.ts";
import { createLogger } from "../../../src/log/mod.ts";
import {
  boundedFlush,
  DEADLINE_MARGIN_MS,
  ExtensionsClient,
  FLUSH_TIMEOUT_MS,
  flushBudget,
  type LoopStats,
  runInvocationLoop,
  STOP_RESERVE_MS,
} from "../../../src/serverless/mod.ts";
import { EXTENSION_ID, TestRuntimeApi } from "../../_lambda_runtime_api.ts";

const log = createLogger({ level: "off" }).for("lambda");
let api: TestRuntimeApi;

before(async () => {
  api = new TestRuntimeApi();
  await api.start();
});
after(() => api.close());

describe("ExtensionsClient", () => {
  it("registers with the name and the identifier it gets back, then reports errors", async () => {
    const client = new ExtensionsClient(runtime, api.address);
    const reg = await client.register("datadog-agent");
    assert.deepEqual(reg, {
      id: EXTENSION_ID,
      functionName: "outpost-test",
      functionVersion: "$LATEST",
      handler: "index.handler",
    });
    await client.initError("NoAPIKey", "no key");
    await client.exitError("NextFailed", "gone");
    const [init, exit] = [api.callsTo("/init/error")[0], api.callsTo("/exit/error")[0]];
    assert.equal(init.headers["lambda-extension-identifier"], EXTENSION_ID);
    assert.equal(init.headers["lambda-extension-function-error-type"], "Extension.NoAPIKey");
    assert.deepEqual(JSON.parse(init.body), {
      errorMessage: "no key",
      errorType: "Extension.NoAPIKey",
      stackTrace: [],
    });
    assert.equal(exit.headers["lambda-extension-function-error-type"], "Extension.NextFailed");
  });

  it("throws on a refused call instead of looping on it", async () => {
    const unregistered = new ExtensionsClient(runtime, api.address);
    await assert.rejects(unregistered.next(), /Next event refused: 403/);
  });
});

describe("boundedFlush", () => {
  it("resolves false when the flush outlives its budget, or fails, or has no time", async () => {
    const never = () => new Promise<void>(() => {});
    const t0 = Date.now();
    assert.equal(await boundedFlush(never, 50, log), false);
    assert.ok(Date.now() - t0 < 1_000);
    assert.equal(await boundedFlush(() => Promise.reject(new Error("x")), 50, log), false);
    assert.equal(await boundedFlush(() => Promise.resolve(), 0, log), false);
    assert.equal(await boundedFlush(() => Promise.resolve(), 50, log), true);
  });

  it("budgets the deadline less the margin (and SHUTDOWN's stop reserve), at most the flush timeout", () => {
    const shutdown = {
      eventType: "SHUTDOWN",
      shutdownReason: "spindown",
      deadlineMs: 10_000,
    } as const;
    assert.equal(flushBudget(shutdown, 9_000), 1_000 - DEADLINE_MARGIN_MS - STOP_RESERVE_MS);
    assert.equal(flushBudget(shutdown, 0), FLUSH_TIMEOUT_MS);
    assert.ok(flushBudget(shutdown, 10_000) <= 0);
    const invoke = {
      eventType: "INVOKE",
      deadlineMs: 10_000,
      requestId: "r1",
      invokedFunctionArn: "arn:aws:lambda:eu-west-1:1:function:f",
    } as const;
    assert.equal(flushBudget(invoke, 9_000), 1_000 - DEADLINE_MARGIN_MS);
  });
});

describe("runInvocationLoop", () => {
  it("flushes once per ended invocation and once for SHUTDOWN", async () => {
    const client = new ExtensionsClient(runtime, api.address);
    await client.register("outpost");
    const before = api.callsTo("/event/next").length;
    let flushes = 0;
    const stats: LoopStats = { invocations: 0, flushes: 0, failedFlushes: 0 };
    const done = runInvocationLoop({ client, log, stats, flush: async () => void flushes++ });
    for (let i = 1; i <= 3; i++) {
      api.invoke(`r-${i}`);
      await api.waitFor("/event/next", before + i + 1);
      // Nothing to flush when the first invocation starts; one flush per invocation after.
      assert.equal(flushes, i - 1);
    }
    api.shutdown("timeout");
    const shutdown = await done;
    assert.equal(shutdown.shutdownReason, "timeout");
    assert.equal(flushes, 3);
    assert.deepEqual(stats, { invocations: 3, flushes: 3, failedFlushes: 0 });
  });
});
