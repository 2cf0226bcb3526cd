import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { contextKey, Interner, sortUniq } from "../../../src/aggregator/_context.ts";
import { shareTags } from "../../../src/metrics/shared_tags.ts";

describe("contextKey", () => {
  it("contextKey ignores tag order and duplicate tags", () => {
    const k = contextKey("m", "h", ["a:1", "b:2", "c:3"]);
    assert.equal(contextKey("m", "h", ["c:3", "a:1", "b:2"]), k);
    assert.equal(contextKey("m", "h", ["b:2", "a:1", "c:3", "a:1", "b:2"]), k);
  });

  it("contextKey differs by name, host and tag set, including swapped parts", () => {
    const keys = [
      contextKey("m", "h", ["a"]),
      contextKey("n", "h", ["a"]),
      contextKey("m", "g", ["a"]),
      contextKey("m", "h", ["b"]),
      contextKey("m", "h", []),
      contextKey("h", "m", ["a"]),
      contextKey("a", "h", ["m"]),
      contextKey("m", "h", ["a", "a", "b", "b"]),
    ];
    assert.equal(new Set(keys).size, keys.length);
    assert.ok(keys.every((k) => Number.isSafeInteger(k) && k >= 0));
  });

  it("a shared tags array keys as its content does; an unshared array refilled is rehashed", () => {
    const shared = shareTags(["b:2", "a:1"]);
    assert.throws(() => (shared as string[]).push("c:3"), TypeError);
    const expected = contextKey("m", "h", ["a:1", "b:2"]);
    assert.equal(contextKey("m", "h", shared), expected); // first use fills the slot
    assert.equal(contextKey("m", "h", shared), expected); // later uses read it
    const mine = ["a:1", "b:2"];
    assert.equal(contextKey("m", "h", mine), expected);
    mine[1] = "b:3"; // a caller refilling its own array gets a new context
    assert.equal(contextKey("m", "h", mine), contextKey("m", "h", ["a:1", "b:3"]));
    assert.notEqual(contextKey("m", "h", mine), expected);
  });

  it("contextKey has no collision among 200,000 typical contexts", () => {
    const seen = new Set<number>();
    for (let i = 0; i < 200_000; i++) {
      seen.add(
        contextKey(`app.request.${i % 50}`, "host-1", [
          "env:prod",
          `service:svc-${i % 7}`,
          `endpoint:/api/v1/items/${Math.floor(i / 350)}`,
          `status:${200 + (i % 5)}`,
        ]),
      );
    }
    assert.equal(seen.size, 200_000);
  });
});

describe("Interner", () => {
  it("Interner.tagSet() shares one sorted, deduplicated array between equal sets", () => {
    const i = new Interner();
    contextKey("x", "h", ["b", "a", "b"]);
    const a = i.tagSet(["b", "a", "b"]);
    contextKey("y", "h", ["a", "b"]);
    const b = i.tagSet(["a", "b"]);
    assert.equal(a, b);
    assert.deepEqual(a, ["a", "b"]);
    assert.deepEqual(sortUniq(["c", "a", "c", "b"]), ["a", "b", "c"]);
  });
});
