/** What every built-in system check shares: identity, interval, and a run that collects warnings. */
import type { Check, RunResult, Sender } from "../_types.ts";
import { ProcFs } from "./_proc.ts";

/** What a system check is built from. */
export interface SystemCheckContext {
  name: string;
  id: string;
  source: string;
  intervalS: number;
  /** Gets the check's sender (called once, after the check is built). */
  sender: () => Sender;
  proc: ProcFs;
  /** Wall clock in Unix milliseconds (tests pass a fake one). */
  now: () => number;
  /** Monotonic milliseconds, for the time between two runs. */
  monotonic: () => number;
}

/** The loader's name, as status prints it. */
export const CORE_LOADER_NAME = "Core Check Loader";

/** A built-in check: subclasses implement {@linkcode SystemCheck.collect}. */
export abstract class SystemCheck implements Check {
  readonly name: string;
  readonly id: string;
  readonly version = "";
  readonly source: string;
  readonly intervalS: number;
  readonly loader = CORE_LOADER_NAME;
  protected readonly proc: ProcFs;
  protected readonly now: () => number;
  protected readonly monotonic: () => number;
  readonly #senderFor: () => Sender;
  #sender?: Sender;
  #warnings: string[] = [];

  constructor(ctx: SystemCheckContext) {
    this.name = ctx.name;
    this.id = ctx.id;
    this.source = ctx.source;
    this.intervalS = ctx.intervalS;
    this.#senderFor = ctx.sender;
    this.proc = ctx.proc;
    this.now = ctx.now;
    this.monotonic = ctx.monotonic;
  }

  /** Where this check submits. */
  get sender(): Sender {
    return this.#sender ??= this.#senderFor();
  }

  /** Reads and submits once; throwing makes the run an error. */
  protected abstract collect(signal: AbortSignal): Promise<void> | void;

  /** Adds a warning to this run's result. */
  protected warn(message: string): void {
    this.#warnings.push(message);
  }

  async run(signal: AbortSignal): Promise<RunResult> {
    this.#warnings = [];
    try {
      await this.collect(signal);
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      return {
        warnings: this.#warnings,
        error: { message: e.message, traceback: e.stack ?? e.message },
      };
    }
    return { warnings: this.#warnings };
  }

  async cancel(): Promise<void> {}
}
