/**
 * The must-show of issue 15: a real Node function under the real AWS Lambda Runtime Interface
 * Emulator, with the compiled outpost as the extension `/opt/extensions/datadog-agent` (the
 * name datadog-lambda-js looks for). The function (tests/fixtures/lambda-node) is wrapped by
 * datadog-lambda-js, traces a child span with dd-trace, sends a custom distribution and logs
 * with console.log; the real runtime client (aws-lambda-ric) runs it as the emulator's
 * bootstrap. Ten invocations, then SIGTERM (the emulator's SHUTDOWN); at the local intake: the
 * distribution's exact count and sum, one `aws.lambda` trace per invocation holding the `work`
 * span, the function's lines with their request ids, and `aws.lambda.enhanced.invocations` = 10.
 *
 * The on-demand emulator has no Telemetry API (it answers `Telemetry.NotSupported`), so the test
 * puts `startTelemetryStandIn` (tests/e2e/_lambda_rie.ts) between the emulator's Runtime API and
 * both the extension and the runtime: it answers the subscription and posts the documented
 * `platform.start` / `function` / `platform.runtimeDone` / `platform.report` events. The emulator
 * prints the runtime's output rather than delivering it as records, so the stand-in reads the
 * runtime's stdout and posts each line as a text `function` record, timed by the timestamp the
 * runtime client printed at its head (what Lambda itself would stamp it with). The extension
 * in `/opt/extensions` is therefore a two-line script pointing `AWS_LAMBDA_RUNTIME_API` at it and
 * exec'ing the binary (also named `datadog-agent`, under `/opt/outpost`).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { BIN } from "./_binary.ts";
import {
  buildEmulator,
  firstInvoke,
  startEmulator,
  startTelemetryStandIn,
  type TelemetryStandIn,
} from "./_lambda_rie.ts";
import {
  freePort,
  freeUdpPort,
  type Intake,
  intakeEnv,
  startIntake,
} from "../../scripts/bench/_agent.ts";
import { tempDir } from "../_temp.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const FUNCTION_DIR = join(ROOT, "tests", "fixtures", "lambda-node");
const dir = tempDir("outpost-lambda-node-");
let intake: Intake;

function script(path: string, text: string): string {
  writeFileSync(path, `#!/bin/bash\n${text}\n`);
  chmodSync(path, 0o755);
  return path;
}

before(buildEmulator);
before(async () => {
  intake = await startIntake(BIN, join(dir, "intake"), "1gb");
});
after(() => intake.stop());

describe("a Node function with datadog-lambda-js and dd-trace under the emulator", () => {
  let standIn: TelemetryStandIn;
  let why = "";
  before(async () => {
    const runtimeApiPort = await freePort();
    const functionLog = join(dir, "function.log");
    const runtimePid = join(dir, "runtime.pid");
    writeFileSync(functionLog, "");
    standIn = startTelemetryStandIn({
      upstream: `127.0.0.1:${runtimeApiPort}`,
      functionLog,
      runtimePidFile: runtimePid,
      memorySizeMB: 1024,
    });
    const extension = script(
      join(dir, "extension"),
      `AWS_LAMBDA_RUNTIME_API=${standIn.address} exec /opt/outpost/datadog-agent "$@"`,
    );
    // The library's own enhanced metrics are off so that the invocations count is outpost's.
    const bootstrap = script(
      join(dir, "bootstrap"),
      [
        `echo $$ > ${runtimePid}`,
        `cd ${FUNCTION_DIR}`,
        `AWS_LAMBDA_RUNTIME_API=${standIn.address} DD_ENHANCED_METRICS=false exec node ` +
        `${
          join(ROOT, "node_modules/aws-lambda-ric/bin/index.mjs")
        } index.handler >> ${functionLog} 2>&1`,
      ].join("\n"),
    );
    const apm = await freePort();
    const emu = await startEmulator({
      dir,
      bootstrap,
      runtimeApiPort,
      opt: { "extensions/datadog-agent": extension, "outpost/datadog-agent": BIN },
      env: {
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "1024",
        DD_API_KEY: "rie-node-key",
        ...intakeEnv(intake.url),
        DD_SERVICE: "rie-node",
        DD_HOSTNAME: "lambda-rie-node",
        DD_RUN_PATH: join(dir, "run"),
        DD_DOGSTATSD_PORT: String(await freeUdpPort()),
        DD_APM_RECEIVER_PORT: String(apm),
        DD_TRACE_AGENT_PORT: String(apm),
        DD_TRACE_ENABLED: "true",
        DD_CMD_PORT: "0",
        DD_EXPVAR_PORT: "0",
        DD_SERVERLESS_DAEMON_PORT: String(await freePort()),
        DD_SERVERLESS_TELEMETRY_PORT: String(await freePort()),
        DD_SERVERLESS_FLUSH_STRATEGY: "end",
        DD_LOG_LEVEL: "info",
      },
    });
    let logs = "";
    try {
      const first = await firstInvoke(emu, { order: 1 });
      assert.equal(first.order, 1, JSON.stringify(first));
      for (let i = 2; i <= 10; i++) {
        const res = await emu.invoke({ order: i });
        assert.equal(res.order, i, JSON.stringify(res));
      }
      logs = await emu.shutdown();
    } finally {
      emu.kill();
      standIn.stop();
    }
    why = `${logs}\n--- function ---\n${await Bun.file(functionLog).text()}`;
    assert.match(logs, /Registered as datadog-agent/, why);
    assert.match(logs, /Shutdown \(\w+\) after 10 invocations/, why);
    assert.equal(standIn.requestIds.length, 10, why);
  }, { timeout: 180_000 });

  it("the custom distribution: orders 1..10, one sample each", async () => {
    const dist = await intake.get("/outpost/intake/sketches?metric=rie.node.order_value");
    assert.equal(dist.count, 10, `${JSON.stringify(dist)}\n${why}`);
    assert.equal(dist.sum, 55, JSON.stringify(dist));
  });

  it("one aws.lambda root span per invocation, each the parent of a work span", async () => {
    const traces = await intake.get("/outpost/intake/traces");
    const spans = traces.spans as Array<Record<string, any>>;
    const roots = spans.filter((s) => s.name === "aws.lambda");
    assert.equal(roots.length, 10, `${spans.map((s) => s.name).join(",")}\n${why}`);
    const work = spans.filter((s) => s.name === "work");
    assert.equal(work.length, 10);
    for (const root of roots) {
      const child = work.find((w) => String(w.trace_id) === String(root.trace_id));
      assert.ok(child, `no work span in trace ${root.trace_id}`);
      assert.equal(String(child.parent_id), String(root.span_id));
    }
    assert.deepEqual(
      new Set(roots.map((r) => r.meta?.request_id)),
      new Set(standIn.requestIds),
    );
  });

  it("the function's log lines, with their request ids", async () => {
    assert.equal(standIn.subscriptions.length, 1, `no Telemetry API subscription came\n${why}`);
    assert.deepEqual(standIn.subscriptions[0].types, ["platform", "function", "extension"]);
    assert.equal(standIn.failedPosts, 0);
    const got = (await intake.get("/outpost/intake/logs?source=lambda&q=handling%20order"))
      .logs as Array<Record<string, any>>;
    assert.equal(got?.length, 10, `${JSON.stringify(got)}\n${why}`);
    const lines = got.map((l) => JSON.parse(l.message));
    for (const [i, l] of lines.entries()) {
      // aws-lambda-ric prints `<time>\t<request id>\tINFO\t<text>`: the id the extension
      // tagged the line with is the one the runtime printed.
      const printed = /\t([0-9a-f-]{36})\t/.exec(l.message)?.[1];
      assert.equal(l.lambda.request_id, printed, JSON.stringify(l));
      assert.match(l.lambda.arn, /^arn:aws:lambda:[^:]*:[^:]*:function:\S+$/);
      assert.equal(got[i].service, "rie-node");
    }
    assert.deepEqual(new Set(lines.map((l) => l.lambda.request_id)), new Set(standIn.requestIds));
    // The START line of each invocation, made from platform.start.
    const starts = await intake.get("/outpost/intake/logs?source=lambda&q=START%20RequestId");
    assert.equal(starts.count, 10, JSON.stringify(starts));
  });

  it("aws.lambda.enhanced.invocations counts 10", async () => {
    const enhanced = await intake.get(
      "/outpost/intake/sketches?metric=aws.lambda.enhanced.invocations",
    );
    assert.equal(enhanced.count, 10, JSON.stringify(enhanced));
  });
});
