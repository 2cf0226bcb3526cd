/**
 * The Lambda extension mode in process against a test Runtime API: registration, ten
 * invocations whose DogStatsD metrics reach the local intake in the flush right after each
 * `platform.runtimeDone`, SHUTDOWN inside 2 s, the idle loop without an API key, and
 * `/lambda/flush` in local-test mode. Flush strategies: lambda_flush.test.ts.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as outpost from "../../mod.ts";
import { newLoopStats } from "../../src/serverless/mod.ts";
import {
  countAtIntake,
  distributionCount,
  invoke,
  lambdaConfig,
  runLambda,
  sendStatsd,
  withIntake,
} from "./_lambda.ts";
import { EXTENSION_ID, TestRuntimeApi } from "../_lambda_runtime_api.ts";

const { buildAgent, configDefaults, createLogger, runtime } = outpost;

type Series = { points: Array<{ value: number; interval: number }> };

describe("lambda extension mode", () => {
  it(
    "registers, flushes each invocation's metrics once its runtime is done, and stops within 2 s of SHUTDOWN",
    {
      timeout: 60_000,
    },
    async () => {
      await withIntake(async (intakeUrl) => {
        const api = new TestRuntimeApi();
        await api.start();
        const config = {
          ...outpost.pointAtIntake(await lambdaConfig("x"), intakeUrl),
          serverless_flush_strategy: "end",
        };
        try {
          const { run, stats } = runLambda(config, api);
          await api.waitFor("/event/next", 1);
          const [register] = api.callsTo("/register");
          assert.equal(register.method, "POST");
          assert.equal(register.headers["lambda-extension-name"], "outpost");
          assert.equal(register.headers["lambda-extension-accept-feature"], "accountId");
          assert.deepEqual(JSON.parse(register.body), { events: ["INVOKE", "SHUTDOWN"] });
          assert.equal(
            api.callsTo("/event/next")[0].headers["lambda-extension-identifier"],
            EXTENSION_ID,
          );

          const [subscribe] = api.callsTo("/2022-07-01/telemetry");
          assert.equal(subscribe.method, "PUT");
          const sub = JSON.parse(subscribe.body);
          assert.equal(sub.schemaVersion, "2022-12-13");
          assert.deepEqual(sub.types, ["platform", "function", "extension"]);
          assert.match(sub.destination.URI, /^http:\/\/sandbox\.localdomain:\d+\/$/);
          assert.deepEqual(sub.buffering, { maxItems: 1000, maxBytes: 262144, timeoutMs: 25 });

          let expected = 0;
          for (let i = 1; i <= 10; i++) {
            await invoke(api, stats, `req-${i}`);
            assert.equal(
              await api.postTelemetry([{
                type: "platform.start",
                record: { requestId: `req-${i}`, version: "$LATEST" },
              }]),
              200,
            );
            // The function's metrics, sent while invocation i runs, and a library's own
            // invocation count, which the extension drops (it counts them itself).
            await sendStatsd(config.dogstatsd_port, [
              `lambda.test.calls:${i}|c|#inv:${i}`,
              "aws.lambda.enhanced.invocations:1|d",
            ]);
            expected += i;
            await new Promise((r) => setTimeout(r, 100));
            assert.equal(api.callsTo("/event/next").length, i, "no `next` before runtimeDone");
            const doneAt = Date.now();
            assert.equal(await api.runtimeDone(`req-${i}`), 200);
            await api.waitFor("/event/next", i + 1);
            // Flushed between runtimeDone and `next`: the invocation's own metrics are there.
            assert.equal(
              await countAtIntake(intakeUrl, "lambda.test.calls"),
              expected,
              `after ${i}`,
            );
            assert.ok(
              Date.now() - doneAt < 1_500,
              `next ${Date.now() - doneAt} ms after runtimeDone`,
            );
          }
          assert.equal(stats.doneFlushes, 10);
          const shutdownAt = Date.now();
          api.shutdown();
          const code = await run;
          const took = Date.now() - shutdownAt;
          assert.equal(code, 0);
          assert.ok(took < 2_000, `stopped ${took} ms after SHUTDOWN`);
          assert.equal(stats.invocations, 10);
          assert.equal(stats.failedFlushes, 0);
          assert.equal(stats.flushes, 11, "one per invocation and the final one");
          assert.equal(
            await distributionCount(intakeUrl, "aws.lambda.enhanced.invocations"),
            10,
            "aws.lambda.enhanced.invocations from telemetry",
          );
          // As Datadog's serverless agents: no host on metrics from a sandbox.
          const series: { points: Array<{ host: string }> } = await (await fetch(
            `${intakeUrl}/outpost/intake/series?metric=lambda.test.calls`,
          )).json();
          assert.deepEqual([...new Set(series.points.map((p) => p.host))], [""]);
          const enhanced: { sketches: Array<{ host: string }> } = await (await fetch(
            `${intakeUrl}/outpost/intake/sketches?metric=aws.lambda.enhanced.invocations`,
          )).json();
          assert.deepEqual([...new Set(enhanced.sketches.map((s) => s.host))], [""]);
        } finally {
          await api.close();
        }
      });
    },
  );

  it("without an API key registers, acknowledges every event and exits 0 on SHUTDOWN", async () => {
    const api = new TestRuntimeApi();
    await api.start();
    try {
      const config = await lambdaConfig("");
      let built = 0;
      const { run, settings, stats } = runLambda(config, api, {
        execPath: "/x/ext",
        buildAgent: () => {
          built++;
          return buildAgent({ runtime, config, configFile: null, logger: createLogger() });
        },
      });
      assert.equal(settings.hasApiKey, false);
      await api.waitFor("/event/next", 1);
      assert.equal(api.callsTo("/register")[0].headers["lambda-extension-name"], "ext");
      for (let i = 1; i <= 3; i++) {
        api.invoke(`idle-${i}`);
        await api.waitFor("/event/next", i + 1);
      }
      api.shutdown();
      assert.equal(await run, 0);
      assert.equal(built, 0, "no agent is built without a key");
      const idle = newLoopStats();
      idle.invocations = 3;
      idle.decisions.dont = 3;
      assert.deepEqual(stats, idle);
      assert.equal(api.callsTo("/init/error").length, 0, "the function's init is never failed");
    } finally {
      await api.close();
    }
  });

  it(
    "answers /lambda/hello, and /lambda/flush flushes (and ends the invocation) only with DD_LOCAL_TEST",
    {
      timeout: 30_000,
    },
    async () => {
      for (const localTest of [true, false]) {
        await withIntake(async (intakeUrl) => {
          const api = new TestRuntimeApi();
          await api.start();
          const config = outpost.pointAtIntake(await lambdaConfig("x"), intakeUrl);
          try {
            const { run, stats } = runLambda(config, api, {
              env: { DD_LOCAL_TEST: String(localTest) },
              execPath: "/opt/extensions/datadog-agent",
            });
            await api.waitFor("/event/next", 1);
            const daemon = `http://127.0.0.1:${config.serverless_daemon_port}`;
            assert.equal((await fetch(`${daemon}/lambda/hello`)).status, 200);
            assert.equal((await fetch(`${daemon}/lambda/nothing`)).status, 404);
            await invoke(api, stats, "local-1");
            await sendStatsd(config.dogstatsd_port, ["lambda.test.local:3|c"]);
            await new Promise((r) => setTimeout(r, 100));
            const res = await fetch(`${daemon}/lambda/flush`, { method: "POST", body: "{}" });
            assert.equal(res.status, 200);
            assert.deepEqual(await res.json(), {});
            const q: Series = await (await fetch(
              `${intakeUrl}/outpost/intake/series?metric=lambda.test.local`,
            )).json();
            assert.equal(q.points.length, localTest ? 1 : 0, `DD_LOCAL_TEST=${localTest}`);
            if (localTest) {
              // The flush also told the end of the invocation: `next` follows without telemetry.
              await api.waitFor("/event/next", 2, 1_000);
            } else await api.runtimeDone("local-1");
            api.shutdown();
            assert.equal(await run, 0);
          } finally {
            await api.close();
          }
        });
      }
    },
  );

  it("an intake that never answers does not hold `next` past the invocation's deadline", {
    timeout: 30_000,
  }, async () => {
    // Accepts connections and never answers, like an intake behind a black hole.
    const silent = await runtime.listenTcp("127.0.0.1", 0, {
      onConnection: () => ({ onData() {}, onClose() {} }),
    });
    const api = new TestRuntimeApi();
    await api.start();
    try {
      const config = {
        ...(await lambdaConfig("x")),
        dd_url: `http://127.0.0.1:${silent.port}`,
      };
      const { run, stats } = runLambda(config, api, { execPath: "/x/o" });
      await api.waitFor("/event/next", 1);
      const invokedAt = Date.now();
      await invoke(api, stats, "slow-1", 600);
      await sendStatsd(config.dogstatsd_port, ["lambda.test.lost:1|c"]);
      await new Promise((r) => setTimeout(r, 100));
      await api.runtimeDone("slow-1");
      await api.waitFor("/event/next", 2);
      const held = Date.now() - invokedAt;
      assert.ok(held < 900, `next came ${held} ms after an INVOKE with a 600 ms deadline`);
      assert.deepEqual([stats.doneFlushes, stats.failedFlushes], [1, 1]);
      const shutdownAt = Date.now();
      api.shutdown();
      assert.equal(await run, 0);
      assert.ok(Date.now() - shutdownAt < 2_000, "stopped within the 2 s of SHUTDOWN");
    } finally {
      await api.close();
      await silent.close();
    }
  });

  it("a stop asked outside SHUTDOWN (a signal) flushes and stops, idle or not", {
    timeout: 30_000,
  }, async () => {
    await withIntake(async (intakeUrl) => {
      for (const key of ["x", ""]) {
        const api = new TestRuntimeApi();
        await api.start();
        // pointAtIntake gives a keyless config the intake's key: set the URL by hand instead.
        const config = {
          ...await lambdaConfig(key),
          dd_url: intakeUrl,
          apm_config: { ...configDefaults().apm_config, receiver_port: 0, apm_dd_url: intakeUrl },
          serverless_flush_strategy: "end",
        };
        const { promise: stopRequested, resolve: stop } = Promise.withResolvers<string>();
        try {
          const { run, settings, stats } = runLambda(config, api, {
            execPath: "/x/o",
            stopRequested,
          });
          assert.equal(settings.hasApiKey, key !== "");
          await api.waitFor("/event/next", 1);
          await invoke(api, stats, "signal-1");
          const metric = `lambda.test.signal.${key ? "agent" : "idle"}`;
          await sendStatsd(config.dogstatsd_port, [`${metric}:4|c`]);
          await new Promise((r) => setTimeout(r, 100));
          stop("Received SIGTERM");
          assert.equal(await run, 0, `api_key ${JSON.stringify(key)}`);
          // With a key the metric was flushed before stopping; the idle extension has no agent.
          assert.equal(
            await countAtIntake(intakeUrl, metric),
            key ? 4 : 0,
            `api_key ${JSON.stringify(key)}`,
          );
        } finally {
          await api.close();
        }
      }
    });
  });
});
