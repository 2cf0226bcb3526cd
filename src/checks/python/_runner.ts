/**
 * The pyrunner child: starts `python3 -X utf8 -u <run_path>/pyrunner/pyrunner.py`, says hello,
 * matches answers to requests by `rid`, answers the runner's `call`s, and restarts it with
 * backoff when it dies (spec §7.5).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Log } from "../../log/mod.ts";
import type { ProcessHandle, Runtime } from "../../runtime/types.ts";
import { encodeLine, LineSplitter, type Message, parseLine } from "./_protocol.ts";
import { PYRUNNER_SOURCE } from "./_pyrunner_source.ts";

/** How long the runner may take to answer `hello`. */
const READY_TIMEOUT_MS = 30_000;
/** `shutdown` waits this long for the runner to exit, then kills it. */
const STOP_TIMEOUT_MS = 2_000;
/** Restart delays double from 1 s up to this. */
const MAX_BACKOFF_S = 60;
/** A runner that stayed up this long starts the backoff again at 1 s when it dies. */
const BACKOFF_RESET_MS = 60_000;

/** What starting the runner needs, read when it (re)starts. */
export interface SpawnSpec {
  runtime: Runtime;
  /** `python_binary`. */
  binary: string;
  /** `run_path`: the script goes to `<run_path>/pyrunner/pyrunner.py`. */
  runPath: string;
  /** The child's whole environment. */
  env: Record<string, string>;
  /** The fields of the `hello` message. */
  hello: Record<string, unknown>;
}

/** What the runner tells its owner. */
export interface RunnerEvents {
  /** A message that answers no request (`m`, `sc`, `log`, …); `bytes` is its line's length. */
  onMessage(msg: Message, bytes: number): void;
  /** A runner `call`: the returned value, or the thrown error's message, is the reply. */
  onCall(fn: string, args: unknown[]): unknown;
  /** The runner is up again after a crash (the owner loads its checks again). */
  onRestarted(): void;
  /** Where runner-level lines go (`pyrunner: <stderr line>` at WARN). */
  log: Log;
}

/** The binary named by `python_binary` does not exist. */
export class PythonNotFoundError extends Error {
  /** Stable code, usable as a telemetry tag. */
  readonly code = "python_not_found";
}

/** The runner is not running (it exited, and a restart may be on the way). */
export class RunnerDownError extends Error {
  /** Stable code, usable as a telemetry tag. */
  readonly code = "runner_down";
}

/** Traffic of one check ID over the pipes, counted on the agent side. */
export interface PipeCounters {
  bytes_in: number;
  bytes_out: number;
  msgs_in: number;
  msgs_out: number;
}

interface Pending {
  resolve(msg: Message): void;
  reject(err: Error): void;
  id?: string;
}

const SIGNALS: Record<number, string> = {
  1: "SIGHUP",
  2: "SIGINT",
  3: "SIGQUIT",
  4: "SIGILL",
  6: "SIGABRT",
  8: "SIGFPE",
  9: "SIGKILL",
  11: "SIGSEGV",
  13: "SIGPIPE",
  14: "SIGALRM",
  15: "SIGTERM",
};

/** `python runner exited (code <c>, signal <s>)`; the runtime reports a signal as 128 + n. */
export function exitMessage(code: number): string {
  const signal = code > 128 ? SIGNALS[code - 128] ?? `signal ${code - 128}` : "none";
  return `python runner exited (code ${code}, signal ${signal})`;
}

function isNotFound(err: unknown): boolean {
  const e = err as { code?: string; name?: string; message?: string };
  return e?.code === "ENOENT" || e?.name === "NotFound" ||
    /ENOENT|not found|no such file/i.test(String(e?.message));
}

const encoder = new TextEncoder();

/**
 * One pyrunner process at a time. States: `idle` (never started, or its start failed),
 * `starting`, `ready`, `down` (it exited; a restart is scheduled), `stopped`.
 */
export class PyRunner {
  readonly #spec: () => SpawnSpec;
  readonly #events: RunnerEvents;
  #state: "idle" | "starting" | "ready" | "down" | "stopped" = "idle";
  #proc: ProcessHandle | undefined;
  #starting: Promise<void> | undefined;
  readonly #pending = new Map<number, Pending>();
  #rid = 0;
  #down: RunnerDownError | undefined;
  #restarts = 0;
  #failures = 0;
  #readyAt = 0;
  #restartTimer: ReturnType<typeof setTimeout> | undefined;
  #pythonVersion: string | undefined;
  #pid: number | undefined;
  readonly #counters = new Map<string, PipeCounters>();

  constructor(spec: () => SpawnSpec, events: RunnerEvents) {
    this.#spec = spec;
    this.#events = events;
  }

  /** True while the runner answers requests. */
  get ready(): boolean {
    return this.#state === "ready";
  }

  /**
   * Resolves once the runner is up, starting it the first time. Throws
   * {@linkcode PythonNotFoundError} when the binary does not exist, and
   * {@linkcode RunnerDownError} at once while it is down after a crash.
   */
  ensure(): Promise<void> {
    switch (this.#state) {
      case "ready":
        return Promise.resolve();
      case "starting":
        return this.#starting!;
      case "down":
        return Promise.reject(this.#down);
      case "stopped":
        return Promise.reject(new RunnerDownError("python runner is stopped"));
      case "idle":
        this.#state = "starting";
        this.#starting = this.#start().catch((e) => {
          if (this.#state === "starting") this.#state = "idle";
          throw e;
        });
        return this.#starting;
    }
  }

  /** Sends `msg` with a fresh `rid` and resolves with the answer that echoes it. */
  request(msg: Message, id?: string): Promise<Message> {
    if (this.#state !== "ready") {
      return Promise.reject(this.#down ?? new RunnerDownError("python runner is not running"));
    }
    const rid = ++this.#rid;
    return new Promise<Message>((resolve, reject) => {
      this.#pending.set(rid, { resolve, reject, id });
      this.send({ ...msg, rid }, id);
    });
  }

  /** Sends one message; `id` is the check it counts against. Lost while the runner is down. */
  send(msg: Message, id?: string): void {
    const proc = this.#proc;
    if (!proc?.stdin) return;
    const bytes = encodeLine(msg);
    if (id !== undefined) {
      const c = this.#count(id);
      c.bytes_out += bytes.byteLength;
      c.msgs_out++;
    }
    proc.stdin.write(bytes);
  }

  /** Forgets the pipe counters of a check that was unloaded. */
  forget(id: string): void {
    this.#counters.delete(id);
  }

  /** `pid`, `python_version`, `rss_bytes`, `hwm_bytes`, `restarts` and per-check counters. */
  stats(): Record<string, unknown> {
    const pid = this.#state === "ready" ? this.#pid ?? null : null;
    const mem = pid === null ? { rss: 0, hwm: 0 } : procMemory(pid);
    return {
      pid,
      python_version: this.#pythonVersion ?? null,
      rss_bytes: mem.rss,
      hwm_bytes: mem.hwm,
      restarts: this.#restarts,
      checks: Object.fromEntries([...this.#counters].map(([id, c]) => [id, { ...c }])),
    };
  }

  /** Sends `shutdown`, and kills the runner if it has not exited after 2 s. */
  async stop(): Promise<void> {
    this.#state = "stopped";
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    const proc = this.#proc;
    if (!proc) return;
    this.send({ t: "shutdown" });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        proc.kill("SIGKILL");
        resolve();
      }, STOP_TIMEOUT_MS);
    });
    await Promise.race([proc.exited, killed]);
    clearTimeout(timer);
    await proc.exited;
  }

  #count(id: string): PipeCounters {
    let c = this.#counters.get(id);
    if (!c) this.#counters.set(id, c = { bytes_in: 0, bytes_out: 0, msgs_in: 0, msgs_out: 0 });
    return c;
  }

  async #start(): Promise<void> {
    const spec = this.#spec();
    // Written at every start, so the script always matches the agent that runs it.
    const dir = join(spec.runPath, "pyrunner");
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const script = join(dir, "pyrunner.py");
    writeFileSync(script, PYRUNNER_SOURCE, { mode: 0o600 });
    let proc: ProcessHandle;
    try {
      proc = spec.runtime.start([spec.binary, "-X", "utf8", "-u", script], {
        env: spec.env,
        pipe: true,
      });
    } catch (e) {
      if (isNotFound(e)) {
        throw new PythonNotFoundError(`${spec.binary} not found`);
      }
      throw new Error(`cannot start ${spec.binary}: ${(e as Error).message}`);
    }
    this.#proc = proc;
    const stderrTail: string[] = [];
    let readyFn!: (msg: Message) => void;
    let failFn!: (err: Error) => void;
    const ready = new Promise<Message>((resolve, reject) => {
      readyFn = resolve;
      failFn = reject;
    });
    void this.#readLines(proc.stdout!, (line) => {
      const msg = parseLine(line);
      if (msg?.t === "ready") readyFn(msg);
      else this.#onLine(line, msg);
    });
    void this.#readLines(proc.stderr!, (line) => {
      stderrTail.push(line);
      if (stderrTail.length > 20) stderrTail.shift();
      this.#events.log.warn(`pyrunner: ${line}`);
    });
    void proc.exited.then((code) => {
      const tail = stderrTail.length ? `: ${stderrTail.join("\n")}` : "";
      failFn(new Error(`${exitMessage(code)} before it was ready${tail}`));
      this.#onExit(proc, code);
    });
    this.send({ t: "hello", ...spec.hello });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`${spec.binary} did not answer within 30 s`));
        proc.kill("SIGKILL");
      }, READY_TIMEOUT_MS);
    });
    try {
      const msg = await Promise.race([ready, timeout]);
      this.#pythonVersion = String(msg.python_version ?? "");
      this.#pid = typeof msg.pid === "number" ? msg.pid : proc.pid;
    } finally {
      clearTimeout(timer);
    }
    if (this.#state === "stopped") return;
    this.#state = "ready";
    this.#down = undefined;
    this.#readyAt = Date.now();
  }

  async #readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void) {
    const split = new LineSplitter();
    const reader = stream.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const line of split.push(value)) if (line) onLine(line);
      }
    } catch { /* the pipe broke: the exit handler reports it */ }
    const rest = split.end();
    if (rest) onLine(rest);
  }

  #onLine(line: string, msg: Message | null): void {
    if (!msg) {
      this.#events.log.warn(`pyrunner: not a protocol message: ${line.slice(0, 200)}`);
      return;
    }
    const bytes = encoder.encode(line).byteLength + 1;
    const rid = typeof msg.rid === "number" ? msg.rid : undefined;
    if (msg.t === "call") {
      void this.#answer(rid!, String(msg.fn), Array.isArray(msg.args) ? msg.args : []);
      return;
    }
    const pending = rid === undefined ? undefined : this.#pending.get(rid);
    const id = typeof msg.id === "string" ? msg.id : pending?.id;
    if (id !== undefined) {
      const c = this.#count(id);
      c.bytes_in += bytes;
      c.msgs_in++;
    }
    if (msg.t === "fatal") {
      this.#events.log.error(`pyrunner: fatal: ${String(msg.error)}`);
      return;
    }
    if (pending) {
      this.#pending.delete(rid!);
      pending.resolve(msg);
      return;
    }
    this.#events.onMessage(msg, bytes);
  }

  async #answer(rid: number, fn: string, args: unknown[]): Promise<void> {
    try {
      const value = await this.#events.onCall(fn, args);
      this.send({ t: "reply", rid, ok: true, value: value ?? null });
    } catch (e) {
      this.send({ t: "reply", rid, ok: false, error: (e as Error).message ?? String(e) });
    }
  }

  #onExit(proc: ProcessHandle, code: number): void {
    if (proc !== this.#proc) return;
    this.#proc = undefined;
    const err = new RunnerDownError(exitMessage(code));
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
    if (this.#state === "stopped") return;
    if (this.#state !== "ready") {
      // It never came up: the start's own error says why; the next load tries again.
      return;
    }
    this.#events.log.error(`Python Check Loader: ${err.message}`);
    this.#state = "down";
    this.#down = err;
    this.#scheduleRestart();
  }

  #scheduleRestart(): void {
    if (Date.now() - this.#readyAt > BACKOFF_RESET_MS) this.#failures = 0;
    const delayS = Math.min(MAX_BACKOFF_S, 2 ** this.#failures);
    this.#failures++;
    this.#events.log.info(`Python Check Loader: restarting the python runner in ${delayS}s`);
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      if (this.#state !== "down") return;
      this.#start().then(
        () => {
          if (this.#state !== "ready") return;
          this.#restarts++;
          this.#events.onRestarted();
        },
        (e) => {
          if (this.#state === "stopped") return;
          this.#events.log.error(`Python Check Loader: restart failed: ${(e as Error).message}`);
          this.#state = "down";
          this.#scheduleRestart();
        },
      );
    }, delayS * 1000);
  }
}

/** VmRSS and VmHWM of a process, in bytes (0 where /proc does not have them). */
function procMemory(pid: number): { rss: number; hwm: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key: string) =>
      Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
    return { rss: kb("VmRSS") * 1024, hwm: kb("VmHWM") * 1024 };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}
