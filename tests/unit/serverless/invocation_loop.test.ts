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
  FlushPlanner,
  InvocationDone,
  MISSED_ENDS_TOLERATED,
  newLoopStats,
  runInvocationLoop,
  runManagedLoop,
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
  async function registered() {
    const client = new ExtensionsClient(runtime, api.address);
    await client.register("outpost");
    return { client, before: api.callsTo("/event/next").length };
  }

  it("without an end told, flushes each invocation at the next event and once for SHUTDOWN", async () => {
    const { client, before } = await registered();
    let flushes = 0;
    const stats = newLoopStats();
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
    assert.deepEqual([stats.invocations, stats.flushes, stats.failedFlushes], [3, 3, 0]);
    assert.deepEqual([stats.decisions.end, stats.doneFlushes], [3, 0]);
  });

  it("with an end told, flushes right then and only then calls `next`", async () => {
    const { client, before } = await registered();
    const invocationDone = new InvocationDone();
    invocationDone.telemetry = true;
    let flushes = 0;
    const stats = newLoopStats();
    const events: string[] = [];
    const loop = runInvocationLoop({
      client,
      log,
      stats,
      done: invocationDone,
      flush: async () => void flushes++,
      onEvent: (e) => void events.push(e.eventType),
    });
    api.invoke("d-1");
    await api.waitDelivered(api.delivered + 1);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(api.callsTo("/event/next").length, before + 1, "waiting for the end");
    assert.equal(flushes, 0);
    invocationDone.done("someone-else", "telemetry");
    invocationDone.done("d-1", "telemetry");
    await api.waitFor("/event/next", before + 2);
    assert.equal(flushes, 1);
    // Told before the loop read the INVOKE (a fast function): remembered.
    invocationDone.done("d-2", "telemetry");
    api.invoke("d-2");
    await api.waitFor("/event/next", before + 3);
    assert.equal(flushes, 2);
    // Never told: `next` comes at the deadline, and the flush at the next event.
    const invokedAt = Date.now();
    api.invoke("d-3", 300);
    await api.waitFor("/event/next", before + 4);
    const held = Date.now() - invokedAt;
    assert.ok(held >= 250 && held < 600, `next ${held} ms after an INVOKE with a 300 ms deadline`);
    assert.equal(flushes, 2);
    api.shutdown();
    await loop;
    assert.equal(flushes, 3, "SHUTDOWN's final flush");
    assert.deepEqual(events, ["INVOKE", "INVOKE", "INVOKE", "SHUTDOWN"]);
    assert.equal(stats.doneFlushes, 2);
  });

  it("a library's end-invocation is waited for once one came", async () => {
    const { client, before } = await registered();
    const invocationDone = new InvocationDone();
    let flushes = 0;
    const loop = runInvocationLoop({
      client,
      log,
      done: invocationDone,
      flush: async () => void flushes++,
    });
    assert.equal(invocationDone.expected, false);
    api.invoke("l-1");
    await api.waitFor("/event/next", before + 2);
    invocationDone.done(null, "library");
    assert.equal(invocationDone.expected, true);
    api.invoke("l-2");
    await api.waitDelivered(api.delivered + 1);
    await new Promise((r) => setTimeout(r, 50));
    // l-1 was owed its flush at l-2's start; l-2 waits for its end.
    assert.equal(flushes, 1);
    assert.equal(api.callsTo("/event/next").length, before + 2);
    invocationDone.done(null, "library");
    await api.waitFor("/event/next", before + 3);
    assert.equal(flushes, 2);
    api.shutdown();
    await loop;
  });
});

describe("the race timer", () => {
  it("with adaptive, flushes while `next` waits once the race interval passed without a flush", async () => {
    const client = new ExtensionsClient(runtime, api.address);
    await client.register("outpost");
    const before = api.callsTo("/event/next").length;
    // Adaptive's timer is 60 s; the same planner with 50 ms.
    class Quick extends FlushPlanner {
      override get raceMs() {
        return 50;
      }
    }
    let flushes = 0;
    const stats = newLoopStats();
    const planner = new Quick({ kind: "adaptive" }, Date.now());
    const loop = runInvocationLoop({
      client,
      log,
      stats,
      planner,
      flush: async () => void flushes++,
    });
    await api.waitFor("/event/next", before + 1);
    await new Promise((r) => setTimeout(r, 280));
    assert.ok(stats.raceFlushes >= 2, `${stats.raceFlushes} race flushes in 280 ms`);
    assert.equal(flushes, stats.raceFlushes);
    api.shutdown();
    await loop;
    assert.equal(flushes, stats.raceFlushes + 1, "and the final one");
  });
});

describe("InvocationDone", () => {
  it("stops being expected after 2 invocations in a row without a told end, until one is told", async () => {
    const d = new InvocationDone();
    assert.equal(d.expected, false);
    d.telemetry = true;
    d.started("a");
    assert.equal(await d.wait(10), false);
    d.missed();
    assert.equal(d.expected, true, "one miss is tolerated");
    d.missed();
    assert.equal(d.expected, false, `${MISSED_ENDS_TOLERATED} in a row`);
    d.done("b", "telemetry"); // telemetry is alive after all
    assert.equal(d.expected, true);
    const aborted = new AbortController();
    const waiting = d.wait(5_000, aborted.signal);
    aborted.abort();
    assert.equal(await waiting, false, "an abort ends the wait");
  });
});

describe("runManagedLoop", () => {
  it("flushes in the background every interval while `next` waits, and at SHUTDOWN", async () => {
    const client = new ExtensionsClient(runtime, api.address);
    await client.register("outpost", ["SHUTDOWN"]);
    assert.deepEqual(JSON.parse(api.callsTo("/register").at(-1)!.body), { events: ["SHUTDOWN"] });
    let flushes = 0;
    const stats = newLoopStats();
    const planner = new FlushPlanner({ kind: "continuously", intervalMs: 50 }, Date.now());
    const loop = runManagedLoop({ client, log, stats, planner, flush: async () => void flushes++ });
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(flushes >= 2, `${flushes} background flushes in 300 ms`);
    const before = flushes;
    api.shutdown();
    await loop;
    assert.ok(flushes >= before + 1, "the final flush");
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(flushes, stats.flushes, "no flush after the loop ended");
    assert.equal(stats.invocations, 0);
  });
});
