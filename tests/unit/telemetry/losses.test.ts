import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "../../../src/log/mod.ts";
import { LossReporter, Registry } from "../../../src/telemetry/mod.ts";

function setup(intervalMs = 30_000) {
  const lines: string[] = [];
  let now = Date.UTC(2026, 0, 1);
  const registry = new Registry();
  const losses = new LossReporter({
    registry,
    logger: createLogger({ level: "info", write: (l) => void lines.push(l) }),
    intervalMs,
    now: () => now,
  });
  return { lines, registry, losses, advance: (ms: number) => (now += ms) };
}

const disk = (count: number, where = "https://a") => ({
  component: "forwarder",
  reason: "disk_full",
  count,
  unit: "payloads",
  where,
});

describe("LossReporter", () => {
  it("lost() logs the first loss of a reason at once, with its count, reason and place", () => {
    const { lines, losses } = setup();
    losses.lost(disk(3));
    assert.equal(lines.length, 1);
    assert.match(lines[0], /WARN \| \(forwarder\) \| Lost 3 payloads at https:\/\/a \(disk_full\)/);
    assert.match(lines[0], /3 in total; more losses for this reason are logged at most every 30 s/);
    losses.flush();
  });

  it("lost() writes one line per reason per interval, with the count since the last line", () => {
    const { lines, losses, advance } = setup();
    losses.lost(disk(1));
    for (let i = 0; i < 1000; i++) {
      advance(10);
      losses.lost(disk(2, i % 2 ? "https://a" : "https://b"));
    }
    assert.equal(lines.length, 1, "a storm is not logged line by line");
    advance(30_000);
    losses.lost(disk(5));
    assert.equal(lines.length, 2);
    assert.match(lines[1], /Lost 2005 payloads at https:\/\/b, https:\/\/a \(disk_full\) since /);
    assert.match(lines[1], /2006 in total$/m);
    losses.flush();
  });

  it("lost() keeps reasons and components apart", () => {
    const { lines, losses } = setup();
    losses.lost(disk(1));
    losses.lost({ component: "forwarder", reason: "retry_queue_full", count: 4, unit: "payloads" });
    losses.lost({ component: "aggregator", reason: "context_limit", count: 9, unit: "samples" });
    assert.equal(lines.length, 3);
    assert.match(lines[1], /\(forwarder\) \| Lost 4 payloads \(retry_queue_full\)/);
    assert.match(lines[2], /\(aggregator\) \| Lost 9 samples \(context_limit\)/);
    losses.flush();
  });

  it("lost() counts every loss into the registry, logged or not, and ignores a count of 0", () => {
    const { registry, losses, advance } = setup();
    losses.lost(disk(1));
    advance(1);
    losses.lost(disk(2));
    losses.lost(disk(0));
    losses.lost({ component: "aggregator", reason: "context_limit", count: 9, unit: "samples" });
    assert.deepEqual(registry.read("losses.Lost"), {
      "forwarder.disk_full": 3,
      "aggregator.context_limit": 9,
    });
    const summary = registry.read("losses.Reasons") as Record<string, any>;
    assert.equal(summary["forwarder.disk_full"].count, 3);
    assert.equal(summary["forwarder.disk_full"].unit, "payloads");
    assert.equal(summary["forwarder.disk_full"].lastMs - summary["forwarder.disk_full"].firstMs, 1);
    losses.flush();
  });

  it("lost() writes the latest detail with the next line", () => {
    const { lines, losses } = setup();
    losses.lost({ ...disk(2), reason: "disk_write_failed", detail: "last error: ENOSPC" });
    assert.match(lines[0], /\(disk_write_failed, last error: ENOSPC\)/);
    losses.flush();
  });

  it("flush() logs what is pending, and nothing when nothing is", () => {
    const { lines, losses, advance } = setup();
    losses.lost(disk(1));
    advance(5);
    losses.lost(disk(7));
    assert.equal(lines.length, 1);
    losses.flush();
    assert.equal(lines.length, 2);
    assert.match(lines[1], /Lost 7 payloads/);
    losses.flush();
    assert.equal(lines.length, 2);
  });

  it("a pending count is logged when its interval ends, without another loss", async () => {
    const lines: string[] = [];
    const losses = new LossReporter({
      registry: new Registry(),
      logger: createLogger({ level: "info", write: (l) => void lines.push(l) }),
      intervalMs: 20,
    });
    losses.lost(disk(1));
    losses.lost(disk(6));
    assert.equal(lines.length, 1);
    for (let i = 0; i < 200 && lines.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(lines.length, 2);
    assert.match(lines[1], /Lost 6 payloads/);
    losses.flush();
  });
});
