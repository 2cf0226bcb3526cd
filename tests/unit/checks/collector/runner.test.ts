import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { dynamicWorkers, Runner } from "../../../../src/checks/collector/_runner.ts";
import type { SubmitCounts } from "../../../../src/checks/collector/_stats.ts";
import { captureLogger, fakeCheck, FakeTime, never, settle } from "./_fakes.ts";

const none = (): SubmitCounts => ({
  metricSamples: 0,
  events: 0,
  serviceChecks: 0,
  histogramBuckets: 0,
  eventPlatformEvents: {},
});

function setup(o: { workers?: number; timeoutS?: number; counts?: () => SubmitCounts } = {}) {
  const time = new FakeTime();
  const { log, lines } = captureLogger();
  const runner = new Runner({
    workers: o.workers ?? 4,
    timeoutS: o.timeoutS ?? 0,
    log,
    hooks: { commit: o.counts ?? none, isScheduled: () => true },
    now: time.clock,
    monotonic: time.monotonic,
    setTimer: time.setTimer,
  });
  return { runner, time, lines };
}

describe("Runner", () => {
  it("dynamicWorkers() follows the agent's table for check_runners: 0", () => {
    assert.deepEqual([1, 10, 11, 15, 16, 20, 25, 26, 500].map(dynamicWorkers), [
      4,
      4,
      10,
      10,
      15,
      15,
      20,
      25,
      25,
    ]);
  });

  it("submit() runs one run per ID: a second one is dropped and 'already running' logged", async () => {
    const { runner, time, lines } = setup();
    let finish: () => void = () => {};
    const check = fakeCheck("slow:1", {
      intervalS: 15,
      run: () => new Promise((r) => (finish = () => r({ warnings: [] }))),
    });
    await runner.submit(check, time.now);
    await runner.submit(check, time.now);
    await settle();
    assert.equal(check.runs, 1);
    assert.ok(
      lines.some((l) => l.includes("Check slow:1 is already running, skipping execution...")),
    );
    assert.equal(runner.stats().RunningChecks, 1);
    finish();
    await settle();
    assert.equal(runner.stats().RunningChecks, 0);
    await runner.submit(check, time.now);
    await settle();
    assert.equal(check.runs, 2);
  });

  it("a check that never returns does not block the others, even with one runner", async () => {
    const { runner, time } = setup({ workers: 1 });
    const hung = fakeCheck("hung", { intervalS: 5, run: never });
    const ok = fakeCheck("ok", { intervalS: 5 });
    await runner.submit(hung, time.now);
    // The slot is taken: the next submit waits for it…
    let taken = false;
    const waiting = runner.submit(ok, time.now).then(() => (taken = true));
    await settle();
    assert.equal(taken, false);
    // …until the hung run has taken longer than its interval.
    await time.advance(5000);
    await waiting;
    await settle();
    assert.equal(ok.runs, 1);
    assert.equal(runner.statsOf("ok")?.TotalRuns, 1);
    // The hung run still counts as running: it is never started twice.
    await runner.submit(hung, time.now);
    await settle();
    assert.equal(hung.runs, 1);
    assert.deepEqual(Object.keys(runner.stats().Running), ["hung"]);
    // Its stats show it, so status can: running since it started, no run finished.
    const hungStats = runner.statsOf("hung")!;
    assert.equal(hungStats.RunningSince, Math.floor((time.now - 5000) / 1000));
    assert.equal(hungStats.TotalRuns, 0);
    runner.stop();
  });

  it("a run past check_run_timeout is aborted and counted as an error", async () => {
    const { runner, time } = setup({ timeoutS: 2 });
    let aborted: unknown;
    const check = fakeCheck("late", {
      intervalS: 15,
      run: (signal) =>
        new Promise((resolve) => {
          signal.addEventListener("abort", () => {
            aborted = signal.reason;
            resolve({ warnings: [] });
          });
        }),
    });
    await runner.submit(check, time.now);
    await time.advance(2000);
    const s = runner.statsOf("late")!;
    assert.equal(s.TotalErrors, 1);
    assert.equal(s.TotalRuns, 1);
    assert.deepEqual(JSON.parse(s.LastError), [
      { message: "check run exceeded 2s", traceback: "" },
    ]);
    assert.equal((aborted as Error).message, "check run exceeded 2s");
    assert.equal(s.LastSuccessDate, 0);
  });

  it("a throwing check is an error with its stack; LastSuccessDate stays at the last success", async () => {
    const { runner, time } = setup();
    let fail = false;
    const check = fakeCheck("boom", {
      run: () => {
        if (fail) throw new Error("boom");
        return Promise.resolve({ warnings: [] });
      },
    });
    await runner.runNow(check);
    const okDate = runner.statsOf("boom")!.LastSuccessDate;
    assert.equal(okDate, Math.floor(time.now / 1000));
    fail = true;
    time.now += 15_000;
    const s = (await runner.runNow(check))!;
    assert.equal(s.TotalRuns, 2);
    assert.equal(s.TotalErrors, 1);
    assert.equal(s.LastSuccessDate, okDate);
    const [e] = JSON.parse(s.LastError);
    assert.equal(e.message, "boom");
    assert.match(e.traceback, /Error: boom\n\s+at /);
    assert.equal(runner.stats().Errors, 1);
  });

  it("warnings are kept as LastWarnings and counted", async () => {
    const { runner } = setup();
    const check = fakeCheck("warn", { run: () => Promise.resolve({ warnings: ["w1", "w2"] }) });
    const s = (await runner.runNow(check))!;
    assert.deepEqual(s.LastWarnings, ["w1", "w2"]);
    assert.equal(s.TotalWarnings, 2);
    assert.equal(s.LastError, "");
    assert.equal(runner.stats().Warnings, 2);
  });

  it("stats count what the sender counted at each commit; last-run figures move only when > 0", async () => {
    let n = 3;
    const { runner } = setup({
      counts: () => ({
        ...none(),
        metricSamples: n,
        histogramBuckets: n,
        eventPlatformEvents: { "dbm-samples": n },
      }),
    });
    const check = fakeCheck("c");
    await runner.runNow(check);
    n = 0;
    const s = (await runner.runNow(check))!;
    assert.equal(s.MetricSamples, 3);
    assert.equal(s.TotalMetricSamples, 3);
    assert.equal(s.HistogramBuckets, 3);
    assert.deepEqual(s.TotalEventPlatformEvents, { "dbm-samples": 3 });
    assert.equal(s.ExecutionTimes.length, 2);
  });

  it("keeps the last 32 execution times", async () => {
    const { runner } = setup();
    const check = fakeCheck("many");
    for (let i = 0; i < 40; i++) await runner.runNow(check);
    const s = runner.statsOf("many")!;
    assert.equal(s.TotalRuns, 40);
    assert.equal(s.ExecutionTimes.length, 32);
  });

  it("utilization() is the busy fraction of each slot since the start (5 min window)", async () => {
    const { runner, time } = setup({ workers: 2 });
    let finish: () => void = () => {};
    const check = fakeCheck("busy", {
      intervalS: 60,
      run: () => new Promise((r) => (finish = () => r({ warnings: [] }))),
    });
    await runner.submit(check, time.now);
    await time.advance(30_000);
    finish();
    await time.advance(30_000);
    assert.deepEqual(runner.utilization(), [["worker_1", 0.5], ["worker_2", 0]]);
    assert.deepEqual(runner.stats().Workers, {
      Count: 2,
      Instances: { worker_1: { Utilization: 0.5 }, worker_2: { Utilization: 0 } },
    });
    // Ten idle minutes later the busy stretch is out of the window.
    await time.advance(600_000);
    assert.deepEqual(runner.utilization(), [["worker_1", 0], ["worker_2", 0]]);
  });
});
