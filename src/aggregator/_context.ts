/**
 * Context keys: a 53-bit hash of name, host and the tag set, independent of tag order and
 * blind to duplicate tags (as the agent's `ckey`). A number key keeps the hot path free of
 * string building: a sample that hits an existing context allocates nothing. Two 32-bit lanes
 * are hashed side by side so the result keeps 53 bits (a collision among 1M contexts has odds
 * of about 1 in 20,000, the same trade the agent makes with its 64-bit key).
 *
 * Tag sets are stored once per distinct set as a sorted array of interned tag strings, shared by
 * every context that has them and handed as is to the flushed series (consumers must not
 * mutate them). Interning the tags themselves is what keeps a context small: real tag sets are
 * combinations of few distinct tags (env, service, endpoint…), so most strings are shared.
 */

import { tagSetSlot } from "../metrics/shared_tags.ts";

let lo = 0;
let hi = 0;

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Hashes `s` into the two lanes `lo`/`hi` (module state, to avoid allocating a pair). */
function hash(s: string, seed: number): void {
  let a = 0x811c9dc5 ^ seed;
  let b = 0x9747b28c ^ seed;
  // FNV-1a in one lane and djb2 (shift-add, no multiply) in the other: two independent 32-bit
  // hashes for the price of one multiply per character; fmix below spreads both.
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = ((b << 5) + b + c) | 0;
  }
  lo = fmix(a ^ s.length);
  hi = fmix(b + s.length);
}

/** Lanes of the last tag-set hash, read by `Interner.tagSet` to intern the set. */
let tagsLo = 0;
let tagsHi = 0;

/** Order-independent hash of the distinct tags (XOR of each distinct tag's hash). */
function tagSetHash(tags: readonly string[]): void {
  const slot = tagSetSlot(tags);
  if (slot === undefined) return hashTags(tags);
  if (!slot.done) {
    hashTags(tags);
    slot.lo = tagsLo;
    slot.hi = tagsHi;
    slot.done = true;
  }
  tagsLo = slot.lo;
  tagsHi = slot.hi;
}

function hashTags(tags: readonly string[]): void {
  let x = 0;
  let y = 0;
  const n = tags.length;
  // Distinct-ness by hash: n is small (a handful of tags), so a quadratic scan of the
  // lanes seen so far is cheaper than a Set.
  const seenLo = n > 1 ? scratchLo : null;
  const seenHi = scratchHi;
  for (let i = 0; i < n; i++) {
    hash(tags[i], 0x2f);
    if (seenLo) {
      let dup = false;
      for (let j = 0; j < i; j++) {
        if (seenLo[j] === lo && seenHi[j] === hi) {
          dup = true;
          break;
        }
      }
      seenLo[i] = lo;
      seenHi[i] = hi;
      if (dup) continue;
    }
    x ^= lo;
    y ^= hi;
  }
  tagsLo = x;
  tagsHi = y;
}
const scratchLo: number[] = [];
const scratchHi: number[] = [];

/** The 53-bit context key of a name, a host and a tag set. */
export function contextKey(name: string, host: string, tags: readonly string[]): number {
  tagSetHash(tags);
  // Nearly every sample carries the agent's host name: hash it once.
  if (host !== lastHost) {
    hash(host, 0x7b);
    lastHost = host;
    hostLo = Math.imul(lo, 3);
    hostHi = Math.imul(hi, 5);
  }
  hash(name, 0x51);
  const x = fmix(lo ^ hostLo ^ tagsLo);
  const y = fmix(hi ^ hostHi ^ tagsHi);
  return (y >>> 11) * 4294967296 + (x >>> 0);
}
let lastHost: string | null = null;
let hostLo = 0;
let hostHi = 0;

/** What a context costs besides its strings: the context object, its map entry and bucket state. */
const CONTEXT_OVERHEAD_BYTES = 160;
/** What a tag costs besides its characters: its slot in the tag set and its string header. */
const TAG_OVERHEAD_BYTES = 32;

/**
 * The bytes one context is charged against `dogstatsd_context_bytes_limit`: its name, host and
 * tags (one byte per UTF-16 unit) plus fixed overheads. Sharing between contexts is not
 * deducted, so the sum is an upper bound of what contexts hold, which is what a memory bound
 * needs. A typical context (a 30-character name, a 10-character host, five 20-character tags)
 * is charged 460 bytes: the default budget of 256 MiB holds about 580,000 of them.
 */
export function contextBytes(name: string, host: string, tags: readonly string[]): number {
  let n = CONTEXT_OVERHEAD_BYTES + name.length + host.length;
  for (let i = 0; i < tags.length; i++) n += tags[i].length + TAG_OVERHEAD_BYTES;
  return n;
}

const EMPTY: string[] = [];

/** Sorted, deduplicated copy of `tags`. */
export function sortUniq(tags: readonly string[]): string[] {
  if (tags.length === 0) return EMPTY;
  const s = tags.slice().sort();
  let w = 1;
  for (let r = 1; r < s.length; r++) if (s[r] !== s[w - 1]) s[w++] = s[r];
  s.length = w;
  return s;
}

/**
 * Interns names, hosts and tag sets so that contexts share them. The tables only serve
 * sharing: `trim` empties them when they grow past the live contexts, which costs some
 * sharing for new contexts and never correctness.
 */
export class Interner {
  readonly #strings = new Map<string, string>();
  readonly #sets = new Map<number, string[]>();

  /** The shared copy of `s`. */
  string(s: string): string {
    const have = this.#strings.get(s);
    if (have !== undefined) return have;
    this.#strings.set(s, s);
    return s;
  }

  /**
   * The shared sorted, deduplicated array of interned tags for `tags`; call right after
   * {@linkcode contextKey} on the same tags.
   */
  tagSet(tags: readonly string[]): string[] {
    const id = (tagsHi >>> 11) * 4294967296 + (tagsLo >>> 0);
    const have = this.#sets.get(id);
    if (have !== undefined) return have;
    const set = sortUniq(tags);
    for (let i = 0; i < set.length; i++) set[i] = this.string(set[i]);
    this.#sets.set(id, set);
    return set;
  }

  /** Empties the tables when they hold more than `live` entries plus slack. */
  trim(live: number): void {
    // A context has a handful of tags: allow several distinct strings per live context.
    if (this.#strings.size > 8 * live + 10_000) this.#strings.clear();
    if (this.#sets.size > live + 10_000) this.#sets.clear();
  }
}
