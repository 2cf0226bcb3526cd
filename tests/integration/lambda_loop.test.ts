/**
 * The Lambda extension mode in process against a test Runtime API: registration, ten
 * invocations whose DogStatsD metrics reach the local intake with each flush, SHUTDOWN inside
 * 2 s, the idle loop without an API key, and `/lambda/flush` in local-test mode.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import * as outpost from "../../mod.ts";
import { lambdaSettings, type LoopStats, runExtension } from "../../src/serverless/mod.ts";
import { lambdaConfig, withIntake } from "./_lambda.ts";
import { EXTENSION_ID, TestRuntimeApi } from "../_lambda_runtime_api.ts";

const { buildAgent, configDefaults, createLogger, runtime } = outpost;

type Series = { points: Array<{ value: number; interval: number }> };

function sendStatsd(port: number, lines: string[]): Promise<void> {
  const sock = createSocket("udp4");
  return new Promise((resolve, reject) =>
    sock.send(lines.join("\n"), port, "127.0.0.1", (e) => {
      sock.close();
      if (e) reject(e);
      else resolve();
    })
  );
}

describe("lambda extension mode", () => {
  it("registers, flushes each invocation's metrics, and stops within 2 s of SHUTDOWN", {
    timeout: 60_000,
  }, async () => {
    await withIntake(async (intakeUrl) => {
      const api = new TestRuntimeApi();
      await api.start();
      const config = {
        ...outpost.pointAtIntake(await lambdaConfig("x"), intakeUrl),
        serverless_flush_strategy: "end",
      };
      const settings = lambdaSettings(
        config,
        { AWS_LAMBDA_RUNTIME_API: api.address },
        "/opt/extensions/outpost",
      );
      const logger = createLogger({ level: "off" });
      const stats: LoopStats = { invocations: 0, flushes: 0, failedFlushes: 0 };
      const sum = async () => {
        const q: Series = await (await fetch(
          `${intakeUrl}/outpost/intake/series?metric=lambda.test.calls`,
        )).json();
        // DogStatsD counts arrive as rates per second over their interval.
        return q.points.reduce((s, p) => s + p.value * (p.interval || 1), 0);
      };
      try {
        const run = runExtension({
          runtime,
          settings,
          logger,
          stats,
          buildAgent: () => buildAgent({ runtime, config, configFile: null, logger }),
        });
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
          api.invoke(`req-${i}`);
          assert.equal(
            await api.postTelemetry([{
              type: "platform.start",
              record: { requestId: `req-${i}`, version: "$LATEST" },
            }]),
            200,
          );
          // Invocation i-1 ended when i arrived: its metrics were flushed before this `next`.
          await api.waitFor("/event/next", i + 1);
          assert.equal(await sum(), expected, `at the start of invocation ${i}`);
          // The function's metrics, sent while invocation i runs.
          await sendStatsd(config.dogstatsd_port, [`lambda.test.calls:${i}|c|#inv:${i}`]);
          await new Promise((r) => setTimeout(r, 100));
          expected += i;
        }
        const shutdownAt = Date.now();
        api.shutdown();
        const code = await run;
        const took = Date.now() - shutdownAt;
        assert.equal(code, 0);
        assert.ok(took < 2_000, `stopped ${took} ms after SHUTDOWN`);
        assert.equal(await sum(), expected, "the final flush carried the last invocation");
        assert.equal(stats.invocations, 10);
        assert.equal(stats.failedFlushes, 0);
        const sketches: { count: number } = await (await fetch(
          `${intakeUrl}/outpost/intake/sketches?metric=aws.lambda.enhanced.invocations`,
        )).json();
        assert.equal(sketches.count, 10, "aws.lambda.enhanced.invocations from telemetry");
      } finally {
        await api.close();
      }
    });
  });

  it("without an API key registers, acknowledges every event and exits 0 on SHUTDOWN", async () => {
    const api = new TestRuntimeApi();
    await api.start();
    try {
      const config = await lambdaConfig("");
      const settings = lambdaSettings(config, { AWS_LAMBDA_RUNTIME_API: api.address }, "/x/ext");
      assert.equal(settings.hasApiKey, false);
      let built = 0;
      const stats: LoopStats = { invocations: 0, flushes: 0, failedFlushes: 0 };
      const run = runExtension({
        runtime,
        settings,
        logger: createLogger({ level: "off" }),
        stats,
        buildAgent: () => {
          built++;
          return buildAgent({ runtime, config, configFile: null, logger: createLogger() });
        },
      });
      await api.waitFor("/event/next", 1);
      assert.equal(api.callsTo("/register")[0].headers["lambda-extension-name"], "ext");
      for (let i = 1; i <= 3; i++) {
        api.invoke(`idle-${i}`);
        await api.waitFor("/event/next", i + 1);
      }
      api.shutdown();
      assert.equal(await run, 0);
      assert.equal(built, 0, "no agent is built without a key");
      assert.deepEqual(stats, { invocations: 3, flushes: 0, failedFlushes: 0 });
      assert.equal(api.callsTo("/init/error").length, 0, "the function's init is never failed");
    } finally {
      await api.close();
    }
  });

  it("answers /lambda/hello, and /lambda/flush flushes only with DD_LOCAL_TEST", {
    timeout: 30_000,
  }, async () => {
    for (const localTest of [true, false]) {
      await withIntake(async (intakeUrl) => {
        const api = new TestRuntimeApi();
        await api.start();
        const config = outpost.pointAtIntake(await lambdaConfig("x"), intakeUrl);
        const env = { AWS_LAMBDA_RUNTIME_API: api.address, DD_LOCAL_TEST: String(localTest) };
        const settings = lambdaSettings(config, env, "/opt/extensions/datadog-agent");
        const logger = createLogger({ level: "off" });
        try {
          const run = runExtension({
            runtime,
            settings,
            logger,
            buildAgent: () => buildAgent({ runtime, config, configFile: null, logger }),
          });
          await api.waitFor("/event/next", 1);
          const daemon = `http://127.0.0.1:${config.serverless_daemon_port}`;
          assert.equal((await fetch(`${daemon}/lambda/hello`)).status, 200);
          assert.equal((await fetch(`${daemon}/lambda/nothing`)).status, 404);
          api.invoke("local-1");
          await api.waitFor("/event/next", 2);
          await sendStatsd(config.dogstatsd_port, ["lambda.test.local:3|c"]);
          await new Promise((r) => setTimeout(r, 100));
          const res = await fetch(`${daemon}/lambda/flush`, { method: "POST", body: "{}" });
          assert.equal(res.status, 200);
          assert.deepEqual(await res.json(), {});
          const q: Series = await (await fetch(
            `${intakeUrl}/outpost/intake/series?metric=lambda.test.local`,
          )).json();
          assert.equal(q.points.length, localTest ? 1 : 0, `DD_LOCAL_TEST=${localTest}`);
          api.shutdown();
          assert.equal(await run, 0);
        } finally {
          await api.close();
        }
      });
    }
  });

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
      const settings = lambdaSettings(config, { AWS_LAMBDA_RUNTIME_API: api.address }, "/x/o");
      const logger = createLogger({ level: "off" });
      const stats: LoopStats = { invocations: 0, flushes: 0, failedFlushes: 0 };
      const run = runExtension({
        runtime,
        settings,
        logger,
        stats,
        buildAgent: () => buildAgent({ runtime, config, configFile: null, logger }),
      });
      await api.waitFor("/event/next", 1);
      api.invoke("slow-1");
      await api.waitFor("/event/next", 2);
      await sendStatsd(config.dogstatsd_port, ["lambda.test.lost:1|c"]);
      await new Promise((r) => setTimeout(r, 100));
      const invokedAt = Date.now();
      api.invoke("slow-2", 600);
      await api.waitFor("/event/next", 3);
      const held = Date.now() - invokedAt;
      assert.ok(held < 900, `next came ${held} ms after an INVOKE with a 600 ms deadline`);
      assert.equal(stats.failedFlushes, 1);
      const shutdownAt = Date.now();
      api.shutdown();
      assert.equal(await run, 0);
      assert.ok(Date.now() - shutdownAt < 2_000, "stopped within the 2 s of SHUTDOWN");
    } finally {
      await api.close();
      await silent.close();
    }
  });

  it("adaptive flushing: each of the first invocations, then every 10 s while they are fast", {
    timeout: 30_000,
  }, async () => {
    await withIntake(async (intakeUrl) => {
      const api = new TestRuntimeApi();
      await api.start();
      const config = outpost.pointAtIntake(await lambdaConfig("x"), intakeUrl);
      const settings = lambdaSettings(config, { AWS_LAMBDA_RUNTIME_API: api.address }, "/x/o");
      assert.deepEqual(settings.flushStrategy, { kind: "adaptive" });
      const logger = createLogger({ level: "off" });
      const stats: LoopStats = { invocations: 0, flushes: 0, failedFlushes: 0 };
      try {
        const run = runExtension({
          runtime,
          settings,
          logger,
          stats,
          buildAgent: () => buildAgent({ runtime, config, configFile: null, logger }),
        });
        await api.waitFor("/event/next", 1);
        for (let i = 1; i <= 25; i++) {
          api.invoke(`fast-${i}`);
          await api.waitFor("/event/next", i + 1);
        }
        // Invocations 2 and 3 flushed the ones before; 22 more within a second did not.
        assert.equal(stats.flushes, 2);
        api.shutdown();
        assert.equal(await run, 0);
        assert.deepEqual(stats, { invocations: 25, flushes: 3, failedFlushes: 0 });
      } finally {
        await api.close();
      }
    });
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
        const settings = lambdaSettings(config, { AWS_LAMBDA_RUNTIME_API: api.address }, "/x/o");
        assert.equal(settings.hasApiKey, key !== "");
        const logger = createLogger({ level: "off" });
        const { promise: stopRequested, resolve: stop } = Promise.withResolvers<string>();
        try {
          const run = runExtension({
            runtime,
            settings,
            logger,
            stopRequested,
            buildAgent: () => buildAgent({ runtime, config, configFile: null, logger }),
          });
          await api.waitFor("/event/next", 1);
          api.invoke("signal-1");
          await api.waitFor("/event/next", 2);
          const metric = `lambda.test.signal.${key ? "agent" : "idle"}`;
          await sendStatsd(config.dogstatsd_port, [`${metric}:4|c`]);
          await new Promise((r) => setTimeout(r, 100));
          stop("Received SIGTERM");
          assert.equal(await run, 0, `api_key ${JSON.stringify(key)}`);
          const q: Series = await (await fetch(
            `${intakeUrl}/outpost/intake/series?metric=${metric}`,
          )).json();
          const sum = q.points.reduce((s, p) => s + p.value * p.interval, 0);
          // With a key the metric was flushed before stopping; the idle extension has no agent.
          assert.equal(Math.round(sum), key ? 4 : 0, `api_key ${JSON.stringify(key)}`);
        } finally {
          await api.close();
        }
      }
    });
  });
});
