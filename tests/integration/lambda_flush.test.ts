/**
 * Flush strategies of the Lambda mode, in process with the real agent against the test
 * Runtime API, whose clock the test moves (invocations seconds or minutes apart take no time):
 * adaptive is `end` for the first 19 invocations and `continuously` or `periodically` from the
 * 20th when they are frequent; `end,<ms>`'s race timer flushes a long invocation; failed
 * flushes back off; SHUTDOWN for a timeout counts `aws.lambda.enhanced.timeouts`; Managed
 * Instances register for SHUTDOWN only and flush in the background.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as outpost from "../../mod.ts";
import { ADAPTIVE_MIN_INVOCATIONS, type LoopStats } from "../../src/serverless/mod.ts";
import {
  countAtIntake,
  distributionCount,
  invoke,
  lambdaConfig,
  runLambda,
  sendStatsd,
  withIntake,
} from "./_lambda.ts";
import { TestClock, TestRuntimeApi } from "../_lambda_runtime_api.ts";

const { runtime } = outpost;

/**
 * Runs invocation `i` (`gapMs` after the last on the test clock): INVOKE, a metric, and the
 * runtimeDone when the extension waits for one; resolves once the extension called `next`.
 */
async function invocation(
  api: TestRuntimeApi,
  clock: TestClock,
  stats: LoopStats,
  o: { i: number; gapMs: number; port: number; metric: string },
): Promise<void> {
  clock.advance(o.gapMs);
  const before = stats.decisions.end;
  await invoke(api, stats, `inv-${o.i}`);
  await sendStatsd(o.port, [`${o.metric}:1|c`]);
  await new Promise((r) => setTimeout(r, 30)); // read by DogStatsD before the runtime is done
  // Only an `end` decision holds `next` until the runtime is done.
  if (stats.decisions.end > before) await api.runtimeDone(`inv-${o.i}`);
  await api.waitFor("/event/next", o.i + 1);
}

/** Starts the extension on `config` with the test clock; returns what the tests drive. */
async function start(config: Awaited<ReturnType<typeof lambdaConfig>>, env = {}) {
  const clock = new TestClock();
  const api = new TestRuntimeApi(clock);
  await api.start();
  const lambda = runLambda(config, api, { now: clock.now, env });
  await api.waitFor("/event/next", 1);
  return { api, clock, ...lambda };
}

describe("lambda flush strategies", () => {
  it(
    "adaptive: end for the first 19 invocations, continuously from the 20th when they are 1 s apart",
    {
      timeout: 60_000,
    },
    async () => {
      await withIntake(async (intakeUrl) => {
        const config = outpost.pointAtIntake(await lambdaConfig("x"), intakeUrl);
        const { api, clock, run, stats, settings } = await start(config);
        assert.deepEqual(settings.flushStrategy, { kind: "adaptive" });
        const metric = "lambda.flush.adaptive";
        try {
          for (let i = 1; i <= 25; i++) {
            await invocation(api, clock, stats, {
              i,
              gapMs: 1_000,
              port: config.dogstatsd_port,
              metric,
            });
            if (i === ADAPTIVE_MIN_INVOCATIONS - 1) {
              assert.deepEqual(stats.decisions, { end: 19, periodic: 0, continuous: 0, dont: 0 });
              assert.equal(stats.doneFlushes, 19, "each flushed once its runtime was done");
              assert.equal(await countAtIntake(intakeUrl, metric), 19);
            }
          }
          // The 20th: 20 s since the extension was ready, the last 20 inside 30 s: continuously;
          // then no flush until 20 s have passed again.
          assert.deepEqual(stats.decisions, { end: 19, periodic: 0, continuous: 1, dont: 5 });
          // Seen 21 s later, the last 20 span 40 s: periodically (a blocking flush now).
          await invocation(api, clock, stats, {
            i: 26,
            gapMs: 21_000,
            port: config.dogstatsd_port,
            metric,
          });
          assert.equal(stats.decisions.periodic, 1);
          api.shutdown();
          assert.equal(await run, 0);
          assert.equal(await countAtIntake(intakeUrl, metric), 26, "the final flush has the rest");
          assert.equal(stats.failedFlushes, 0);
        } finally {
          await api.close();
        }
      });
    },
  );

  it(
    "adaptive stays end while invocations come more than 120 s apart",
    { timeout: 60_000 },
    async () => {
      await withIntake(async (intakeUrl) => {
        const config = outpost.pointAtIntake(await lambdaConfig("x"), intakeUrl);
        const { api, clock, run, stats } = await start(config);
        const metric = "lambda.flush.rare";
        try {
          for (let i = 1; i <= 22; i++) {
            await invocation(api, clock, stats, {
              i,
              gapMs: 121_000,
              port: config.dogstatsd_port,
              metric,
            });
          }
          assert.deepEqual(stats.decisions, { end: 22, periodic: 0, continuous: 0, dont: 0 });
          assert.equal(await countAtIntake(intakeUrl, metric), 22);
          api.shutdown();
          assert.equal(await run, 0);
        } finally {
          await api.close();
        }
      });
    },
  );

  it(
    "end,<ms>: the race timer flushes a long invocation before it is done",
    { timeout: 30_000 },
    async () => {
      await withIntake(async (intakeUrl) => {
        const config = {
          ...outpost.pointAtIntake(await lambdaConfig("x"), intakeUrl),
          serverless_flush_strategy: "end,300",
        };
        const { api, clock, run, stats } = await start(config);
        try {
          // Past the 300 ms since the last flush (the start): `end`, else it would be `dont`.
          clock.advance(1_000);
          await invoke(api, stats, "long-1", 10_000);
          await sendStatsd(config.dogstatsd_port, ["lambda.flush.long:5|c"]);
          await new Promise((r) => setTimeout(r, 800));
          // Still running, its metric already at the intake.
          assert.equal(api.callsTo("/event/next").length, 1);
          assert.ok(stats.raceFlushes >= 1, `${stats.raceFlushes} race flushes`);
          assert.equal(await countAtIntake(intakeUrl, "lambda.flush.long"), 5);
          await api.runtimeDone("long-1");
          await api.waitFor("/event/next", 2);
          assert.equal(stats.doneFlushes, 1);
          api.shutdown();
          assert.equal(await run, 0);
        } finally {
          await api.close();
        }
      });
    },
  );

  it("backs off after a failed flush: the next invocations are not flushed, SHUTDOWN still is", {
    timeout: 30_000,
  }, async () => {
    // An intake that answers 500 to everything, slowly enough to outlive the flush's budget.
    const failing = await runtime.serve({ hostname: "127.0.0.1", port: 0 }, async (req) => {
      await req.body?.cancel();
      return new Response("down", { status: 500 });
    });
    try {
      const config = {
        ...(await lambdaConfig("x")),
        dd_url: `http://127.0.0.1:${failing.port}`,
        serverless_flush_strategy: "end",
      };
      const { api, clock, run, stats } = await start(config);
      try {
        const port = config.dogstatsd_port;
        const metric = "lambda.flush.failing";
        clock.advance(1_000);
        await invoke(api, stats, "fail-1", 500);
        await sendStatsd(port, [`${metric}:1|c`]);
        await new Promise((r) => setTimeout(r, 50));
        await api.runtimeDone("fail-1");
        await api.waitFor("/event/next", 2);
        assert.deepEqual([stats.flushes, stats.failedFlushes], [1, 1]);
        // Within the 2-3 s backoff: decided `dont`, `next` at once without waiting.
        for (let i = 2; i <= 4; i++) {
          await invocation(api, clock, stats, { i, gapMs: 100, port, metric });
        }
        assert.equal(stats.decisions.dont, 3);
        assert.equal(stats.flushes, 1, "no flush during the backoff");
        // Past it: flushed again.
        await invocation(api, clock, stats, { i: 5, gapMs: 4_000, port, metric });
        assert.equal(stats.decisions.end, 2);
        assert.equal(stats.flushes, 2);
        const shutdownAt = Date.now();
        api.shutdown();
        assert.equal(await run, 0);
        assert.ok(Date.now() - shutdownAt < 2_000, "stopped within the 2 s of SHUTDOWN");
        assert.equal(stats.flushes, 3, "SHUTDOWN flushes whatever the backoff");
      } finally {
        await api.close();
      }
    } finally {
      await failing.close();
    }
  });

  it("SHUTDOWN for a timeout counts aws.lambda.enhanced.timeouts once for the last invocation", {
    timeout: 30_000,
  }, async () => {
    for (const told of [false, true]) {
      await withIntake(async (intakeUrl) => {
        const config = {
          ...outpost.pointAtIntake(await lambdaConfig("x"), intakeUrl),
          serverless_flush_strategy: "end",
        };
        const { api, run, stats } = await start(config);
        try {
          await invoke(api, stats, "slow-1", 300);
          // The telemetry may or may not have said so before SHUTDOWN.
          if (told) await api.runtimeDone("slow-1", "timeout");
          await api.waitFor("/event/next", 2);
          const shutdownAt = Date.now();
          api.shutdown("timeout");
          assert.equal(await run, 0);
          assert.ok(Date.now() - shutdownAt < 2_000, "stopped within the 2 s of SHUTDOWN");
          const timeouts = await distributionCount(intakeUrl, "aws.lambda.enhanced.timeouts");
          assert.equal(timeouts, 1, `runtimeDone timeout told: ${told}`);
        } finally {
          await api.close();
        }
      });
    }
  });

  it("Managed Instances: SHUTDOWN only, schema 2025-01-29, a background flush without INVOKE", {
    timeout: 30_000,
  }, async () => {
    await withIntake(async (intakeUrl) => {
      const config = {
        ...outpost.pointAtIntake(await lambdaConfig("x"), intakeUrl),
        serverless_flush_strategy: "continuously,200",
      };
      const env = { AWS_LAMBDA_INITIALIZATION_TYPE: "lambda-managed-instances" };
      const { api, run, stats, settings } = await start(config, env);
      try {
        assert.equal(settings.managedInstances, true);
        assert.deepEqual(JSON.parse(api.callsTo("/register")[0].body), { events: ["SHUTDOWN"] });
        const sub = JSON.parse(api.callsTo("/2022-07-01/telemetry")[0].body);
        assert.equal(sub.schemaVersion, "2025-01-29");
        // Invocations are told by telemetry only.
        await api.postTelemetry([{ type: "platform.start", record: { requestId: "mi-1" } }]);
        await sendStatsd(config.dogstatsd_port, ["lambda.flush.managed:7|c"]);
        const end = Date.now() + 5_000;
        while (await countAtIntake(intakeUrl, "lambda.flush.managed") !== 7) {
          assert.ok(Date.now() < end, "the background flush delivered the metric");
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(api.callsTo("/event/next").length, 1, "flushed while `next` waits");
        assert.ok(stats.flushes >= 1);
        await sendStatsd(config.dogstatsd_port, ["lambda.flush.managed:3|c"]);
        await new Promise((r) => setTimeout(r, 50));
        const shutdownAt = Date.now();
        api.shutdown();
        assert.equal(await run, 0);
        assert.ok(Date.now() - shutdownAt < 2_000, "stopped within the 2 s of SHUTDOWN");
        assert.equal(await countAtIntake(intakeUrl, "lambda.flush.managed"), 10);
        assert.equal(
          await distributionCount(intakeUrl, "aws.lambda.enhanced.invocations"),
          1,
          "the invocation telemetry told",
        );
        assert.equal(stats.invocations, 0, "no INVOKE");
      } finally {
        await api.close();
      }
    });
  });
});
