/** The flush of a Lambda invocation: metrics, traces and logs of the agent, in parallel. */
import type { Agent } from "../agent.ts";
import type { AggregatorComponent } from "../aggregator/mod.ts";
import type { Component } from "../component.ts";
import type { Flush } from "./_loop.ts";

/**
 * A flush of everything `agent` buffered: the aggregator's buckets (open ones too: the
 * sandbox may be frozen before they close) until the forwarder has delivered or stored them,
 * and the trace and log components' own `flush()`.
 */
export function agentFlush(agent: Agent): Flush {
  const aggregator = agent.component<AggregatorComponent>("aggregator");
  const forwarder = agent.component<Component & { idle(): Promise<void> }>("forwarder");
  const others = ["trace", "logs"]
    .map((name) => agent.component<Component>(name))
    .filter((c): c is Component & { flush: () => Promise<void> } => !!c?.flush);
  const metrics = async () => {
    if (aggregator) {
      await aggregator.aggregator.flush({ all: true });
      await aggregator.aggregator.drain();
    }
    await forwarder?.idle();
  };
  return async () => {
    await Promise.all([metrics(), ...others.map((c) => c.flush())]);
  };
}
