import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Scheduler, sparseStep } from "../../../../src/checks/collector/_scheduler.ts";
import type { Check } from "../../../../src/checks/_types.ts";
import { captureLogger, fakeCheck, FakeTime } from "./_fakes.ts";

function setup() {
  const time = new FakeTime();
  const { log, lines } = captureLogger();
  const sent: Array<{ id: string; at: number }> = [];
  let gate: Promise<void> = Promise.resolve();
  const scheduler = new Scheduler({
    dispatch: (check: Check, at: number) => {
      sent.push({ id: check.id, at });
      return gate;
    },
    log,
    ticker: time.ticker,
    monotonic: time.monotonic,
    now: time.clock,
  });
  return { scheduler, time, sent, lines, block: (p: Promise<void>) => (gate = p) };
}

describe("Scheduler", () => {
  it("sparseStep() is about half the interval", () => {
    assert.deepEqual([1, 2, 15, 16, 30, 60, 900].map(sparseStep), [1, 1, 7, 7, 13, 29, 449]);
  });

  it("schedule() places 15 checks of interval 15 one per bucket, in step order", () => {
    const { scheduler } = setup();
    for (let i = 0; i < 15; i++) scheduler.schedule(fakeCheck(`c${i}`, { intervalS: 15 }));
    const buckets = Array.from({ length: 15 }, (_, i) => scheduler.bucketOf(`c${i}`));
    assert.deepEqual(buckets, [0, 7, 14, 6, 13, 5, 12, 4, 11, 3, 10, 2, 9, 1, 8]);
    assert.deepEqual(scheduler.stats(), {
      QueuesCount: 1,
      ChecksEntered: 15,
      Queues: [{ Interval: 15, Buckets: 15, Size: 15 }],
    });
    scheduler.stop();
  });

  it("each 1 s tick sends the current bucket, so a check runs once per interval", async () => {
    const { scheduler, time, sent } = setup();
    scheduler.schedule(fakeCheck("a", { intervalS: 3 })); // bucket 0
    scheduler.schedule(fakeCheck("b", { intervalS: 3 })); // bucket 1 (step 1)
    await time.advance(6000);
    assert.deepEqual(sent.map((s) => s.id), ["a", "b", "a", "b"]);
    scheduler.stop();
  });

  it("a new check does not run at once: it waits for its bucket", async () => {
    const { scheduler, time, sent } = setup();
    scheduler.schedule(fakeCheck("a", { intervalS: 15 }));
    await time.advance(999);
    assert.equal(sent.length, 0);
    await time.advance(1);
    assert.deepEqual(sent.map((s) => s.id), ["a"]);
    scheduler.stop();
  });

  it("interval 0 is dispatched once, immediately; 0 < interval < 1 is refused", async () => {
    const { scheduler, time, sent } = setup();
    scheduler.schedule(fakeCheck("once", { intervalS: 0 }));
    assert.deepEqual(sent.map((s) => s.id), ["once"]);
    await time.advance(5000);
    assert.equal(sent.length, 1);
    assert.throws(
      () => scheduler.schedule(fakeCheck("fast", { intervalS: 0.5 })),
      /Schedule interval must be greater than 1s or 0/,
    );
    scheduler.stop();
  });

  it("unschedule() removes a check: its bucket skips it", async () => {
    const { scheduler, time, sent } = setup();
    scheduler.schedule(fakeCheck("a", { intervalS: 2 }));
    scheduler.schedule(fakeCheck("b", { intervalS: 2 }));
    assert.equal(scheduler.unschedule("a"), true);
    assert.equal(scheduler.unschedule("a"), false);
    await time.advance(4000);
    assert.deepEqual(sent.map((s) => s.id), ["b", "b"]);
    scheduler.stop();
  });

  it("a blocked dispatch holds the queue, and the late tick logs 'running behind'", async () => {
    const { scheduler, time, sent, lines, block } = setup();
    let release: () => void = () => {};
    block(new Promise<void>((r) => (release = r)));
    scheduler.schedule(fakeCheck("a", { intervalS: 2 }));
    scheduler.schedule(fakeCheck("b", { intervalS: 2 })); // interval 2: step 1, so bucket 1
    scheduler.schedule(fakeCheck("c", { intervalS: 2 })); // bucket 0
    await time.advance(1000); // bucket 0: a, then blocked before c
    assert.deepEqual(sent.map((s) => s.id), ["a"]);
    await time.advance(3000); // ticks while blocked are skipped
    assert.deepEqual(sent.map((s) => s.id), ["a"]);
    block(Promise.resolve());
    release();
    await time.advance(1000);
    assert.deepEqual(sent.map((s) => s.id), ["a", "c", "b"]);
    assert.ok(
      lines.some((l) => l.includes("Next checks will be running behind the schedule.")),
      lines.join("\n"),
    );
    scheduler.stop();
  });

  it("no jitter: the same order of checks gives the same buckets", () => {
    const a = setup().scheduler;
    const b = setup().scheduler;
    for (let i = 0; i < 40; i++) {
      a.schedule(fakeCheck(`c${i}`, { intervalS: 30 }));
      b.schedule(fakeCheck(`c${i}`, { intervalS: 30 }));
    }
    for (let i = 0; i < 40; i++) assert.equal(a.bucketOf(`c${i}`), b.bucketOf(`c${i}`));
    a.stop();
    b.stop();
  });
});
