import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { runtime } from "../../../src/runtime/mod.ts";
import { createLogger } from "../../../src/log/mod.ts";
import {
  EnhancedMetrics,
  MAX_BATCH_BYTES,
  startTelemetryListener,
  type TelemetryEvent,
} from "../../../src/serverless/_telemetry.ts";

const info = {
  functionName: "Fn",
  region: "us-east-1",
  accountId: "123456789012",
  memorySizeMB: 1024,
  architecture: "x86_64" as const,
};

// A documented-shape invocation: start, runtimeDone, report.
const invocation: TelemetryEvent[] = [
  { time: "t", type: "platform.start", record: { requestId: "r1", version: "$LATEST" } },
  {
    time: "t",
    type: "platform.runtimeDone",
    record: {
      requestId: "r1",
      status: "success",
      metrics: { durationMs: 80, producedBytes: 12 },
      spans: [{ name: "responseLatency", start: "t", durationMs: 5 }],
    },
  },
  {
    time: "t",
    type: "platform.report",
    record: {
      requestId: "r1",
      status: "success",
      metrics: {
        durationMs: 100,
        billedDurationMs: 100,
        memorySizeMB: 1024,
        maxMemoryUsedMB: 70,
        initDurationMs: 200,
      },
    },
  },
];

describe("enhanced metrics from telemetry", () => {
  it("gives exact values and cold_start on the first invocation only", () => {
    const m = new EnhancedMetrics(info);
    const got = Object.fromEntries(
      m.samples(invocation).map((s) => [s.name.slice("aws.lambda.enhanced.".length), s.value]),
    );
    assert.equal(got.invocations, 1);
    assert.equal(got.runtime_duration, 80);
    assert.equal(got.produced_bytes, 12);
    assert.equal(got.response_latency, 5);
    assert.equal(got.duration, 100);
    assert.equal(got.post_runtime_duration, 20);
    assert.equal(got.init_duration, 200);
    assert.equal(got.max_memory_used, 70);
    assert.ok(Math.abs(got.estimated_cost - (0.1 * 0.0000166667 + 0.0000002)) < 1e-15);
    const second = m.samples(JSON.parse(JSON.stringify(invocation).replaceAll('"r1"', '"r2"')));
    assert.ok(second.every((s) => s.tags.includes("cold_start:false")));
    assert.ok(!second.some((s) => s.name.endsWith("init_duration")));
  });

  it("counts an INVOKE as one invocation when there is no telemetry", () => {
    const [s] = new EnhancedMetrics(info).invocation();
    assert.equal(s.name, "aws.lambda.enhanced.invocations");
    assert.equal(s.value, 1);
    assert.equal(s.type, "distribution");
    assert.ok(s.tags.includes("functionname:fn"));
  });

  it("counts errors, timeouts and out-of-memory", () => {
    const m = new EnhancedMetrics(info);
    const names = m.samples([
      {
        time: "t",
        type: "platform.runtimeDone",
        record: { requestId: "a", status: "error", errorType: "Runtime.OutOfMemory" },
      },
      { time: "t", type: "platform.runtimeDone", record: { requestId: "b", status: "timeout" } },
    ]).map((s) => s.name);
    assert.deepEqual(names, [
      "aws.lambda.enhanced.errors",
      "aws.lambda.enhanced.out_of_memory",
      "aws.lambda.enhanced.timeouts",
      "aws.lambda.enhanced.errors",
    ]);
  });
});

describe("telemetry listener", () => {
  it("answers 200 to every batch and drops one that does not parse", async () => {
    const got: TelemetryEvent[] = [];
    const l = await startTelemetryListener(
      runtime,
      { hostname: "127.0.0.1", port: 0, log: createLogger({ level: "off" }).for("t") },
      (e) => got.push(...e),
    );
    try {
      const url = `http://127.0.0.1:${l.port}/`;
      const ok = await fetch(url, { method: "POST", body: JSON.stringify(invocation) });
      const bad = await fetch(url, { method: "POST", body: "{not json" });
      assert.equal(ok.status, 200);
      assert.equal(bad.status, 200);
      assert.equal(got.length, 3);
      assert.deepEqual(l.stats, { batches: 1, events: 3, badBatches: 1 });
      // Not Lambda: a body past the cap is refused unread, counted, and the listener goes on.
      const huge = await fetch(url, {
        method: "POST",
        body: new Uint8Array(MAX_BATCH_BYTES + 1),
      });
      assert.equal(huge.status, 413);
      assert.match((await huge.json()).error, /limit|large|bytes/);
      assert.deepEqual(l.stats, { batches: 1, events: 3, badBatches: 2 });
      const again = await fetch(url, { method: "POST", body: JSON.stringify(invocation) });
      assert.equal(again.status, 200);
      assert.equal(got.length, 6);
    } finally {
      await l.close();
    }
  });
});

describe("EnhancedMetrics cold_start", () => {
  it("tags only the first invocation's metrics cold_start:true, even when batches interleave", () => {
    const m = new EnhancedMetrics(info);
    const cold = (s: { tags: string[] }) => s.tags.find((t) => t.startsWith("cold_start:"));
    const got = m.samples([
      { time: "t", type: "platform.start", record: { requestId: "a" } },
      { time: "t", type: "platform.start", record: { requestId: "b" } },
      { time: "t", type: "platform.runtimeDone", record: { requestId: "a", status: "error" } },
      { time: "t", type: "platform.runtimeDone", record: { requestId: "b", status: "error" } },
    ]).map(cold);
    assert.deepEqual(got, [
      "cold_start:true",
      "cold_start:false",
      "cold_start:true",
      "cold_start:false",
    ]);
  });
});
