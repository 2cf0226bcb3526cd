import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "../../../src/telemetry/mod.ts";
import {
  aggregatorStatusProvider,
  dogstatsdStatusProvider,
  forwarderStatusProvider,
  PLAIN,
} from "../../../src/status/mod.ts";

describe("dogstatsdStatusProvider()", () => {
  it("reports packets and parse errors by kind exactly as counted, with the last errors", async () => {
    const r = new Registry();
    r.counter("dogstatsd.packets").inc(7);
    r.counter("dogstatsd.bytes").inc(120);
    r.counterVec("dogstatsd.messages").with("metric").inc(5);
    r.counterVec("dogstatsd.parse_errors").with("metric").inc(2);
    r.counterVec("dogstatsd.parse_errors").with("event").inc(1);
    r.publish("dogstatsd.last_errors", () => ["bad|x", "_e{9"]);
    const p = dogstatsdStatusProvider(r);
    const data = await p.data();
    assert.deepEqual(data.dogstatsdStats, {
      packets: 7,
      bytes: 120,
      messages: { metric: 5 },
      parse_errors: { metric: 2, event: 1 },
      blocklisted: undefined,
      dropped: undefined,
      last_errors: ["bad|x", "_e{9"],
    });
    const text = p.text(data, PLAIN);
    assert.match(text, /Packets: 7\n/);
    assert.match(text, /Parse errors: 3 \(metric=2, event=1\)\n/);
    assert.match(text, /Dropped: -\n/);
    assert.match(text, /Last errors:\n {4}bad\|x\n {4}_e\{9$/);
  });

  it("renders 'not running' when no dogstatsd variable exists", async () => {
    const p = dogstatsdStatusProvider(new Registry());
    const data = await p.data();
    assert.deepEqual(data, { dogstatsdStats: null });
    assert.match(p.text(data, PLAIN), /DogStatsD is not running/);
  });
});

describe("aggregatorStatusProvider()", () => {
  it("reads contexts, flushes by kind and drops", async () => {
    const r = new Registry();
    r.gauge("aggregator.contexts").set(12);
    r.counterVec("aggregator.flushes").with("series").inc(3);
    r.counterVec("aggregator.flushes").with("sketches").inc(3);
    r.counter("aggregator.dropped").inc(1);
    const p = aggregatorStatusProvider(r);
    const text = p.text(await p.data(), PLAIN);
    assert.equal(
      text,
      "  Contexts: 12\n  Flushes: 6 (series=3, sketches=3)\n  Dropped: 1\n  Flush errors: -",
    );
  });
});

describe("forwarderStatusProvider()", () => {
  it("builds a per-endpoint table, queue bytes and API key validity", async () => {
    const r = new Registry();
    const url = "https://0-1-0-app.agent.datadoghq.com";
    r.counterVec("forwarder.successes").with(url).inc(4);
    r.counterVec("forwarder.errors").with(url).inc(2);
    r.counterVec("forwarder.retries").with(url).inc(2);
    r.gauge("forwarder.queue_bytes_memory").set(2048);
    r.gauge("forwarder.queue_bytes_disk").set(0);
    r.publish("forwarder.api_key_status", () => ({ [url]: "invalid" }));
    const p = forwarderStatusProvider(r);
    const data = await p.data();
    assert.deepEqual(data.forwarderStats, {
      endpoints: { [url]: { successes: 4, errors: 2, retries: 2, dropped: 0 } },
      queue_bytes_memory: 2048,
      queue_bytes_disk: 0,
      api_key_status: { [url]: "invalid" },
    });
    const text = p.text(data, PLAIN);
    assert.match(text, /Queue bytes in memory: 2048\n {2}Queue bytes on disk: 0/);
    assert.match(text, /Successes: 4\n {4}Errors: 2\n {4}Retries: 2\n {4}Dropped: 0/);
    assert.match(text, /API Key invalid/);
  });

  it("renders 'not running' without forwarder variables", async () => {
    const p = forwarderStatusProvider(new Registry());
    assert.match(p.text(await p.data(), PLAIN), /forwarder is not running/);
  });
});
