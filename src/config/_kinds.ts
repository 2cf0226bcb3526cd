/**
 * Building blocks for config keys: each gives a valibot schema with a default and the
 * message shown when a value has the wrong shape.
 */
import * as v from "valibot";

export const INTEGER = "expected an integer";
export const BOOLEAN = "expected a boolean (true or false)";
export const STRING = "expected a string";
export const LIST = "expected a list of strings";

export const str = (def: string) => v.optional(v.string(STRING), def);
export const bool = (def: boolean) => v.optional(v.boolean(BOOLEAN), def);
export const int = (def: number, min = -Infinity, max = Infinity) =>
  v.optional(
    v.pipe(
      v.number(INTEGER),
      v.integer(INTEGER),
      v.minValue(min, `expected an integer of at least ${min}`),
      v.maxValue(max, `expected an integer of at most ${max}`),
    ),
    def,
  );
export const list = (def: string[] = []) => v.optional(v.array(v.string(LIST), LIST), def);
export const port = (def: number) => int(def, 0, 65535);

const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
/** A byte size given as a number or as `10Mb`, `512KB`, `1gb`. */
export const size = (def: number) =>
  v.optional(
    v.pipe(
      v.union([
        v.pipe(v.number(), v.integer(), v.minValue(0)),
        v.pipe(v.string(), v.regex(/^\s*\d+(\.\d+)?\s*(b|kb|mb|gb)?\s*$/i)),
      ], "expected a size in bytes or a number with a unit (b, kb, mb, gb)"),
      v.transform((x) => {
        if (typeof x === "number") return x;
        const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(x)!;
        return Math.round(Number(m[1]) * SIZE_UNITS[m[2].toLowerCase()]);
      }),
    ),
    def,
  );

/** A float with a default. */
export const num = (def: number) => v.optional(v.number("expected a number"), def);
/** One of a fixed set of strings. */
export const oneOf = <const T extends readonly string[]>(options: T, def: T[number]) =>
  v.optional(v.picklist(options, `expected one of ${options.join(", ")}`), def);
