/**
 * Decoder slots: at most `size` requests read and decode at once, so a burst of large bodies
 * cannot take all the memory; a request that waits longer than the timeout is refused.
 */

/**
 * A counting semaphore whose waiters give up after a timeout.
 *
 * @example Two slots, the third waiter times out
 * ```ts
 * import { Slots } from "./_receiver_slots.ts";
 * const slots = new Slots(2);
 * await slots.acquire(10);
 * await slots.acquire(10);
 * console.log(await slots.acquire(10)); // false
 * ```
 */
export class Slots {
  #free: number;
  readonly #waiters: Array<(ok: boolean) => void> = [];

  constructor(size: number) {
    this.#free = size;
  }

  /** Slots in use right now is `size - free`. */
  get free(): number {
    return this.#free;
  }

  /** Resolves true with a slot, or false when none freed within `timeoutMs`. */
  acquire(timeoutMs: number): Promise<boolean> {
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const grant = (ok: boolean) => {
        clearTimeout(timer);
        resolve(ok);
      };
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(grant);
        if (i >= 0) this.#waiters.splice(i, 1);
        resolve(false);
      }, timeoutMs);
      this.#waiters.push(grant);
    });
  }

  /** Gives a slot back, to the oldest waiter first. */
  release(): void {
    const next = this.#waiters.shift();
    if (next) next(true);
    else this.#free++;
  }
}
