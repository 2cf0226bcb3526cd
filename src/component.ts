/**
 * The contract every long-running part of the agent follows, so the composition root can build
 * them all the same way, start them in order and stop them in reverse:
 *
 * 1. `<name>Settings(config) → <Name>Settings` is the only place the component's keys are
 *    read; it resolves defaults (each written once, in the config schema) into a typed value
 *    and throws a config error that names the key when one is unusable.
 * 2. `build<Name>(settings, deps) → { component, healthcheck }` wires the component from its
 *    settings and the parts it needs (runtime, registry, logger, the next stage), and starts
 *    nothing.
 *
 * @example A component that counts its ticks
 * ```ts
 * import type { Built, Component } from "./component.ts";
 *
 * interface TickerSettings { intervalMs: number }
 * function tickerSettings(config: { ticker_interval: number }): TickerSettings {
 *   return { intervalMs: config.ticker_interval * 1000 };
 * }
 * function buildTicker(settings: TickerSettings): Built {
 *   let timer: ReturnType<typeof setInterval> | undefined;
 *   const component: Component = {
 *     name: "ticker",
 *     start: async () => void (timer = setInterval(() => {}, settings.intervalMs)),
 *     stop: async () => clearInterval(timer),
 *   };
 *   return { component, healthcheck: () => timer !== undefined };
 * }
 * const { component, healthcheck } = buildTicker(tickerSettings({ ticker_interval: 10 }));
 * await component.start();
 * console.assert(healthcheck());
 * await component.stop();
 * ```
 *
 * @module
 */

/** A part of the agent with a lifecycle. */
export interface Component {
  /** Stable name, shown in health and logs. */
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Hands on what is buffered now (the aggregator's buckets, the forwarder's queue). */
  flush?(): Promise<void>;
}

/** False when the component cannot do its job; only asked once the component has started. */
export type Healthcheck = () => boolean;

/** What every `build<Name>` returns. */
export interface Built<C extends Component = Component> {
  component: C;
  healthcheck: Healthcheck;
}

/** The healthcheck of a component that is healthy whenever it runs. */
export const alwaysHealthy: Healthcheck = () => true;
