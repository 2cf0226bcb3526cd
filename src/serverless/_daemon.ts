/**
 * The daemon the Datadog Lambda libraries and tracers call on port 8124: `/lambda/hello` (a
 * library announces itself), `/lambda/flush` (legacy: a flush only in local-test mode, where
 * no Telemetry API tells the end of an invocation; it also tells that end), `/lambda/start-invocation` and
 * `/lambda/end-invocation` (the invocation lifecycle, `_lifecycle.ts`) and `/trace-context`.
 */
import type { HttpServer, Runtime } from "../runtime/types.ts";
import type { Log } from "../log/mod.ts";
import { readBody } from "../trace/mod.ts";
import type { Flush } from "./_loop.ts";
import type { Lifecycle } from "./_lifecycle.ts";

/** Lambda's largest synchronous invocation payload: no event or response is larger. */
export const MAX_LIFECYCLE_BODY = 6 * 1024 * 1024;

/** A body must arrive within this long; the tracers give up after 3 s themselves. */
const BODY_TIMEOUT_MS = 3_000;

/** Options of {@linkcode startDaemon}. */
export interface DaemonOptions {
  runtime: Runtime;
  port: number;
  /** `DD_LOCAL_TEST`: `/lambda/flush` flushes and answers once the flush is done. */
  localTest: boolean;
  flush: Flush;
  log: Log;
  /** The invocation lifecycle; without it the lifecycle routes answer 404. */
  lifecycle?: Lifecycle;
  /**
   * Told at each end-invocation (and local-test flush), with the request id the tracer named
   * (null: the current invocation): the runtime is done, an `end` flush may run.
   */
  onInvocationDone?: (requestId: string | null) => void;
}

/** The running daemon. */
export interface Daemon {
  readonly port: number;
  /** True once a library called `/lambda/hello`. */
  readonly libraryDetected: boolean;
  close(): Promise<void>;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });

/** Starts the daemon on 127.0.0.1:`port` (0 picks a free port). */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { runtime, localTest, flush, log, lifecycle } = options;
  let libraryDetected = false;

  /**
   * The body of a lifecycle call, or null with the reason when it cannot be read whole: the
   * call still counts (without its body), so the invocation's span is not lost.
   */
  async function lifecycleBody(req: Request) {
    const read = await readBody(req, { maxBytes: MAX_LIFECYCLE_BODY, timeoutMs: BODY_TIMEOUT_MS });
    if (read.ok) return { bytes: read.bytes, refusal: null };
    const path = new URL(req.url).pathname;
    log.warn(`${path}: ${read.message}; the invocation is traced without it`);
    const status = read.reason === "payload-too-large" ? 413 : 400;
    return { bytes: null, refusal: { status, error: `${path}: ${read.message}` } };
  }

  const server: HttpServer = await runtime.serve(
    { hostname: "127.0.0.1", port: options.port },
    async (req) => {
      const { pathname } = new URL(req.url);
      const requestId = req.headers.get("lambda-runtime-aws-request-id");
      if (lifecycle && pathname === "/lambda/start-invocation" && req.method === "POST") {
        const { bytes, refusal } = await lifecycleBody(req);
        const headers = lifecycle.start(bytes, requestId);
        return refusal
          ? json(refusal.status, { error: refusal.error }, headers)
          : json(200, {}, headers);
      }
      if (lifecycle && pathname === "/lambda/end-invocation" && req.method === "POST") {
        const { bytes, refusal } = await lifecycleBody(req);
        lifecycle.end(bytes, req.headers, requestId);
        options.onInvocationDone?.(requestId);
        return refusal ? json(refusal.status, { error: refusal.error }) : json(200, {});
      }
      await req.body?.cancel();
      if (lifecycle && pathname === "/trace-context") {
        if (req.method !== "GET" && req.method !== "POST") return json(405, { error: "use GET" });
        return json(200, {}, lifecycle.traceContext());
      }
      if (pathname === "/lambda/hello") {
        if (!libraryDetected) log.debug("A Datadog Lambda library announced itself");
        libraryDetected = true;
        lifecycle?.libraryDetected();
        return json(200, {});
      }
      if (pathname === "/lambda/flush") {
        if (req.method !== "POST") return json(405, { error: "use POST" });
        if (localTest) {
          try {
            await flush();
          } catch (e) {
            return json(500, { error: `flush failed: ${(e as Error).message}` });
          } finally {
            // As in the Go agent, it also says the runtime is done (no Telemetry API locally).
            options.onInvocationDone?.(requestId);
          }
        }
        return json(200, {});
      }
      return json(404, { error: `no route ${req.method} ${pathname}` });
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
