/**
 * A Lambda Runtime API for tests (the Extensions API part): register, next, init/error and
 * exit/error on 127.0.0.1, with the events handed out under the test's control. Runs on the
 * project's runtime layer, so it works under Bun and Deno.
 */
import { runtime } from "../src/runtime/mod.ts";
import type { HttpServer } from "../src/runtime/types.ts";

/** One call the extension made, as received. */
export interface Call {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

/** The identifier handed out at register. */
export const EXTENSION_ID = "2b1e7f1c-0d1a-4a3e-9d51-4c1b3f0e9a77";

/**
 * The wall clock plus an offset the test moves forward: pass `now` to the extension and the
 * clock to the Runtime API, and invocations minutes apart take no time (deadlines move along).
 */
export class TestClock {
  #offset = 0;
  readonly now = (): number => Date.now() + this.#offset;

  advance(ms: number): void {
    this.#offset += ms;
  }
}

export class TestRuntimeApi {
  readonly calls: Call[] = [];
  /** Events handed out by `next` so far. */
  delivered = 0;
  readonly #clock: { now(): number };
  #server: HttpServer | undefined;
  readonly #events: unknown[] = [];
  #waiting: ((event: unknown) => void) | null = null;
  #watchers: Array<() => void> = [];
  /** The subscribed destination's port (the host, sandbox.localdomain, is this machine). */
  #telemetryPort = 0;

  /** `clock` dates the events' deadlines. @default the wall clock */
  constructor(clock: { now(): number } = { now: Date.now }) {
    this.#clock = clock;
  }

  /** `host:port`, the value of AWS_LAMBDA_RUNTIME_API. */
  get address(): string {
    return `127.0.0.1:${this.#server!.port}`;
  }

  async start(): Promise<void> {
    this.#server = await runtime.serve(
      { hostname: "127.0.0.1", port: 0 },
      (req) => this.#handle(req),
    );
  }

  async close(): Promise<void> {
    this.#waiting?.({ eventType: "SHUTDOWN", shutdownReason: "failure", deadlineMs: Date.now() });
    await this.#server?.close();
  }

  /** Calls to `path` so far. */
  callsTo(path: string): Call[] {
    return this.calls.filter((c) => c.path === path);
  }

  /** Resolves once the extension made `n` calls to `path`. */
  waitFor(path: string, n: number, timeoutMs = 10_000): Promise<void> {
    return this.#until(
      () => this.callsTo(path).length >= n,
      () => `${path} called ${this.callsTo(path).length} times, waited for ${n}`,
      timeoutMs,
    );
  }

  /** Resolves once `next` handed out `n` events. */
  waitDelivered(n: number, timeoutMs = 10_000): Promise<void> {
    return this.#until(
      () => this.delivered >= n,
      () => `${this.delivered} events handed out, waited for ${n}`,
      timeoutMs,
    );
  }

  async #until(done: () => boolean, message: () => string, timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > end) throw new Error(message());
      await new Promise<void>((resolve) => {
        this.#watchers.push(resolve);
        setTimeout(resolve, 20);
      });
    }
  }

  /** Hands out one INVOKE with a deadline `timeoutMs` from now. */
  invoke(requestId: string, timeoutMs = 3_000): void {
    this.#push({
      eventType: "INVOKE",
      deadlineMs: this.#clock.now() + timeoutMs,
      requestId,
      invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:outpost-test",
      tracing: { type: "X-Amzn-Trace-Id", value: "Root=1-5759e988-bd862e3fe1be46a994272793" },
    });
  }

  /**
   * Posts `events` to the subscribed telemetry destination, as Lambda delivers a batch; throws
   * when there is no subscription yet.
   */
  async postTelemetry(events: Array<{ type: string; record: unknown }>): Promise<number> {
    if (!this.#telemetryPort) throw new Error("no telemetry subscription");
    const time = new Date().toISOString();
    const res = await fetch(`http://127.0.0.1:${this.#telemetryPort}/`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(events.map((e) => ({ time, ...e }))),
    });
    await res.body?.cancel();
    return res.status;
  }

  /** Posts `platform.runtimeDone` for `requestId`: the runtime finished it. */
  runtimeDone(requestId: string, status = "success"): Promise<number> {
    return this.postTelemetry([{
      type: "platform.runtimeDone",
      record: { requestId, status, metrics: { durationMs: 10, producedBytes: 2 } },
    }]);
  }

  /** Hands out SHUTDOWN with the 2 s an external extension gets. */
  shutdown(reason = "spindown"): void {
    this.#push({
      eventType: "SHUTDOWN",
      shutdownReason: reason,
      deadlineMs: this.#clock.now() + 2_000,
    });
  }

  #push(event: unknown): void {
    if (this.#waiting) {
      const deliver = this.#waiting;
      this.#waiting = null;
      deliver(event);
    } else {
      this.#events.push(event);
    }
  }

  async #handle(req: Request): Promise<Response> {
    const path = new URL(req.url).pathname.replace("/2020-01-01/extension", "");
    const headers: Record<string, string> = {};
    req.headers.forEach((v, k) => (headers[k] = v));
    this.calls.push({ method: req.method, path, headers, body: await req.text(), at: Date.now() });
    for (const w of this.#watchers.splice(0)) w();
    if (path === "/register" && req.method === "POST") {
      return Response.json(
        { functionName: "outpost-test", functionVersion: "$LATEST", handler: "index.handler" },
        { headers: { "Lambda-Extension-Identifier": EXTENSION_ID } },
      );
    }
    if (headers["lambda-extension-identifier"] !== EXTENSION_ID) {
      return Response.json({ errorMessage: "unknown extension", errorType: "Extension.Unknown" }, {
        status: 403,
      });
    }
    if (path === "/event/next" && req.method === "GET") {
      const event = this.#events.shift() ??
        await new Promise((resolve) => (this.#waiting = resolve));
      this.delivered++;
      for (const w of this.#watchers.splice(0)) w();
      return Response.json(event, {
        headers: { "Lambda-Extension-Event-Identifier": crypto.randomUUID() },
      });
    }
    if (path === "/2022-07-01/telemetry" && req.method === "PUT") {
      const uri = JSON.parse(this.calls[this.calls.length - 1].body)?.destination?.URI ?? "";
      this.#telemetryPort = Number(new URL(uri).port);
      return new Response("OK", { status: 200 });
    }
    if ((path === "/init/error" || path === "/exit/error") && req.method === "POST") {
      return Response.json({ status: "OK" }, { status: 202 });
    }
    return Response.json({ errorMessage: `no route ${path}` }, { status: 404 });
  }
}
