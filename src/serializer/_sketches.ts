/**
 * `/api/beta/sketches` encoder: one `SketchPayload.Sketch` record per sketch series, in the
 * agent's sketch format (Dogsketch: bin keys as packed sint32, counts as packed uint32).
 */
import { MAX_TIMESTAMP, type SketchPoint, type SketchSeries } from "../metrics/model.ts";
import type { ProtoWriter } from "./_proto.ts";
import { originField } from "./_series.ts";

// Field numbers of SketchPayload (spec §3.5).
const F_SKETCHES = 1;
const F_METRIC = 1, F_HOST = 2, F_TAGS = 4, F_DOGSKETCHES = 7, F_METADATA = 8;

/** The payload's footer: `metadata = 2` as an empty message, as the agent writes it. */
export const SKETCH_FOOTER = new Uint8Array([2 * 8 + 2, 0]);

// The model does not say where a distribution came from; nearly all come from DogStatsD.
const ORIGIN = originField(F_METADATA, { fromDogStatsD: true });

/** Largest bin key magnitude: 32766 plus the infinity key (pkg/quantile). */
const MAX_KEY = 32767;
/** Bin counts are uint32 on the wire. */
const MAX_BIN_COUNT = 2 ** 32 - 1;

/**
 * True when the intake can take the point: a time in [0, MAX_TIMESTAMP], an integer count up
 * to 2^53, finite min, max, avg and sum, and as many counts as keys, each in its wire range.
 */
export function validSketchPoint(p: SketchPoint): boolean {
  if (!(p.ts >= 0 && p.ts <= MAX_TIMESTAMP && Number.isSafeInteger(p.cnt) && p.cnt >= 0)) {
    return false;
  }
  const { min, max, avg, sum } = p;
  if (!(Number.isFinite(min) && Number.isFinite(max) && Number.isFinite(avg))) return false;
  if (!Number.isFinite(sum)) return false;
  if (p.k.length !== p.n.length) return false;
  for (let i = 0; i < p.k.length; i++) {
    const k = p.k[i];
    const n = p.n[i];
    if (!(Number.isInteger(k) && k >= -MAX_KEY && k <= MAX_KEY)) return false;
    if (!(Number.isInteger(n) && n >= 0 && n <= MAX_BIN_COUNT)) return false;
  }
  return true;
}

/** How many points of `s` {@linkcode validSketchPoint} refuses. */
export function invalidSketchPoints(s: SketchSeries): number {
  let n = 0;
  for (const p of s.points) if (!validSketchPoint(p)) n++;
  return n;
}

/** Encodes `s` as one field-1 `Sketch` record of a `SketchPayload`. */
export function encodeSketch(w: ProtoWriter, s: SketchSeries): Uint8Array {
  w.reset();
  w.fork(F_SKETCHES);
  w.string(F_METRIC, s.name);
  w.string(F_HOST, s.host);
  for (const tag of s.tags) w.string(F_TAGS, tag, true);
  for (const p of s.points) {
    w.fork(F_DOGSKETCHES);
    w.int64(1, p.ts);
    w.int64(2, p.cnt);
    w.double(3, p.min);
    w.double(4, p.max);
    w.double(5, p.avg);
    w.double(6, p.sum);
    w.packedSint32(7, p.k);
    w.packedUint32(8, p.n);
    w.ldelim();
  }
  w.raw(ORIGIN);
  w.ldelim();
  return w.finish();
}
