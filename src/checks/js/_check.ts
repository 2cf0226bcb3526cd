/**
 * One loaded JS check instance as the collector sees it: runs the author's `check()`, turns a
 * throw into a run error, and routes submissions to the instance's sender.
 */
import type { Check, CheckHost, RunResult, Sender } from "../_types.ts";
import type { AgentCheck, HostBinding } from "./agent_check.ts";
import { readCache, writeCache } from "./_cache.ts";

/** What {@linkcode JsCheck} is built from. */
export interface JsCheckOptions {
  name: string;
  id: string;
  version: string;
  source: string;
  intervalS: number;
  loader: string;
  host: CheckHost;
}

/** A {@linkcode Check} over an {@linkcode AgentCheck} object. */
export class JsCheck implements Check {
  readonly name: string;
  readonly id: string;
  readonly version: string;
  readonly source: string;
  readonly intervalS: number;
  readonly loader: string;
  /** Handed to the object's constructor: where its submissions go. */
  readonly binding: HostBinding;
  #object: AgentCheck | undefined;
  #instance: Readonly<Record<string, unknown>> = {};
  #warnings: string[] = [];
  #cancelled = new AbortController();
  #signal: AbortSignal = this.#cancelled.signal;

  constructor({ name, id, version, source, intervalS, loader, host }: JsCheckOptions) {
    this.name = name;
    this.id = id;
    this.version = version;
    this.source = source;
    this.intervalS = intervalS;
    this.loader = loader;
    this.binding = binding(host, name, id, this.#warnings, () => this.#signal);
  }

  /** The signal of the current run (or of the check, between runs). */
  get signal(): AbortSignal {
    return this.#signal;
  }

  /** Binds the constructed object and the instance its `check()` receives. */
  attach(object: AgentCheck, instance: Readonly<Record<string, unknown>>): void {
    this.#object = object;
    this.#instance = instance;
  }

  async run(signal: AbortSignal): Promise<RunResult> {
    this.#signal = AbortSignal.any([signal, this.#cancelled.signal]);
    let error: RunResult["error"];
    try {
      if (!this.#object) throw new Error(`JS check "${this.name}" was not constructed`);
      await this.#object.check(this.#instance);
    } catch (err) {
      error = err instanceof Error
        ? { message: err.message, traceback: err.stack ?? `${err.name}: ${err.message}` }
        : { message: String(err), traceback: String(err) };
    } finally {
      this.#signal = this.#cancelled.signal;
    }
    // Warnings from the constructor or from between runs belong to this run too.
    const warnings = this.#warnings.splice(0);
    return error ? { error, warnings } : { warnings };
  }

  async cancel(): Promise<void> {
    if (this.#cancelled.signal.aborted) return;
    this.#cancelled.abort(new DOMException(`JS check "${this.id}" was unscheduled`, "AbortError"));
    try {
      await this.#object?.cancel();
    } catch (err) {
      // Unscheduling goes on: the check is dropped either way.
      this.binding.warning(
        `JS check "${this.id}" failed to cancel: ${(err as Error)?.message ?? err}`,
      );
    }
  }
}

function binding(
  host: CheckHost,
  name: string,
  id: string,
  warnings: string[],
  signal: () => AbortSignal,
): HostBinding {
  const sender: Sender = host.senderFor(id);
  const log = host.log(name);
  const runPath = host.config.run_path;
  return {
    metric: (type, name, value, tags, hostname, flushFirstValue) =>
      sender.metric(type, name, value, tags, hostname, flushFirstValue),
    serviceCheck: (name, status, tags, hostname, message) =>
      sender.serviceCheck(name, status, tags, hostname, message),
    event: (e) =>
      sender.event({
        title: e.title,
        text: e.text,
        timestamp: e.timestamp,
        priority: e.priority,
        alertType: e.alertType,
        aggregationKey: e.aggregationKey,
        sourceTypeName: e.sourceTypeName,
        eventType: e.eventType,
        host: e.host,
        tags: e.tags,
      }),
    setMetadata: (name, value) => sender.setMetadata(name, value),
    warning(message) {
      log.warn(message);
      warnings.push(message);
    },
    readCache: (key) => readCache(runPath, key),
    writeCache: (key, value) => writeCache(runPath, key, value),
    signal,
  };
}
