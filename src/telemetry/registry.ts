/**
 * The one telemetry registry: every counter the agent keeps about itself lives here, so that
 * `/debug/vars`, the status page and `datadog.agent.*` metrics all read the same numbers.
 *
 * Names are dotted (`dogstatsd.MetricPackets`); the first segment groups variables in the
 * expvar snapshot, as Go's expvar maps do. Every name the agent uses is defined once in
 * `events/`, with what each component MUST emit.
 *
 * @module
 */

/** A monotonically increasing number. `inc` is a plain field update: cheap on hot paths. */
export class Counter {
  /** The current value. */
  value = 0;
  /** Adds `n` (default 1). */
  inc(n = 1): void {
    this.value += n;
  }
}

/** A number that goes up and down. */
export class Gauge {
  /** The current value. */
  value = 0;
  /** Sets the value. */
  set(v: number): void {
    this.value = v;
  }
}

/** Counters split by one label (for example parse errors by kind). */
export class CounterVec {
  readonly #children = new Map<string, Counter>();
  /** Returns the counter for `label`, creating it at 0. */
  with(label: string): Counter {
    let c = this.#children.get(label);
    if (!c) {
      c = new Counter();
      this.#children.set(label, c);
    }
    return c;
  }
  /** Label → value. */
  toJSON(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, c] of this.#children) out[k] = c.value;
    return out;
  }
  /** Sum over every label. */
  total(): number {
    let t = 0;
    for (const c of this.#children.values()) t += c.value;
    return t;
  }
}

type Variable = Counter | Gauge | CounterVec | (() => unknown);

/**
 * A registry of named variables.
 *
 * @example Count and read back
 * ```ts
 * import { Registry } from "./registry.ts";
 * import { DOGSTATSD } from "./events/mod.ts";
 * const r = new Registry();
 * r.counter(DOGSTATSD.metricPackets).inc();
 * console.log(r.snapshot()); // { dogstatsd: { MetricPackets: 1 } }
 * ```
 */
export class Registry {
  readonly #vars = new Map<string, Variable>();

  /** Returns the counter named `name`, creating it once. */
  counter(name: string): Counter {
    return this.#get(name, () => new Counter(), Counter);
  }
  /** Returns the gauge named `name`, creating it once. */
  gauge(name: string): Gauge {
    return this.#get(name, () => new Gauge(), Gauge);
  }
  /** Returns the labelled counter named `name`, creating it once. */
  counterVec(name: string): CounterVec {
    return this.#get(name, () => new CounterVec(), CounterVec);
  }
  /** Publishes a variable computed when read (expvar's `Func`). Replaces an earlier one. */
  publish(name: string, read: () => unknown): void {
    this.#vars.set(name, read);
  }

  /** The value of one variable, or undefined. */
  read(name: string): unknown {
    const v = this.#vars.get(name);
    return v === undefined ? undefined : valueOf(v);
  }

  /** Every variable as one JSON-ready object, grouped by the first name segment. */
  snapshot(): Record<string, unknown> {
    const out: Record<string, any> = {};
    for (const [name, v] of this.#vars) {
      const dot = name.indexOf(".");
      if (dot < 0) {
        out[name] = valueOf(v);
        continue;
      }
      const group = name.slice(0, dot);
      (out[group] ??= {})[name.slice(dot + 1)] = valueOf(v);
    }
    return out;
  }

  #get<T extends Variable>(name: string, make: () => T, kind: abstract new () => T): T {
    const v = this.#vars.get(name);
    if (v === undefined) {
      const made = make();
      this.#vars.set(name, made);
      return made;
    }
    if (!(v instanceof kind)) {
      throw new TypeError(`Telemetry variable "${name}" is already registered as another kind`);
    }
    return v;
  }
}

function valueOf(v: Variable): unknown {
  if (typeof v === "function") return v();
  if (v instanceof CounterVec) return v.toJSON();
  return v.value;
}
