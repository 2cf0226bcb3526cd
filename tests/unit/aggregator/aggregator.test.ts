import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { byName, one, sample, setup } from "./_helpers.ts";
import { BUILD } from "../../../src/version.ts";
import type { Event, ServiceCheck } from "../../../src/metrics/model.ts";

const event = (extra: Partial<Event> = {}): Event => ({
  title: "deploy",
  text: "v2",
  timestamp: 0,
  host: "",
  priority: "normal",
  alertType: "info",
  aggregationKey: "",
  sourceTypeName: "",
  eventType: "",
  tags: [],
  ...extra,
});
const check = (extra: Partial<ServiceCheck> = {}): ServiceCheck => ({
  name: "app.ok",
  status: 1,
  timestamp: 0,
  host: "",
  message: "",
  tags: [],
  ...extra,
});

describe("Aggregator flush", () => {
  it("flush() adds datadog.agent.running and the datadog.agent.up service check", async () => {
    const { agg, sink, clock } = setup();
    clock.t = 1234.7;
    await agg.flush();
    assert.deepEqual(one(sink.received.series, "datadog.agent.running"), {
      name: "datadog.agent.running",
      points: [[1234, 1]],
      tags: [`version:${BUILD.agentVersion}`],
      host: "agent-host",
      type: "gauge",
      interval: 0,
      sourceTypeName: "System",
    });
    assert.deepEqual(sink.received.serviceChecks, [
      {
        name: "datadog.agent.up",
        status: 0,
        timestamp: 1234,
        host: "agent-host",
        message: "",
        tags: [],
      },
    ]);
  });

  it("a recurrent series is in every flush, stamped with it; the same name and tags replace it", async () => {
    const { agg, sink, clock } = setup();
    const ready = {
      name: "datadog.agent.check_ready",
      tags: ["status:python3", "check_name:hello"],
      host: "agent-host",
      type: "gauge" as const,
      interval: 0,
      sourceTypeName: "System",
    };
    agg.addRecurrentSeries({ ...ready, value: 1 });
    agg.addRecurrentSeries({ ...ready, tags: ["check_name:hello", "status:python3"], value: 1 });
    clock.t = 100;
    await agg.flush();
    clock.t = 115;
    await agg.flush();
    const points = sink.received.series.filter((s) => s.name === "datadog.agent.check_ready")
      .map((s) => [s.tags, s.points]);
    assert.deepEqual(points, [
      [["check_name:hello", "status:python3"], [[100, 1]]],
      [["check_name:hello", "status:python3"], [[115, 1]]],
    ]);
  });

  it("flush() hands buffered events and service checks over once, stamping those without a time", async () => {
    const { agg, sink, clock, registry } = setup();
    agg.addEvent(event({ tags: ["b", "a", "b"] }));
    agg.addEvent(event({ title: "old", timestamp: 900 }));
    agg.addServiceCheck(check({ tags: ["z", "y"] }));
    assert.equal(sink.received.events.length, 0); // buffered until the flush
    clock.t = 1010;
    await agg.flush();
    assert.deepEqual(
      sink.received.events.map((e) => [e.title, e.timestamp, e.tags]),
      [["deploy", 1010, ["a", "b"]], ["old", 900, []]],
    );
    assert.deepEqual(
      sink.received.serviceChecks.map((c) => [c.name, c.timestamp, c.tags]),
      [["app.ok", 1010, ["y", "z"]], ["datadog.agent.up", 1010, []]],
    );
    sink.clear();
    await agg.flush();
    assert.equal(sink.received.events.length, 0);
    assert.equal(registry.read("aggregator.EventsFlushed"), 2);
    assert.equal(registry.read("aggregator.ServiceCheckFlushed"), 3);
    assert.equal(registry.read("aggregator.NumberOfFlush"), 2);
  });

  it("flush() counts a failing sink by kind and still delivers the other kinds", async () => {
    const { agg, sink, registry, lines } = setup();
    sink.series = () => Promise.reject(new Error("disk full"));
    agg.addEvent(event());
    await agg.flush();
    assert.equal(sink.received.events.length, 1);
    assert.deepEqual(registry.read("aggregator.Errors"), { sink_series: 1 });
    assert.equal(registry.read("aggregator.SeriesFlushErrors"), 1);
    assert.equal(registry.read("aggregator.EventsFlushErrors"), 0);
    assert.ok(lines.some((l) => l.includes("Cannot hand series to the serializer: disk full")));
  });

  it("flush() adds n_o_i_n_d_e_x.datadog.agent.payload.dropped: a no-index gauge of the serializer's items too big", async () => {
    const { agg, sink, registry, clock } = setup();
    clock.t = 2000;
    await agg.flush();
    const zero = one(sink.received.series, "n_o_i_n_d_e_x.datadog.agent.payload.dropped");
    assert.deepEqual(zero, {
      name: "n_o_i_n_d_e_x.datadog.agent.payload.dropped",
      points: [[2000, 0]],
      tags: [],
      host: "agent-host",
      type: "gauge",
      interval: 0,
      sourceTypeName: "System",
      noIndex: true,
    });
    registry.counterVec("serializer.items_too_big").with("series").inc(2);
    registry.counterVec("serializer.items_too_big").with("events").inc(1);
    sink.clear();
    clock.t = 2015;
    await agg.flush();
    const dropped = one(sink.received.series, "n_o_i_n_d_e_x.datadog.agent.payload.dropped");
    assert.deepEqual(dropped.points, [[2015, 3]]);
  });

  it("flush() records the Go agent's aggregator.Flush and aggregator.FlushCount rings", async () => {
    const { agg, registry } = setup();
    agg.addEvent(event());
    await agg.flush();
    await agg.flush();
    type Stat = { Flushes: number[]; FlushIndex: number; LastFlush: number; Name: string };
    const times = registry.read("aggregator.Flush") as Record<string, Stat>;
    assert.deepEqual(Object.keys(times).sort(), [
      "ChecksMetricSampleFlushTime",
      "EventFlushTime",
      "MainFlushTime",
      "ManifestsTime",
      "MetricSketchFlushTime",
      "ServiceCheckFlushTime",
    ]);
    assert.equal(times.MainFlushTime.FlushIndex, 1);
    assert.equal(times.MainFlushTime.Flushes.length, 32);
    assert.ok(times.MainFlushTime.LastFlush > 0);
    assert.equal(times.ManifestsTime.FlushIndex, -1);
    const counts = registry.read("aggregator.FlushCount") as Record<string, Stat>;
    // datadog.agent.running and payload.dropped; one event in the first flush only.
    assert.deepEqual(counts.Series.Flushes.slice(0, 2), [2, 2]);
    assert.deepEqual([counts.Events.FlushIndex, counts.Events.LastFlush], [0, 1]);
    assert.deepEqual([counts.ServiceChecks.FlushIndex, counts.ServiceChecks.LastFlush], [1, 1]);
  });

  it("flush() counts and logs its own failure, marks the component unhealthy, and recovers", async () => {
    let broken = true;
    const { agg, registry, lines, healthcheck } = setup({
      now: () => {
        if (broken) throw new Error("clock broken");
        return 1010;
      },
    });
    await assert.rejects(agg.flush(), /clock broken/);
    assert.deepEqual(registry.read("aggregator.Errors"), { flush: 1 });
    assert.ok(
      lines.some((l) => l.includes("ERROR") && l.includes("Cannot flush: Error: clock broken")),
    );
    assert.equal(healthcheck(), false);
    broken = false;
    await agg.flush();
    assert.equal(healthcheck(), true);
  });

  it("flush() calls never overlap: the second waits for the first", async () => {
    const { agg, sink } = setup();
    const order: string[] = [];
    let release = () => {};
    let first = true;
    sink.series = () => {
      if (!first) {
        order.push("second series");
        return;
      }
      first = false;
      order.push("first series");
      return new Promise<void>((r) => (release = r));
    };
    const a = agg.flush().then(() => order.push("first done"));
    const b = agg.flush().then(() => order.push("second done"));
    await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(order, ["first series"]);
    release();
    await Promise.all([a, b]);
    assert.deepEqual(order, ["first series", "first done", "second series", "second done"]);
  });

  it("flush() logs every flushed item at debug level when log_payloads is on", async () => {
    const { agg, lines } = setup({ logPayloads: true });
    agg.addSamples([sample("g", "gauge", 1)]);
    await agg.flush({ now: 1010 });
    assert.ok(lines.some((l) => l.includes("DEBUG") && l.includes('Flushing serie: {"name":"g"')));
    assert.ok(lines.some((l) => l.includes('Flushing service check: {"name":"datadog.agent.up"')));
  });

  it("flush() records flush count and flush time in telemetry", async () => {
    const { agg, registry } = setup();
    const summary = await agg.flush();
    assert.equal(summary.series, 2); // datadog.agent.running and payload.dropped
    assert.equal(registry.read("aggregator.NumberOfFlush"), 1);
    assert.equal(typeof registry.read("aggregator.FlushTimeMs"), "number");
    assert.equal(registry.read("aggregator.SeriesFlushed"), 2);
  });
});

describe("Aggregator no-aggregation path", () => {
  it("addSamples() sends timestamped gauges as is and counters as rate value/10, interval 10", async () => {
    const { agg, sink, clock, registry } = setup();
    agg.addSamples([
      sample("g", "gauge", 7, { timestamp: 900, tags: ["b", "a"] }),
      sample("c", "counter", 25, { timestamp: 905 }),
      sample("h", "histogram", 1, { timestamp: 905 }), // not gauge/counter: dropped
      sample("s", "set", NaN, { rawValue: "x", timestamp: 905 }),
    ]);
    clock.t = 1010;
    await agg.flush();
    assert.deepEqual(one(sink.received.series, "g"), {
      name: "g",
      points: [[900, 7]],
      tags: ["a", "b"],
      host: "agent-host",
      type: "gauge",
      interval: 10,
      sourceTypeName: "",
    });
    // 25 / 10 s = 2.5 per second, at the sample's own time
    assert.deepEqual(one(sink.received.series, "c").points, [[905, 2.5]]);
    assert.equal(one(sink.received.series, "c").type, "rate");
    assert.equal(byName(sink.received.series, "h.max").length, 0);
    assert.deepEqual(registry.read("aggregator.Dropped"), { no_aggregation_unsupported_type: 2 });
    assert.equal(registry.read("aggregator.NoAggregationSamples"), 2);
  });

  it("addSamples() sends a full batch of dogstatsd_no_aggregation_pipeline_batch_size at once", async () => {
    const { agg, sink } = setup({ noAggregationBatchSize: 3 });
    agg.addSamples([1, 2].map((v) => sample("g", "gauge", v, { timestamp: 900 + v })));
    assert.equal(sink.received.series.length, 0);
    agg.addSamples([sample("g", "gauge", 3, { timestamp: 903 })]);
    await agg.drain();
    assert.deepEqual(sink.received.series.map((s) => s.points[0]), [[901, 1], [902, 2], [903, 3]]);
  });

  it("checkNoAggregationIdle() sends a partial batch after 1 s without samples", async () => {
    const { agg, sink, clock } = setup();
    clock.t = 1000;
    agg.addSamples([sample("g", "gauge", 1, { timestamp: 990 })]);
    agg.checkNoAggregationIdle(1000.5);
    await agg.drain();
    assert.equal(sink.received.series.length, 0);
    agg.checkNoAggregationIdle(1001);
    await agg.drain();
    assert.deepEqual(one(sink.received.series, "g").points, [[990, 1]]);
  });

  it("addSamples() aggregates timestamped samples into their own bucket when the pipeline is off", async () => {
    const { agg, sink, clock } = setup({ noAggregation: false });
    agg.addSamples([sample("c", "counter", 20, { timestamp: 955 })]);
    clock.t = 1010;
    await agg.flush();
    assert.deepEqual(one(sink.received.series, "c").points, [[950, 2]]);
  });
});

describe("Aggregator orchestrator input", () => {
  it("addOrchestrator() hands payloads to the sink without waiting for a flush or for the sink", async () => {
    const { agg, sink } = setup();
    let calls = 0;
    sink.orchestrator = () => {
      calls++;
      return new Promise(() => {}); // a sink that never finishes
    };
    const body = new Uint8Array([1, 2, 3]);
    agg.addOrchestrator([{ kind: "metadata", type: 1, body }]);
    await Promise.resolve();
    await Promise.resolve();
    assert.equal(calls, 1);
    const summary = await agg.flush(); // not blocked by the pending orchestrator hand-off
    assert.equal(summary.serviceChecks, 1);
  });

  it("addOrchestrator() drops and counts payloads beyond a queue of 1000", () => {
    const { agg, registry } = setup();
    const p = { kind: "manifest" as const, type: 2, body: new Uint8Array() };
    agg.addOrchestrator(Array.from({ length: 1003 }, () => p));
    assert.deepEqual(registry.read("aggregator.Dropped"), { orchestrator_queue_full: 3 });
    assert.equal(registry.read("aggregator.OrchestratorPayloads"), 1000);
  });
});

describe("buildAggregator", () => {
  it("stop() flushes one last time, including open buckets when asked", async () => {
    const { agg, sink, clock, component: c } = setup({ flushIncompleteBuckets: true });
    await c.start();
    clock.t = 1003;
    agg.addSamples([sample("g", "gauge", 5)]);
    await c.stop();
    assert.deepEqual(one(sink.received.series, "g").points, [[1000, 5]]);
  });
});
