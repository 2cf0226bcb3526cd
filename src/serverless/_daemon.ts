/**
 * The daemon the Datadog Lambda libraries call on port 8124: `/lambda/hello` (the library
 * announces itself) and `/lambda/flush` (legacy: a flush only in local-test mode, where no
 * Telemetry API tells the end of an invocation).
 */
import type { HttpServer, Runtime } from "../runtime/types.ts";
import type { Log } from "../log/mod.ts";
import type { Flush } from "./_loop.ts";

/** Options of {@linkcode startDaemon}. */
export interface DaemonOptions {
  runtime: Runtime;
  port: number;
  /** `DD_LOCAL_TEST`: `/lambda/flush` flushes and answers once the flush is done. */
  localTest: boolean;
  flush: Flush;
  log: Log;
}

/** The running daemon. */
export interface Daemon {
  readonly port: number;
  /** True once a library called `/lambda/hello`. */
  readonly libraryDetected: boolean;
  close(): Promise<void>;
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });

/** Starts the daemon on 127.0.0.1:`port` (0 picks a free port). */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { runtime, localTest, flush, log } = options;
  let libraryDetected = false;
  const server: HttpServer = await runtime.serve(
    { hostname: "127.0.0.1", port: options.port },
    async (req) => {
      const { pathname } = new URL(req.url);
      await req.body?.cancel();
      if (pathname === "/lambda/hello") {
        if (!libraryDetected) log.debug("A Datadog Lambda library announced itself");
        libraryDetected = true;
        return json(200, {});
      }
      if (pathname === "/lambda/flush") {
        if (req.method !== "POST") return json(405, { error: "use POST" });
        if (localTest) {
          try {
            await flush();
          } catch (e) {
            return json(500, { error: `flush failed: ${(e as Error).message}` });
          }
        }
        return json(200, {});
      }
      return json(404, { error: `no route ${pathname}` });
    },
  );
  return {
    port: server.port,
    get libraryDetected() {
      return libraryDetected;
    },
    close: () => server.close(),
  };
}
