import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Agent } from "../../src/agent.ts";
import { alwaysHealthy, type Built } from "../../src/component.ts";
import { createLogger } from "../../src/log/mod.ts";

const logger = createLogger({ level: "off" });

function component(
  name: string,
  events: string[],
  opts: { failStart?: boolean; stopMs?: number; healthy?: () => boolean } = {},
): Built {
  const c = {
    name,
    async start() {
      if (opts.failStart) throw new Error("port in use");
      events.push(`start ${name}`);
    },
    async stop() {
      if (opts.stopMs) await new Promise((r) => setTimeout(r, opts.stopMs));
      events.push(`stop ${name}`);
    },
  };
  return { component: c, healthcheck: opts.healthy ?? alwaysHealthy };
}

describe("Agent", () => {
  it("start() starts in order and stop() stops in reverse", async () => {
    const events: string[] = [];
    const agent = new Agent([
      component("a", events),
      component("b", events),
      component("c", events),
    ], logger);
    await agent.start();
    assert.deepEqual(agent.health(), { Healthy: ["a", "b", "c"], Unhealthy: [] });
    assert.equal(await agent.stop(), true);
    assert.deepEqual(events, ["start a", "start b", "start c", "stop c", "stop b", "stop a"]);
  });

  it("start() stops the started components when one fails, and names it", async () => {
    const events: string[] = [];
    const agent = new Agent([
      component("a", events),
      component("b", events),
      component("c", events, { failStart: true }),
    ], logger);
    await assert.rejects(agent.start(), {
      code: "start_failed",
      message: "Cannot start c: port in use",
    });
    assert.deepEqual(events, ["start a", "start b", "stop b", "stop a"]);
  });

  it("stop() gives up at the deadline", async () => {
    const events: string[] = [];
    const agent = new Agent([component("slow", events, { stopMs: 2000 })], logger);
    await agent.start();
    assert.equal(await agent.stop(50), false);
  });

  it("health() reports components that are not started as unhealthy", () => {
    const agent = new Agent([component("a", [])], logger);
    assert.deepEqual(agent.health(), { Healthy: [], Unhealthy: ["a"] });
  });

  it("health() asks each started component's healthcheck", async () => {
    let ok = true;
    const agent = new Agent(
      [component("a", []), component("b", [], { healthy: () => ok })],
      logger,
    );
    await agent.start();
    assert.deepEqual(agent.health(), { Healthy: ["a", "b"], Unhealthy: [] });
    ok = false;
    assert.deepEqual(agent.health(), { Healthy: ["a"], Unhealthy: ["b"] });
    await agent.stop();
  });

  it("requestStop() resolves stopRequested", async () => {
    const agent = new Agent([], logger);
    agent.requestStop();
    await agent.stopRequested;
  });
});
