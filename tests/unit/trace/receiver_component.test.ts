import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { configSchema } from "../../../src/config/mod.ts";
import { createHttpClient, httpSettings } from "../../../src/http/mod.ts";
import { createLogger } from "../../../src/log/mod.ts";
import { runtime } from "../../../src/runtime/mod.ts";
import { Registry } from "../../../src/telemetry/mod.ts";
import type { Delivery, Payload } from "../../../src/forwarder/mod.ts";
import { buildTrace, TraceProcessor, traceSettings } from "../../../src/trace/mod.ts";
import { freePort } from "../../../scripts/bench/_agent.ts";

function build(apm: Record<string, unknown>, submit: (p: Payload) => Delivery) {
  const config = v.parse(configSchema, {
    api_key: "k",
    use_dogstatsd: false,
    apm_config: { receiver_host: "127.0.0.1", ...apm },
  });
  const lines: string[] = [];
  const registry = new Registry();
  const settings = traceSettings(config);
  const built = buildTrace(settings, {
    runtime,
    registry,
    logger: createLogger({ write: (l) => void lines.push(l) }),
    http: createHttpClient(runtime, httpSettings(config, {})),
    hostname: "h",
    submit,
    processor: new TraceProcessor(settings.processing, { registry, hostname: "h" }),
    dogstatsd: null,
  });
  return { built, lines };
}

const trace = JSON.stringify([[{
  service: "web",
  name: "http.request",
  resource: "GET /",
  trace_id: 1,
  span_id: 1,
  parent_id: 0,
  start: 1,
  duration: 2,
  metrics: { _sampling_priority_v1: 1 },
}]]);

describe("buildTrace", () => {
  it("is null when apm_config.enabled is false", () => {
    const { built } = build({ enabled: false }, () => ({ done: new Promise(() => {}) }));
    assert.equal(built, null);
  });

  it("a receiver that cannot bind leaves start() resolved, logs, and reports unhealthy", async () => {
    const taken = await runtime.serve({ hostname: "127.0.0.1", port: 0 }, () => new Response());
    try {
      const { built, lines } = build(
        { receiver_port: taken.port },
        () => ({ done: new Promise(() => {}) }),
      );
      await built!.component.start();
      assert.equal(built!.healthcheck(), false);
      assert.ok(
        lines.some((l) => l.includes(`Cannot listen for traces on 127.0.0.1:${taken.port}`)),
        lines.join(""),
      );
      await built!.component.stop();
    } finally {
      await taken.close();
    }
  });

  it("flush() resolves only once the traces it buffered are delivered", async () => {
    const sent: Payload[] = [];
    const settle: Array<() => void> = [];
    const { built } = build({ receiver_port: await freePort(), flush_period: 3600 }, (p) => {
      sent.push(p);
      return {
        done: new Promise((r) => settle.push(() => r({ status: "delivered", reason: "ok" }))),
      };
    });
    const c = built!.component;
    await c.start();
    try {
      assert.equal(built!.healthcheck(), true);
      const res = await fetch(`http://127.0.0.1:${c.port}/v0.4/traces`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: trace,
      });
      assert.equal(res.status, 200);
      assert.ok("rate_by_service" in await res.json());
      let flushed = false;
      const done = c.flush().then(() => (flushed = true));
      await new Promise((r) => setTimeout(r, 20));
      const traces = sent.filter((p) => p.route === "/api/v0.2/traces");
      assert.equal(traces.length, 1);
      assert.equal(flushed, false, "waits for the delivery");
      for (const s of settle) s();
      await done;
    } finally {
      await c.stop();
    }
  });
});
