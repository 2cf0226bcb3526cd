/** Fakes for the collector tests: timers and a ticker driven by hand, checks, loaders. */
import type {
  Check,
  CheckConfig,
  CheckHost,
  InstanceConfig,
  Loader,
  RunResult,
  Sender,
} from "../../../../src/checks/_types.ts";
import { createLogger } from "../../../../src/log/mod.ts";
import { Aggregator, memorySink } from "../../../../src/aggregator/mod.ts";
import { Registry } from "../../../../src/telemetry/mod.ts";
import { configDefaults } from "../../../../src/config/mod.ts";
import { createHttpClient, httpSettings } from "../../../../src/http/mod.ts";
import { runtime } from "../../../../src/runtime/mod.ts";
import { checksSettings, Collector } from "../../../../src/checks/mod.ts";
import type { ChecksSettings } from "../../../../src/checks/mod.ts";

/** Time that moves only when told: timers, ticks and both clocks. */
export class FakeTime {
  now = 1_700_000_000_000;
  #timers: Array<{ at: number; fn: () => void; id: number }> = [];
  #tickers: Array<{ every: number; next: number; fn: () => void; id: number }> = [];
  #id = 0;

  setTimer = (fn: () => void, ms: number): () => void => {
    const id = ++this.#id;
    this.#timers.push({ at: this.now + ms, fn, id });
    return () => (this.#timers = this.#timers.filter((t) => t.id !== id));
  };

  ticker = (ms: number, fn: () => void): () => void => {
    const id = ++this.#id;
    this.#tickers.push({ every: ms, next: this.now + ms, fn, id });
    return () => (this.#tickers = this.#tickers.filter((t) => t.id !== id));
  };

  monotonic = (): number => this.now;
  clock = (): number => this.now;

  /** Moves time by `ms`, firing due timers and ticks in order, letting promises settle. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      await settle();
      const nextTimer = Math.min(...this.#timers.map((t) => t.at), Infinity);
      const nextTick = Math.min(...this.#tickers.map((t) => t.next), Infinity);
      const next = Math.min(nextTimer, nextTick);
      if (next > end) break;
      this.now = Math.max(this.now, next);
      for (const t of this.#timers.filter((t) => t.at <= this.now)) {
        this.#timers = this.#timers.filter((x) => x.id !== t.id);
        t.fn();
      }
      for (const t of this.#tickers.filter((t) => t.next <= this.now)) {
        t.next += t.every;
        t.fn();
      }
    }
    this.now = end;
    await settle();
  }
}

/** Lets pending promise callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/** A logger whose lines are kept. */
export function captureLogger() {
  const lines: string[] = [];
  const logger = createLogger({ level: "debug", write: (l) => void lines.push(l) });
  return { logger, lines, log: logger.for("collector") };
}

/** A check whose runs are given by `run` (default: returns at once, no warnings). */
export function fakeCheck(
  id: string,
  opts: { intervalS?: number; run?: (signal: AbortSignal) => Promise<RunResult>; name?: string } =
    {},
): Check & { runs: number; cancelled: number } {
  const c = {
    name: opts.name ?? id.split(":")[0],
    id,
    version: "",
    source: `file:/conf.d/${id}.yaml`,
    intervalS: opts.intervalS ?? 15,
    loader: "Test Loader",
    runs: 0,
    cancelled: 0,
    run(signal: AbortSignal) {
      c.runs++;
      return opts.run ? opts.run(signal) : Promise.resolve({ warnings: [] });
    },
    cancel() {
      c.cancelled++;
      return Promise.resolve();
    },
  };
  return c;
}

/** A promise that never settles (a hung check). */
export const never = () => new Promise<RunResult>(() => {});

/** An instance config with the shared keys filled. */
export function instance(
  name: string,
  index: number,
  extra: Partial<InstanceConfig> = {},
): InstanceConfig {
  return {
    index,
    id: `${name}:${index.toString(16).padStart(16, "0")}`,
    raw: {},
    bytes: "{}\n",
    tags: [],
    emptyDefaultHostname: false,
    ...extra,
  };
}

/** A config of `name` with `n` instances. */
export function config(
  name: string,
  instances: InstanceConfig[] = [instance(name, 0)],
  extra: Partial<CheckConfig> = {},
): CheckConfig {
  return {
    name,
    source: `file:/etc/outpost/conf.d/${name}.d/conf.yaml`,
    provider: "file",
    initConfig: {},
    initConfigBytes: "",
    instances,
    logs: null,
    isDefault: false,
    digest: "0123456789abcdef",
    ...extra,
  };
}

/**
 * A loader that takes the check names in `takes`, throws `fails[name]`, returns null for the
 * rest; each check it loads gauges `<name>.up` 1 per run through its sender.
 */
export function testLoader(
  o: {
    name?: string;
    key?: string;
    priority?: number;
    takes?: string[];
    fails?: Record<string, string>;
    run?: (sender: Sender) => Promise<RunResult> | RunResult;
    intervalS?: number;
  } = {},
): Loader & { loads: string[]; stopped: number } {
  const loader = {
    name: o.name ?? "Test Loader",
    key: o.key ?? "test",
    priority: o.priority ?? 50,
    loads: [] as string[],
    stopped: 0,
    load(c: CheckConfig, i: InstanceConfig, host: CheckHost): Promise<Check | null> {
      if (o.fails?.[c.name]) return Promise.reject(new Error(o.fails[c.name]));
      if (!(o.takes ?? []).includes(c.name)) return Promise.resolve(null);
      loader.loads.push(i.id);
      const sender = host.senderFor(i.id);
      return Promise.resolve({
        name: c.name,
        id: i.id,
        version: "1.0.0",
        source: c.source,
        intervalS: i.minCollectionInterval ?? o.intervalS ?? 15,
        loader: loader.name,
        async run() {
          if (o.run) return await o.run(sender);
          sender.metric("gauge", `${c.name}.up`, 1, ["t:1"]);
          return { warnings: [] };
        },
        cancel: () => Promise.resolve(),
      });
    },
    stop() {
      loader.stopped++;
      return Promise.resolve();
    },
  };
  return loader;
}

/** A collector on a memory sink, with fake time. */
export function setupCollector(
  o: {
    loaders?: Loader[];
    configs?: CheckConfig[];
    errors?: Record<string, string>;
    settings?: Partial<ChecksSettings>;
  } = {},
) {
  const time = new FakeTime();
  const { logger, lines } = captureLogger();
  const sink = memorySink();
  const registry = new Registry();
  const aggregator = new Aggregator({
    sink,
    hostname: "agent-host",
    registry,
    log: logger.for("aggregator"),
    now: () => time.now / 1000,
  });
  const cfg = configDefaults();
  const state = { configs: o.configs ?? [], errors: o.errors ?? {} };
  const settings = { ...checksSettings(cfg, null), ...o.settings };
  const collector = new Collector(settings, {
    runtime,
    config: cfg,
    registry,
    logger,
    aggregator,
    http: createHttpClient(runtime, httpSettings(cfg, {})),
    hostname: "agent-host",
    loaders: o.loaders ?? [],
    loadConfigs: () => ({ configs: state.configs, errors: state.errors }),
    ticker: time.ticker,
    now: time.clock,
    setTimer: time.setTimer,
  });
  return { collector, time, lines, sink, aggregator, registry, state, logger };
}
