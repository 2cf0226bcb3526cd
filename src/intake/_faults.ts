/**
 * Faults the intake injects on purpose, so tests can drive a client through failures: a
 * status code, a delay, a dropped connection, a redirect or a canned body, each for the next
 * N matching requests. Faults wait in a queue; the first one that matches a request is used.
 *
 * @module
 */
import * as v from "valibot";

const INT = "expected an integer";

/** The body of `POST /outpost/intake/faults`. */
export const faultSchema = v.pipe(
  v.strictObject({
    status: v.optional(
      v.pipe(
        v.number(INT),
        v.integer(INT),
        v.minValue(200, "expected a status of at least 200"),
        v.maxValue(599, "expected a status of at most 599"),
      ),
    ),
    delay_ms: v.optional(
      v.pipe(v.number(INT), v.integer(INT), v.minValue(0), v.maxValue(600_000)),
    ),
    drop_connection: v.optional(v.boolean("expected a boolean (true or false)")),
    redirect: v.optional(v.pipe(v.string("expected a URL or a path"), v.minLength(1))),
    body: v.optional(v.string("expected a string")),
    content_type: v.optional(v.string("expected a string")),
    /** Requests this fault applies to. @default 1 */
    count: v.optional(
      v.pipe(v.number(INT), v.integer(INT), v.minValue(1, "expected a count of at least 1")),
      1,
    ),
    /** Only requests whose path starts with this. @default every agent route */
    route: v.optional(v.string("expected a path prefix")),
    /** Only requests with this method (GET, HEAD, POST). @default any */
    method: v.optional(v.pipe(v.string("expected an HTTP method"), v.toUpperCase())),
  }),
  v.check(
    (f) =>
      f.status !== undefined || f.delay_ms !== undefined || f.drop_connection === true ||
      f.redirect !== undefined || f.body !== undefined,
    "expected at least one of status, delay_ms, drop_connection, redirect, body",
  ),
);

/** A fault as queued. */
export type Fault = v.InferOutput<typeof faultSchema>;

/** The queue of pending faults. */
export class FaultQueue {
  readonly #pending: Array<Fault & { remaining: number }> = [];

  /** Queues a fault. */
  add(fault: Fault): void {
    this.#pending.push({ ...fault, remaining: fault.count });
  }

  /** Removes every pending fault; returns how many there were. */
  clear(): number {
    return this.#pending.splice(0).length;
  }

  /** Pending faults with what is left of their counts. */
  list(): Array<Fault & { remaining: number }> {
    return this.#pending.map((f) => ({ ...f }));
  }

  /** Takes one use of the first fault matching `method path`, or returns undefined. */
  take(method: string, path: string): Fault | undefined {
    const i = this.#pending.findIndex((f) =>
      (f.route === undefined || path.startsWith(f.route)) &&
      (f.method === undefined || f.method === method)
    );
    if (i < 0) return undefined;
    const f = this.#pending[i];
    if (--f.remaining === 0) this.#pending.splice(i, 1);
    return f;
  }
}
