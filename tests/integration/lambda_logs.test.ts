/**
 * The function's logs in Lambda mode, in process: a test Runtime API posts Telemetry API batches
 * with `function` and `extension` records around each invocation, and the lines reach the local
 * intake through the logs component's sender, tagged with the ARN and the request id, with the
 * START/END/REPORT lines, the processing rules applied, each invocation's lines delivered by the
 * flush that follows it.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as outpost from "../../mod.ts";
import { lambdaSettings, runExtension } from "../../src/serverless/mod.ts";
import { lambdaConfig, withIntake } from "./_lambda.ts";
import { TestRuntimeApi } from "../_lambda_runtime_api.ts";

const { buildAgent, createLogger, runtime } = outpost;

interface Line {
  message: { message: string; lambda: { arn: string; request_id: string | null } };
  service: string;
  ddsource: string;
  ddtags: string;
  hostname: string;
  status: string;
}

async function intakeLines(intakeUrl: string): Promise<Line[]> {
  const q = await (await fetch(`${intakeUrl}/outpost/intake/logs?source=lambda`)).json();
  return (q.logs as Array<Record<string, string>>).map((l) => ({
    ...l,
    message: JSON.parse(l.message),
  })) as unknown as Line[];
}

describe("lambda extension mode: the function's logs", () => {
  it("sends function and extension records with their request ids, flushed per invocation", {
    timeout: 60_000,
  }, async () => {
    await withIntake(async (intakeUrl) => {
      const api = new TestRuntimeApi();
      await api.start();
      const base = outpost.pointAtIntake(await lambdaConfig("x"), intakeUrl);
      const config = {
        ...base,
        logs_enabled: true,
        serverless_flush_strategy: "end",
        tags: ["team:lambda"],
        logs_config: {
          ...base.logs_config,
          processing_rules: [{
            type: "mask_sequences" as const,
            name: "secrets",
            pattern: "secret=\\w+",
            replace_placeholder: "secret=[masked]",
          }],
        },
      };
      const env = { AWS_LAMBDA_RUNTIME_API: api.address, AWS_REGION: "us-east-1" };
      const settings = lambdaSettings(config, env, "/opt/extensions/outpost");
      const logger = createLogger({ level: "off" });
      try {
        const run = runExtension({
          runtime,
          settings,
          logger,
          service: "checkout",
          buildAgent: () => buildAgent({ runtime, config, configFile: null, logger, lambda: true }),
        });
        await api.waitFor("/event/next", 1);
        const sub = JSON.parse(api.callsTo("/2022-07-01/telemetry")[0].body);
        assert.deepEqual(sub.types, ["platform", "function", "extension"]);
        // Init-phase output, before any invocation.
        assert.equal(
          await api.postTelemetry([
            { type: "function", record: "init: connecting\n" },
            { type: "extension", record: "some-extension: ready" },
          ]),
          200,
        );
        for (let i = 1; i <= 3; i++) {
          const id = `req-${i}`;
          api.invoke(id);
          await api.waitFor("/event/next", i + 1);
          // Invocation i-1's lines were delivered by the flush before this `next`.
          const before = await intakeLines(intakeUrl);
          const previous = `req-${i - 1}`;
          if (i > 1) {
            assert.ok(
              before.some((l) => l.message.message.startsWith(`REPORT RequestId: ${previous}\t`)),
              `invocation ${i - 1}'s REPORT line at the start of ${i}: ${
                JSON.stringify(before.map((l) => l.message.message))
              }`,
            );
          }
          assert.equal(
            await api.postTelemetry([
              { type: "platform.start", record: { requestId: id, version: "$LATEST" } },
              {
                type: "function",
                record: `2026-01-01T00:00:00.000Z\t${id}\tINFO\thandling ${i}\n`,
              },
              { type: "function", record: { level: "ERROR", message: `failed ${i} secret=abc` } },
              {
                type: "platform.runtimeDone",
                record: { requestId: id, status: "success", metrics: { durationMs: 10 } },
              },
              {
                type: "platform.report",
                record: {
                  requestId: id,
                  status: "success",
                  metrics: {
                    durationMs: 12,
                    billedDurationMs: 12,
                    memorySizeMB: 128,
                    maxMemoryUsedMB: 60,
                    ...(i === 1 ? { initDurationMs: 100 } : {}),
                  },
                },
              },
            ]),
            200,
          );
        }
        api.shutdown();
        assert.equal(await run, 0);

        const lines = await intakeLines(intakeUrl);
        const arn = "arn:aws:lambda:us-east-1::function:outpost-test";
        assert.equal(lines.length, 2 + 3 * 5, JSON.stringify(lines.map((l) => l.message)));
        for (const l of lines) {
          assert.equal(l.ddsource, "lambda");
          assert.equal(l.service, "checkout");
          assert.equal(l.hostname, arn);
          assert.equal(l.message.lambda.arn, arn);
          assert.ok(l.ddtags.split(",").includes("functionname:outpost-test"), l.ddtags);
          assert.ok(l.ddtags.split(",").includes("team:lambda"), l.ddtags);
        }
        const byId = (id: string) =>
          lines.filter((l) => l.message.lambda.request_id === id).map((l) => l.message.message);
        const [init, ext, ...first] = byId("req-1");
        assert.equal(init, "init: connecting");
        assert.equal(ext, "some-extension: ready");
        assert.deepEqual(first.slice(0, 4), [
          "START RequestId: req-1 Version: $LATEST",
          "2026-01-01T00:00:00.000Z\treq-1\tINFO\thandling 1",
          '{"level":"ERROR","message":"failed 1 secret=[masked]"}',
          "END RequestId: req-1",
        ]);
        assert.match(
          first[4],
          /^REPORT RequestId: req-1\tDuration: 12\.00 ms\t.*\tInit Duration: 100\.00 ms$/,
        );
        for (const i of [2, 3]) {
          const got = byId(`req-${i}`);
          assert.equal(got.length, 5, JSON.stringify(got));
          assert.ok(!got[4].includes("Init Duration"), got[4]);
        }
        const errors = lines.filter((l) => l.status === "error").map((l) => l.message.message);
        assert.equal(errors.length, 3, JSON.stringify(errors));
      } finally {
        await api.close();
      }
    });
  });
});
