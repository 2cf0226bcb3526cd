/**
 * The Lambda extension mode in process against a test Runtime API: registration, ten
 * invocations whose DogStatsD metrics reach the local intake with each flush, SHUTDOWN inside
 * 2 s, the idle loop without an API key, and `/lambda/flush` in local-test mode.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import * as outpost from "../../mod.ts";
import { type LoopStats, runExtension } from "../../src/serverless/mod.ts";
import { lambdaSettings } from "../../src/serverless/mod.ts";
import { freePort } from "../../scripts/bench/_agent.ts";
import { tempDir } from "../_temp.ts";
import { EXTENSION_ID, TestRuntimeApi } from "../_lambda_runtime_api.ts";

const { buildAgent, buildIntake, configDefaults, createLogger, intakeSettings, runtime } = outpost;

async function freeUdpPort(): Promise<number> {
  const probe = createSocket("udp4");
  await new Promise<void>((resolve) => probe.bind(0, "127.0.0.1", resolve));
  const { port } = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

type Series = { points: Array<{ value: number; interval: number }> };

/** An agent config on free ports, sending to `intakeUrl`. */
async function lambdaConfig(apiKey: string) {
  const base = {
    ...configDefaults(),
    api_key: apiKey,
    run_path: tempDir("outpost-lambda-"),
    hostname: "lambda-test",
    cmd_port: 0,
    expvar_port: 0,
    dogstatsd_port: await freeUdpPort(),
    serverless_daemon_port: await freePort(),
    apm_config: { ...configDefaults().apm_config, receiver_port: 0 },
  };
  return base;
}

async function withIntake<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const config = { ...configDefaults(), run_path: tempDir("outpost-lambda-intake-") };
  const intake = buildIntake(intakeSettings(config), { runtime });
  await intake.component.start();
  try {
    return await fn(intake.component.url);
  } finally {
    await intake.component.stop();
  }
}

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
      const config = outpost.pointAtIntake(await lambdaConfig("x"), intakeUrl);
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

        let expected = 0;
        for (let i = 1; i <= 10; i++) {
          api.invoke(`req-${i}`);
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
      } finally {
        await api.close();
      }
    });
  });
});
