/** The flush of a Lambda invocation: metrics, traces and logs of the agent, in parallel. */
import type { Agent } from "../agent.ts";
import type { AggregatorComponent } from "../aggregator/mod.ts";
import type { Component } from "../component.ts";
import type { Flush } from "./_loop.ts";

/** What a flush needs of the forwarder component. */
interface Forwarding extends Component {
  idle(): Promise<void>;
  snapshot(): Record<string, { retryQueueTransactions: number; diskTransactionsWaiting: number }>;
}

/**
 * A flush of everything `agent` buffered: the aggregator's buckets (open ones too: the
 * sandbox may be frozen before they close) until the forwarder has delivered or stored them,
 * and the trace and log components' own `flush()`. It fails when the forwarder still keeps
 * payloads for a retry (the intake refused them).
 */
export function agentFlush(agent: Agent): Flush {
  const aggregator = agent.component<AggregatorComponent>("aggregator");
  const forwarder = agent.component<Forwarding>("forwarder");
  const others = ["trace", "logs"]
    .map((name) => agent.component<Component>(name))
    .filter((c): c is Component & { flush: () => Promise<void> } => !!c?.flush);
  const metrics = async () => {
    if (aggregator) {
      await aggregator.aggregator.flush({ all: true });
      await aggregator.aggregator.drain();
    }
    await forwarder?.idle();
    // Kept for a retry means the intake did not take it: a failed flush, for the backoff.
    const kept = Object.values(forwarder?.snapshot() ?? {})
      .reduce((n, d) => n + d.retryQueueTransactions + d.diskTransactionsWaiting, 0);
    if (kept > 0) throw new Error(`${kept} payloads kept for a retry: the intake refused them`);
  };
  return async () => {
    await Promise.all([metrics(), ...others.map((c) => c.flush())]);
  };
}
