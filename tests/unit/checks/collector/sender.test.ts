import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Aggregator, memorySink } from "../../../../src/aggregator/mod.ts";
import { Registry } from "../../../../src/telemetry/mod.ts";
import { CheckSender } from "../../../../src/checks/collector/_sender.ts";
import { sketchQuantile } from "../../../../src/aggregator/sketch.ts";
import { captureLogger } from "./_fakes.ts";

function setup(o: { tags?: string[]; service?: string; emptyDefaultHostname?: boolean } = {}) {
  const sink = memorySink();
  const { logger, lines } = captureLogger();
  let t = 1000;
  const aggregator = new Aggregator({
    sink,
    hostname: "agent-host",
    registry: new Registry(),
    log: logger.for("aggregator"),
    now: () => t,
  });
  const sender = new CheckSender({
    id: "demo:1",
    aggregator,
    hostname: "agent-host",
    log: logger.for("collector"),
    ...o,
  });
  const flush = async () => {
    await aggregator.flush({ now: t });
    return sink.received;
  };
  return { sender, flush, lines, tick: (s: number) => (t += s) };
}

const own = (name: string) => /^(n_o_i_n_d_e_x\.)?datadog\.agent\./.test(name);

describe("CheckSender", () => {
  it("metric() appends the instance tags and service:<v>, and the agent's hostname", async () => {
    const { sender, flush } = setup({ tags: ["env:prod"], service: "web" });
    sender.metric("gauge", "m", 1, ["a:b"]);
    sender.commit(1000);
    const [s] = (await flush()).series.filter((x) => !own(x.name));
    assert.deepEqual(s.tags, ["a:b", "env:prod", "service:web"]);
    assert.equal(s.host, "agent-host");
    assert.equal(s.sourceTypeName, "System");
  });

  it("an explicit hostname wins; empty_default_hostname keeps '' for the rest", async () => {
    const { sender, flush } = setup({ emptyDefaultHostname: true });
    sender.metric("gauge", "explicit", 1, [], "other-host");
    sender.metric("gauge", "none", 1);
    sender.serviceCheck("sc", 0);
    sender.event({ title: "t", text: "x" });
    sender.commit(1000);
    const r = await flush();
    const hosts = Object.fromEntries(r.series.map((s) => [s.name, s.host]));
    assert.equal(hosts.explicit, "other-host");
    assert.equal(hosts.none, "");
    assert.equal(r.serviceChecks.find((c) => c.name === "sc")?.host, "");
    assert.equal(r.events[0].host, "");
  });

  it("without empty_default_hostname, '' and a missing host both get the agent's", async () => {
    const { sender, flush } = setup();
    sender.metric("gauge", "blank", 1, [], "");
    sender.serviceCheck("sc", 1, ["x:y"], undefined, "msg");
    sender.commit(1000);
    const r = await flush();
    assert.equal(r.series.find((s) => s.name === "blank")?.host, "agent-host");
    const sc = r.serviceChecks.find((c) => c.name === "sc")!;
    assert.deepEqual([sc.host, sc.status, sc.message, sc.tags], ["agent-host", 1, "msg", ["x:y"]]);
  });

  it("NaN and infinite values are dropped, counted and logged, not thrown", async () => {
    const { sender, flush, lines } = setup();
    sender.metric("gauge", "bad", NaN);
    sender.metric("gauge", "inf", Infinity);
    sender.metric("gauge", "good", 2);
    assert.equal(sender.dropped, 2);
    const counts = sender.commit(1000);
    assert.equal(counts.metricSamples, 1);
    const names = (await flush()).series.map((s) => s.name);
    assert.ok(names.includes("good") && !names.includes("bad") && !names.includes("inf"));
    assert.ok(lines.some((l) => l.includes('"bad" has value NaN')));
  });

  it("commit() returns the counts since the last commit and resets them", () => {
    const { sender } = setup();
    sender.metric("rate", "r", 1);
    sender.metric("count", "c", 1);
    sender.histogramBucket("h", 3, 0, 1, false);
    sender.serviceCheck("s", 0);
    sender.event({ title: "t", text: "" });
    sender.eventPlatformEvent("{}", "dbm-samples");
    sender.eventPlatformEvent("{}", "dbm-samples");
    assert.deepEqual(sender.commit(1000), {
      metricSamples: 2,
      events: 1,
      serviceChecks: 1,
      histogramBuckets: 1,
      eventPlatformEvents: { "dbm-samples": 2 },
    });
    assert.equal(sender.commit(1001).metricSamples, 0);
  });

  it("histogramBucket() spreads the count over the bounds into a sketch", async () => {
    const { sender, flush } = setup({ tags: ["i:1"] });
    sender.histogramBucket("latency", 10, 0, 10, false, undefined, ["le:10"]);
    sender.commit(1000);
    const [sk] = (await flush()).sketches;
    assert.equal(sk.name, "latency");
    assert.deepEqual(sk.tags, ["i:1", "le:10"]);
    const p = sk.points[0];
    assert.equal(p.cnt, 10);
    assert.ok(p.min >= 0 && p.max <= 10, `${p.min}..${p.max}`);
    const median = sketchQuantile(p, 0.5);
    assert.ok(median > 3 && median < 7, String(median));
  });

  it("a monotonic bucket adds its growth; the first sighting is a baseline unless flushFirstValue", async () => {
    const { sender, flush, tick } = setup();
    sender.histogramBucket("mono", 5, 1, 2, true);
    sender.histogramBucket("first", 4, 1, 2, true, undefined, [], true);
    sender.commit(1000);
    let r = await flush();
    assert.equal(r.sketches.find((s) => s.name === "mono"), undefined);
    assert.equal(r.sketches.find((s) => s.name === "first")?.points[0].cnt, 4);
    tick(15);
    sender.histogramBucket("mono", 12, 1, 2, true);
    sender.commit(1015);
    r = await flush();
    assert.equal(r.sketches.find((s) => s.name === "mono")?.points[0].cnt, 7);
  });

  it("an upper bound of +Inf lands at twice the lower bound; a negative count is refused", async () => {
    const { sender, flush } = setup();
    sender.histogramBucket("top", 2, 100, Infinity, false);
    sender.histogramBucket("neg", -1, 0, 1, false);
    sender.commit(1000);
    const r = await flush();
    const top = r.sketches.find((s) => s.name === "top")!.points[0];
    assert.ok(top.min >= 100 && top.max <= 200);
    assert.equal(r.sketches.find((s) => s.name === "neg"), undefined);
    assert.equal(sender.dropped, 1);
  });

  it("setMetadata() keeps the instance's metadata, sorted by key", () => {
    const { sender } = setup();
    sender.setMetadata("version.raw", "5.7.1");
    sender.setMetadata("version.major", "5");
    assert.deepEqual(Object.entries(sender.metadata()), [
      ["version.major", "5"],
      ["version.raw", "5.7.1"],
    ]);
  });
});
