/**
 * The compiled binary as a Lambda extension: copied under an extension's name and started
 * without arguments with AWS_LAMBDA_RUNTIME_API set (as Lambda starts what is in
 * /opt/extensions/), driven by a test Runtime API. Ten invocations, each sending DogStatsD
 * metrics and one trace; each invocation's data is at the local intake once the next event
 * arrives, and SHUTDOWN flushes the last one and exits 0 within 2 s.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { createSocket } from "node:dgram";
import { BIN } from "./_binary.ts";
import {
  freePort,
  freeUdpPort,
  type Intake,
  intakeEnv,
  startIntake,
} from "../../scripts/bench/_agent.ts";
import { tempDir } from "../_temp.ts";
import { TestRuntimeApi } from "../_lambda_runtime_api.ts";

const dir = tempDir("outpost-lambda-e2e-");
let intake: Intake;
let api: TestRuntimeApi;

before(async () => {
  intake = await startIntake(BIN, join(dir, "intake"), "1gb");
  api = new TestRuntimeApi();
  await api.start();
});
after(async () => {
  await api.close();
  await intake.stop();
});

function statsd(port: number, line: string): Promise<void> {
  const sock = createSocket("udp4");
  return new Promise((resolve, reject) =>
    sock.send(line, port, "127.0.0.1", (e) => {
      sock.close();
      if (e) reject(e);
      else resolve();
    })
  );
}

/** One trace of two spans in the v0.4 JSON form. */
function trace(i: number) {
  const start = Date.now() * 1e6;
  const span = (id: number, parent: number, name: string) => ({
    trace_id: 1000 + i,
    span_id: id,
    parent_id: parent,
    name,
    resource: `inv-${i}`,
    service: "lambda-e2e",
    start,
    duration: 1_000_000,
    error: 0,
    meta: {},
    metrics: { _sampling_priority_v1: 1 },
  });
  return [[span(1, 0, "aws.lambda"), span(2, 1, "handler.work")]];
}

async function counts() {
  const series = await intake.get("/outpost/intake/series?metric=lambda.e2e.calls");
  const traces = await intake.get("/outpost/intake/traces?service=lambda-e2e");
  return {
    calls: (series.points as Array<{ value: number; interval: number }>)
      .reduce((s, p) => s + p.value * (p.interval || 1), 0),
    spans: traces.count as number,
  };
}

describe("outpost as a Lambda extension", () => {
  it("registers, flushes every invocation, and exits 0 within 2 s of SHUTDOWN", {
    timeout: 60_000,
  }, async () => {
    const ext = join(dir, "extensions");
    mkdirSync(ext);
    const bin = join(ext, "datadog-agent");
    copyFileSync(BIN, bin);
    const dogstatsd = await freeUdpPort();
    const apm = await freePort();
    const proc = Bun.spawn({
      cmd: [bin],
      env: {
        PATH: process.env.PATH ?? "",
        AWS_LAMBDA_RUNTIME_API: api.address,
        DD_API_KEY: "e2e-key",
        ...intakeEnv(intake.url),
        DD_HOSTNAME: "lambda-e2e",
        DD_RUN_PATH: join(dir, "run"),
        DD_DOGSTATSD_PORT: String(dogstatsd),
        DD_APM_RECEIVER_PORT: String(apm),
        DD_CMD_PORT: "0",
        DD_EXPVAR_PORT: "0",
        DD_SERVERLESS_DAEMON_PORT: String(await freePort()),
        DD_LOG_LEVEL: "info",
        DD_SERVERLESS_FLUSH_STRATEGY: "end",
      },
      stdout: "ignore",
      stderr: "pipe",
    });
    const stderr = new Response(proc.stderr).text();
    try {
      await api.waitFor("/event/next", 1, 15_000);
      const [register] = api.callsTo("/register");
      assert.equal(register.headers["lambda-extension-name"], "datadog-agent");
      assert.deepEqual(JSON.parse(register.body), { events: ["INVOKE", "SHUTDOWN"] });

      let calls = 0;
      for (let i = 1; i <= 10; i++) {
        api.invoke(`e2e-${i}`);
        await api.waitDelivered(i);
        await statsd(dogstatsd, `lambda.e2e.calls:${i}|c|#inv:${i}`);
        const res = await fetch(`http://127.0.0.1:${apm}/v0.4/traces`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(trace(i)),
        });
        assert.equal(res.status, 200);
        await res.body?.cancel();
        await new Promise((r) => setTimeout(r, 100));
        calls += i;
        // The `end` flush runs once the runtime is done, before the extension's `next`.
        assert.equal(api.callsTo("/event/next").length, i, `invocation ${i} still running`);
        await api.runtimeDone(`e2e-${i}`);
        await api.waitFor("/event/next", i + 1);
        assert.deepEqual(await counts(), { calls, spans: 2 * i }, `end of invocation ${i}`);
      }
      const shutdownAt = Date.now();
      api.shutdown();
      const code = await proc.exited;
      const took = Date.now() - shutdownAt;
      assert.equal(code, 0, await stderr);
      assert.ok(took < 2_000, `exited ${took} ms after SHUTDOWN`);
      assert.deepEqual(await counts(), { calls, spans: 20 });
      assert.match(await stderr, /ready in \d+ ms/);
    } finally {
      proc.kill("SIGKILL");
    }
  });

  it("with a config it cannot use, names the key, registers, idles, and never fails the init", {
    timeout: 30_000,
  }, async () => {
    const own = new TestRuntimeApi();
    await own.start();
    const proc = Bun.spawn({
      cmd: [BIN, "lambda"],
      env: {
        PATH: process.env.PATH ?? "",
        AWS_LAMBDA_RUNTIME_API: own.address,
        DD_API_KEY: "e2e-key",
        ...intakeEnv(intake.url),
        DD_RUN_PATH: join(dir, "run-bad"),
        DD_DOGSTATSD_PORT: "not-a-port",
      },
      stdout: "ignore",
      stderr: "pipe",
    });
    const stderr = new Response(proc.stderr).text();
    try {
      await own.waitFor("/event/next", 1, 15_000);
      for (let i = 1; i <= 2; i++) {
        own.invoke(`bad-${i}`);
        await own.waitFor("/event/next", i + 1);
      }
      own.shutdown();
      const code = await proc.exited;
      const text = await stderr;
      assert.equal(code, 0, text);
      assert.match(text, /DD_DOGSTATSD_PORT/);
      assert.match(text, /registers and stays idle/);
      assert.equal(own.callsTo("/init/error").length, 0, "the function's init is not failed");
    } finally {
      proc.kill("SIGKILL");
      await own.close();
    }
  });
});
