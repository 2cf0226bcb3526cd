/**
 * `/api/beta/sketches` encoder: one `SketchPayload.Sketch` record per sketch series, in the
 * agent's sketch format (Dogsketch: bin keys as packed sint32, counts as packed uint32).
 */
import type { SketchSeries } from "../metrics/model.ts";
import type { ProtoWriter } from "./_proto.ts";
import { originField } from "./_series.ts";

// Field numbers of SketchPayload (spec §3.5).
const F_SKETCHES = 1;
const F_METRIC = 1, F_HOST = 2, F_TAGS = 4, F_DOGSKETCHES = 7, F_METADATA = 8;

/** The payload's footer: `metadata = 2` as an empty message, as the agent writes it. */
export const SKETCH_FOOTER = new Uint8Array([2 * 8 + 2, 0]);

// The model does not say where a distribution came from; nearly all come from DogStatsD.
const ORIGIN = originField(F_METADATA, { fromDogStatsD: true });

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
