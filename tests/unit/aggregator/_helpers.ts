import { aggregatorSettings, buildAggregator, memorySink } from "../../../src/aggregator/mod.ts";
import { type AggregatorOptions } from "../../../src/aggregator/aggregator.ts";
import { configDefaults } from "../../../src/config/mod.ts";
import { createLogger } from "../../../src/log/mod.ts";
import { Registry } from "../../../src/telemetry/mod.ts";
import type { MetricSample, SampleType, Serie } from "../../../src/metrics/model.ts";

/** An aggregator (and its component) on a memory sink with a settable clock and captured log lines. */
export function setup(options: Partial<AggregatorOptions> = {}) {
  const sink = memorySink();
  const registry = new Registry();
  const lines: string[] = [];
  const logger = createLogger({ level: "debug", write: (l) => void lines.push(l) });
  const clock = { t: 1000 };
  const { component, healthcheck } = buildAggregator(
    { ...aggregatorSettings(configDefaults()), ...options },
    {
      sink,
      hostname: "agent-host",
      registry,
      log: logger.for("aggregator"),
      now: () => clock.t,
      ...options,
    },
  );
  return { agg: component.aggregator, component, healthcheck, sink, registry, lines, clock };
}

/** A DogStatsD-style sample. */
export function sample(
  name: string,
  type: SampleType,
  value: number,
  extra: Partial<MetricSample> = {},
): MetricSample {
  return { name, value, type, tags: [], host: "", sampleRate: 1, timestamp: 0, ...extra };
}

/** Series of the sink by name, excluding the agent's own. */
export function byName(series: Serie[], name: string): Serie[] {
  return series.filter((s) => s.name === name);
}

/** The only series named `name`; fails when there is not exactly one. */
export function one(series: Serie[], name: string): Serie {
  const found = byName(series, name);
  if (found.length !== 1) throw new Error(`expected one series "${name}", got ${found.length}`);
  return found[0];
}
