/**
 * The extension's state file, so that an extension restarted inside the same sandbox (after a
 * crash, or a runtime reset) knows the invocation it was in and that its cold start is past.
 * The keys and file name are the Datadog serverless agent's; the file lives in `run_path`
 * (/tmp/outpost in Lambda) rather than straight in /tmp, so each test or bench run keeps its own.
 */
import { readFileSync } from "node:fs";
import type { Log } from "../log/mod.ts";
import { writeFileAtomic } from "../fs/mod.ts";
import type { ExtensionEvent } from "./_extensions_api.ts";

/** The state file's name in `run_path`. */
export const STATE_FILE_NAME = "dd-lambda-extension-cache.json";

/**
 * Init longer ago than this when the first INVOKE arrives: the sandbox was started ahead of
 * demand (proactive initialization), not by this invocation (Lambda's init lasts 10 s at most).
 */
const PROACTIVE_INIT_MS = 10_000;

/** What is persisted, under the Go agent's key names. */
export interface LambdaState {
  ARN: string;
  LastRequestID: string;
  /** The first invocation of this sandbox; "" until there was one. */
  ColdstartRequestID: string;
  WasColdStart: boolean;
  WasProactiveInit: boolean;
  /** When the extension's init started, ISO 8601. */
  InitTime: string;
}

/** The state of one sandbox: restored at start, written at each invocation. */
export class StateFile {
  readonly path: string;
  readonly #log: Log;
  #state: LambdaState;
  /** True when a previous run's state was read at start. */
  readonly restored: boolean;

  constructor(log: Log, path: string, now = Date.now()) {
    this.path = path;
    this.#log = log;
    const previous = readState(path, log);
    this.restored = previous !== null;
    this.#state = previous ?? {
      ARN: "",
      LastRequestID: "",
      ColdstartRequestID: "",
      WasColdStart: false,
      WasProactiveInit: false,
      InitTime: new Date(now).toISOString(),
    };
    if (previous) {
      log.info(
        `Restored the state of a previous run: last request ${previous.LastRequestID || "none"}`,
      );
    }
  }

  get state(): Readonly<LambdaState> {
    return this.#state;
  }

  /** Whether `requestId` is this sandbox's cold start (false for every later one). */
  isColdStart(requestId: string): boolean {
    return requestId === this.#state.ColdstartRequestID && this.#state.WasColdStart;
  }

  /** Records an INVOKE and writes the file; a write that fails is logged, never thrown. */
  record(event: ExtensionEvent, now = Date.now()): void {
    if (event.eventType !== "INVOKE") return;
    const s = this.#state;
    s.ARN = event.invokedFunctionArn.toLowerCase();
    s.LastRequestID = event.requestId;
    if (s.ColdstartRequestID === "") {
      s.ColdstartRequestID = event.requestId;
      s.WasProactiveInit = now - Date.parse(s.InitTime) > PROACTIVE_INIT_MS;
      s.WasColdStart = !s.WasProactiveInit;
    }
    try {
      writeFileAtomic(this.path, JSON.stringify(s) + "\n");
    } catch (e) {
      this.#log.warn(`Cannot write the state file ${this.path}: ${(e as Error).message}`);
    }
  }
}

/** The state in `path`, or null when there is none or it cannot be used (logged). */
function readState(path: string, log: Log): LambdaState | null {
  let text;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") {
      log.warn(`Cannot read the state file ${path}: ${(e as Error).message}`);
    }
    return null;
  }
  try {
    const raw = JSON.parse(text);
    const str = (k: string) => (typeof raw?.[k] === "string" ? raw[k] as string : "");
    // The older format had only these two keys.
    const arn = str("ARN") || str("CurrentARN");
    const last = str("LastRequestID") || str("CurrentReqID");
    if (!arn && !last) throw new Error("no ARN or request id");
    const init = str("InitTime");
    return {
      ARN: arn,
      LastRequestID: last,
      // A state file means this sandbox ran an invocation already: its cold start is past.
      ColdstartRequestID: str("ColdstartRequestID") || last,
      WasColdStart: raw.WasColdStart === true,
      WasProactiveInit: raw.WasProactiveInit === true,
      InitTime: Number.isNaN(Date.parse(init)) ? new Date(0).toISOString() : init,
    };
  } catch (e) {
    log.warn(`Ignoring the state file ${path}, not a state: ${(e as Error).message}`);
    return null;
  }
}
