import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { ServiceCheck } from "../../../src/metrics/model.ts";
import { decodeJson, decompress } from "./_decode.ts";
import { makeSerializer } from "./_fixtures.ts";

/** Incompressible-ish text of `len` characters from `seed`. */
function noise(len: number, seed: number): string {
  let x = seed + 1;
  let s = "";
  while (s.length < len) {
    x = (x * 48271) % 2147483647;
    s += x.toString(36);
  }
  return s.slice(0, len);
}

test("serviceCheckPayloads() keeps every limit and every item that fits, for any sizes", () => {
  fc.assert(
    fc.property(
      fc.constantFrom("none", "zstd", "zlib", "gzip"),
      fc.integer({ min: 300, max: 5_000 }),
      fc.integer({ min: 300, max: 8_000 }),
      fc.array(fc.tuple(fc.nat(6_000), fc.boolean()), { minLength: 1, maxLength: 60 }),
      (kind, maxCompressed, maxUncompressed, specs) => {
        const { serializer, registry } = makeSerializer({
          serializer_compressor_kind: kind,
          serializer_max_payload_size: maxCompressed,
          serializer_max_uncompressed_payload_size: maxUncompressed,
        });
        const checks: ServiceCheck[] = specs.map(([len, repetitive], i) => ({
          name: `c${i}`,
          status: 0,
          timestamp: 1,
          host: "h",
          message: repetitive ? "a".repeat(len) : noise(len, i),
          tags: [],
        }));
        const payloads = serializer.serviceCheckPayloads(checks);
        const names: string[] = [];
        for (const p of payloads) {
          assert.ok(p.body.length <= maxCompressed, `compressed ${p.body.length}`);
          assert.ok(decompress(p).length <= maxUncompressed, "uncompressed");
          const body = decodeJson(p);
          assert.equal(body.length, p.items);
          names.push(...body.map((c: any) => c.check));
        }
        const dropped = (registry.read("serializer.items_too_big") as Record<string, number>)
          .service_checks ?? 0;
        // Order kept, nothing lost silently: what is missing was counted.
        assert.equal(names.length + dropped, checks.length);
        const sent = new Set(names);
        assert.deepEqual(names, checks.map((c) => c.name).filter((n) => sent.has(n)));
        // An item that fits an empty payload uncompressed and compressed is never dropped.
        for (const c of checks) {
          const alone = JSON.stringify([{ ...c, check: c.name }]).length;
          if (alone * 2 < Math.min(maxCompressed, maxUncompressed) - 100) {
            assert.ok(sent.has(c.name), `${c.name} (${alone} B) dropped`);
          }
        }
      },
    ),
    { numRuns: 150 },
  );
});
