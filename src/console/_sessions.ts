/**
 * The console's logins: sessions (a random id in an HttpOnly cookie, with the CSRF token its
 * pages send back on every state-changing request) and one-time login codes, which
 * `outpost launch-gui` asks for with the auth token and prints as a URL. Both live in memory
 * only: a restart logs everyone out, which is what a restart of the agent should do.
 *
 * @module
 */
import { randomBytes } from "node:crypto";

/** How long a session lasts without being used. */
export const SESSION_IDLE_MS = 12 * 3600_000;

/** How long a login code printed by `outpost launch-gui` can be used, once. */
export const CODE_TTL_MS = 5 * 60_000;

/** At most this many sessions and codes: the oldest is dropped first. */
const MAX_SESSIONS = 64;
const MAX_CODES = 16;

/** One logged-in browser. */
export interface Session {
  id: string;
  /** Sent by the pages in `X-CSRF-Token` (or a form's `csrf` field) with every change. */
  csrf: string;
  lastUsedMs: number;
}

const secret = () => randomBytes(32).toString("base64url");

/** Sessions and one-time codes, with their expiry; `now` is injectable for tests. */
export class Sessions {
  // Maps keep insertion order: the first entry is the oldest, dropped at the cap.
  readonly #sessions = new Map<string, Session>();
  readonly #codes = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Opens a session (after a login). */
  open(): Session {
    if (this.#sessions.size >= MAX_SESSIONS) {
      this.#sessions.delete(this.#sessions.keys().next().value!);
    }
    const session = { id: secret(), csrf: secret(), lastUsedMs: this.#now() };
    this.#sessions.set(session.id, session);
    return session;
  }

  /** The live session of a cookie value, its idle time renewed; null when unknown or expired. */
  get(id: string | undefined): Session | null {
    if (!id) return null;
    const session = this.#sessions.get(id);
    if (!session) return null;
    const now = this.#now();
    if (now - session.lastUsedMs > SESSION_IDLE_MS) {
      this.#sessions.delete(id);
      return null;
    }
    session.lastUsedMs = now;
    return session;
  }

  /** Ends a session (logout). */
  close(id: string): void {
    this.#sessions.delete(id);
  }

  /** A new one-time login code. */
  code(): string {
    if (this.#codes.size >= MAX_CODES) this.#codes.delete(this.#codes.keys().next().value!);
    const code = secret();
    this.#codes.set(code, this.#now() + CODE_TTL_MS);
    return code;
  }

  /** True once for a live code: using it removes it. */
  redeem(code: string): boolean {
    const expires = this.#codes.get(code);
    if (expires === undefined) return false;
    this.#codes.delete(code);
    return this.#now() <= expires;
  }
}
