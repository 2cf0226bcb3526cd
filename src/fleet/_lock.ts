/**
 * The advisory lock that keeps two fleet operations from interleaving: a promise chain inside
 * the process, and a lock file holding the owner's pid between processes. A lock file whose
 * pid is gone (a kill -9) is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { FleetError } from "./_errors.ts";

/** Tokens of the locks this process holds, to tell its own holders from a dead one with the same pid. */
const held = new Set<string>();

/** How long an operation waits for another process's lock. @default 10 s, as the Datadog installer */
export const LOCK_TIMEOUT_MS = 10_000;

/** A lock on one path; `run` serializes callers in this process and across processes. */
export class FleetLock {
  #tail: Promise<unknown> = Promise.resolve();

  constructor(readonly path: string, readonly timeoutMs = LOCK_TIMEOUT_MS) {}

  /** Runs `fn` while holding the lock. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(async () => {
      const token = await this.#acquire();
      try {
        return await fn();
      } finally {
        held.delete(token);
        rmSync(this.path, { force: true });
      }
    });
    this.#tail = next.catch(() => {});
    return next;
  }

  async #acquire(): Promise<string> {
    const deadline = Date.now() + this.timeoutMs;
    const token = `${process.pid} ${Math.random().toString(36).slice(2)}`;
    for (;;) {
      try {
        const fd = openSync(this.path, "wx", 0o600);
        writeSync(fd, new TextEncoder().encode(token));
        closeSync(fd);
        held.add(token);
        return token;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
      const content = readOr(this.path, "");
      const owner = Number(content.split(" ")[0]);
      const stale = !Number.isInteger(owner) || owner <= 0 || !alive(owner) ||
        (owner === process.pid && !held.has(content));
      if (stale) {
        rmSync(this.path, { force: true }); // left by a process that died holding it
        continue;
      }
      if (Date.now() > deadline) {
        throw new FleetError("conflict", `Cannot lock ${this.path}: process ${owner} holds it`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return fallback;
  }
}

/** Whether a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
