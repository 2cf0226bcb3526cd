import { Hono } from "hono";
import type { Built, Component } from "../component.ts";
import type { Config } from "../config/mod.ts";
import type { Runtime } from "../runtime/types.ts";
import { expvarEvents, type Registry } from "../telemetry/mod.ts";
import { isLoopbackHostHeader } from "../api/mod.ts";

/** What the expvar server needs besides its settings. */
export interface ExpvarDeps {
  runtime: Runtime;
  registry: Registry;
  /** The process's argv, published as `cmdline`. */
  cmdline: string[];
}

/**
 * The expvar JSON: every registry variable, `cmdline`, and `memstats` named as Go's runtime
 * names them (`Alloc`, `HeapAlloc`, `HeapSys`, `Sys`) so expvar readers work unchanged.
 * Keys are sorted, as Go's expvar sorts them.
 */
export function expvarSnapshot(
  runtime: Runtime,
  registry: Registry,
  cmdline: string[],
): Record<string, unknown> {
  const m = runtime.memory();
  const all: Record<string, unknown> = {
    ...registry.snapshot(),
    cmdline,
    memstats: {
      Alloc: m.heapUsed,
      HeapAlloc: m.heapUsed,
      HeapSys: m.heapTotal,
      Sys: m.rss,
      External: m.external,
    },
  };
  return Object.fromEntries(Object.keys(all).sort().map((k) => [k, all[k]]));
}

/**
 * The `/debug/vars` app. A request whose `Host` is not a loopback name or address is refused
 * with 403 and counted in `expvar.RefusedHost`: without a token, binding to 127.0.0.1 is not
 * enough, since a web page can rebind its own name to 127.0.0.1 and read the answer.
 */
export function expvarApp(
  runtime: Runtime,
  { registry, cmdline }: Omit<ExpvarDeps, "runtime">,
): Hono {
  const app = new Hono();
  const refused = expvarEvents(registry).refusedHost;
  app.use("*", async (c, next) => {
    const host = c.req.header("host") ?? new URL(c.req.url).host;
    if (!isLoopbackHostHeader(host)) {
      refused.inc();
      return c.json({
        error: `Host "${host.slice(0, 255)}" is not a loopback name or address: ` +
          "/debug/vars answers only requests to localhost, 127.0.0.1 or [::1]",
      }, 403);
    }
    await next();
  });
  app.get("/debug/vars", (c) => c.json(expvarSnapshot(runtime, registry, cmdline)));
  return app;
}

/** Settings of the expvar server (see {@linkcode expvarSettings}). */
export interface ExpvarSettings {
  /** `expvar_port`; 0 picks a free port. */
  port: number;
}

/** Reads `expvar_port`. */
export function expvarSettings(config: Pick<Config, "expvar_port">): ExpvarSettings {
  return { port: config.expvar_port };
}

/** The expvar server as a component; `port` is the bound port once started. */
export interface ExpvarComponent extends Component {
  readonly port: number;
}

/**
 * Builds `GET /debug/vars` on 127.0.0.1; no token, as in the Datadog Agent.
 *
 * @example
 * ```ts
 * import { buildExpvar } from "./mod.ts";
 * import { DOGSTATSD, Registry } from "../telemetry/mod.ts";
 * import { runtime } from "../runtime/mod.ts";
 * const registry = new Registry();
 * registry.counter(DOGSTATSD.metricPackets).inc();
 * const { component } = buildExpvar({ port: 0 }, { runtime, registry, cmdline: ["outpost", "run"] });
 * await component.start();
 * const vars = await (await fetch(`http://127.0.0.1:${component.port}/debug/vars`)).json();
 * console.log(vars.dogstatsd.MetricPackets); // 1
 * await component.stop();
 * ```
 */
export function buildExpvar(settings: ExpvarSettings, deps: ExpvarDeps): Built<ExpvarComponent> {
  const { runtime, registry, cmdline } = deps;
  const app = expvarApp(runtime, { registry, cmdline });
  let server: Awaited<ReturnType<Runtime["serve"]>> | undefined;
  const component: ExpvarComponent = {
    name: "expvar",
    async start() {
      // Loopback only: expvar has no auth and tells a lot about the process.
      server = await runtime.serve({ hostname: "127.0.0.1", port: settings.port }, app.fetch);
    },
    async stop() {
      await server?.close();
    },
    get port() {
      return server?.port ?? 0;
    },
  };
  return { component, healthcheck: () => server !== undefined };
}
