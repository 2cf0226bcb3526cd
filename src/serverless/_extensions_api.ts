/**
 * A client of the Lambda Extensions API (`/2020-01-01/extension/...` on the Runtime API):
 * register, wait for the next event, and report an init or exit error.
 */
import type { Runtime } from "../runtime/types.ts";
import { OutpostError } from "../errors.ts";

/** An INVOKE event: one invocation of the function. */
export interface InvokeEvent {
  eventType: "INVOKE";
  /** When the invocation times out, epoch ms. */
  deadlineMs: number;
  requestId: string;
  invokedFunctionArn: string;
}

/** A SHUTDOWN event: the sandbox stops once every extension is done or the 2 s are up. */
export interface ShutdownEvent {
  eventType: "SHUTDOWN";
  shutdownReason: "spindown" | "timeout" | "failure" | string;
  deadlineMs: number;
}

/** What `next` hands out. */
export type ExtensionEvent = InvokeEvent | ShutdownEvent;

/** What the register answer tells about the function. */
export interface Registration {
  /** `Lambda-Extension-Identifier`, sent on every later call. */
  id: string;
  functionName: string;
  functionVersion: string;
  handler: string;
  accountId?: string;
}

/** The event types this extension asks for. */
export const EVENTS = ["INVOKE", "SHUTDOWN"] as const;
/** Lambda Managed Instances accept SHUTDOWN only: invocations are known from telemetry. */
export const MANAGED_INSTANCE_EVENTS = ["SHUTDOWN"] as const;

/** The register call gives up after this long: a hung Runtime API must not hang the init. */
const REGISTER_TIMEOUT_MS = 5_000;

/** A client bound to one Runtime API address. */
export class ExtensionsClient {
  readonly #base: string;
  readonly #runtime: Runtime;
  #id = "";

  constructor(runtime: Runtime, runtimeApi: string) {
    this.#runtime = runtime;
    this.#base = `http://${runtimeApi}/2020-01-01/extension`;
  }

  /** `Lambda-Extension-Identifier` once registered ("" before). */
  get id(): string {
    return this.#id;
  }

  /** Registers as `name` for `events`; throws when the Runtime API refuses. */
  async register(
    name: string,
    events: readonly string[] = EVENTS,
  ): Promise<Registration> {
    const res = await this.#runtime.fetch(`${this.#base}/register`, {
      method: "POST",
      headers: {
        "Lambda-Extension-Name": name,
        "Lambda-Extension-Accept-Feature": "accountId",
        "Content-Type": "application/json",
      },
      body: JSON.stringify({ events }),
      signal: AbortSignal.timeout(REGISTER_TIMEOUT_MS),
    });
    const text = await res.text();
    if (res.status !== 200) {
      throw new OutpostError("lambda_register", `Register refused: ${res.status} ${text}`);
    }
    const id = res.headers.get("Lambda-Extension-Identifier") ?? "";
    if (!id) {
      throw new OutpostError(
        "lambda_register",
        "Register answer has no Lambda-Extension-Identifier",
      );
    }
    this.#id = id;
    const body = parseObject(text);
    return {
      id,
      functionName: String(body.functionName ?? ""),
      functionVersion: String(body.functionVersion ?? ""),
      handler: String(body.handler ?? ""),
      ...(typeof body.accountId === "string" ? { accountId: body.accountId } : {}),
    };
  }

  /** Blocks until the next event; no timeout, as the sandbox may be frozen meanwhile. */
  async next(): Promise<ExtensionEvent> {
    const res = await this.#runtime.fetch(`${this.#base}/event/next`, {
      method: "GET",
      headers: { "Lambda-Extension-Identifier": this.#id },
    });
    const text = await res.text();
    if (res.status !== 200) {
      throw new OutpostError("lambda_next", `Next event refused: ${res.status} ${text}`);
    }
    const event = parseObject(text);
    if (event.eventType !== "INVOKE" && event.eventType !== "SHUTDOWN") {
      throw new OutpostError(
        "lambda_next",
        `Unknown event type ${JSON.stringify(event.eventType)}`,
      );
    }
    return event as unknown as ExtensionEvent;
  }

  /** Reports that init failed (`Extension.<reason>`); the Runtime API accepts nothing after. */
  initError(reason: string, message: string): Promise<void> {
    return this.#report("init/error", reason, message);
  }

  /** Reports an unexpected failure just before exiting. */
  exitError(reason: string, message: string): Promise<void> {
    return this.#report("exit/error", reason, message);
  }

  async #report(path: string, reason: string, message: string): Promise<void> {
    const errorType = `Extension.${reason}`;
    const res = await this.#runtime.fetch(`${this.#base}/${path}`, {
      method: "POST",
      headers: {
        "Lambda-Extension-Identifier": this.#id,
        "Lambda-Extension-Function-Error-Type": errorType,
        "Content-Type": "application/json",
      },
      body: JSON.stringify({ errorMessage: message, errorType, stackTrace: [] }),
      signal: AbortSignal.timeout(REGISTER_TIMEOUT_MS),
    });
    await res.body?.cancel();
    if (res.status >= 300) {
      throw new OutpostError("lambda_report", `${path} refused: ${res.status}`);
    }
  }
}

function parseObject(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text);
    if (v && typeof v === "object" && !Array.isArray(v)) return v;
  } catch {
    // Reported below with the text.
  }
  throw new OutpostError("lambda_bad_answer", `Expected a JSON object, got ${text.slice(0, 200)}`);
}
