/**
 * The compiled binary under the real AWS Lambda Runtime Interface Emulator (`aws-lambda-rie`,
 * built by `scripts/tools.ts` into `.tools/bin`). The emulator runs what is in
 * `/opt/extensions/`; the test gives it its own `/opt` through a private mount namespace
 * (`unshare -m`, with a user namespace when not root), so the machine's `/opt` is untouched. The function is a shell
 * bootstrap speaking the Runtime API with curl and sending one DogStatsD count per invocation:
 * ten invocations through the emulator's invoke endpoint, each answered, and after SIGTERM (the
 * emulator's SHUTDOWN) the ten counts are at the local intake and the extension has exited.
 * The Node function with datadog-lambda-js and dd-trace is lambda_node.test.ts.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BIN } from "./_binary.ts";
import { buildEmulator, firstInvoke, startEmulator } from "./_lambda_rie.ts";
import {
  freePort,
  freeUdpPort,
  type Intake,
  intakeEnv,
  startIntake,
} from "../../scripts/bench/_agent.ts";
import { tempDir } from "../_temp.ts";

const dir = tempDir("outpost-lambda-rie-");
let intake: Intake;
const BOOTSTRAP = `#!/bin/bash
API="$AWS_LAMBDA_RUNTIME_API"
H=$(mktemp)
while true; do
  curl -sS -D "$H" -o /dev/null "http://$API/2018-06-01/runtime/invocation/next"
  ID=$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$H" | tr -d '\\r' | cut -d' ' -f2)
  echo -n "rie.test.calls:1|c" > "/dev/udp/127.0.0.1/$DD_DOGSTATSD_PORT"
  curl -sS -o /dev/null -X POST "http://$API/2018-06-01/runtime/invocation/$ID/response" -d '{"ok":true}'
done
`;

before(buildEmulator);
before(async () => {
  intake = await startIntake(BIN, join(dir, "intake"), "1gb");
});
after(() => intake.stop());

describe("outpost under the AWS Lambda Runtime Interface Emulator", () => {
  it("ten invocations answered, their metrics at the intake after SHUTDOWN", {
    timeout: 120_000,
  }, async () => {
    const bootstrap = join(dir, "bootstrap");
    writeFileSync(bootstrap, BOOTSTRAP);
    chmodSync(bootstrap, 0o755);
    const dogstatsd = await freeUdpPort();
    const emu = await startEmulator({
      dir,
      bootstrap,
      opt: { "extensions/datadog-agent": BIN },
      env: {
        DD_API_KEY: "rie-key",
        ...intakeEnv(intake.url),
        DD_HOSTNAME: "lambda-rie",
        DD_RUN_PATH: join(dir, "run"),
        DD_DOGSTATSD_PORT: String(dogstatsd),
        DD_APM_RECEIVER_PORT: String(await freePort()),
        DD_CMD_PORT: "0",
        DD_EXPVAR_PORT: "0",
        DD_SERVERLESS_DAEMON_PORT: String(await freePort()),
        DD_SERVERLESS_FLUSH_STRATEGY: "end",
      },
    });
    try {
      assert.deepEqual(await firstInvoke(emu, {}), { ok: true });
      for (let i = 2; i <= 10; i++) assert.deepEqual(await emu.invoke({}), { ok: true });
      const logs = await emu.shutdown();
      const series = await intake.get("/outpost/intake/series?metric=rie.test.calls");
      const calls = (series.points as Array<{ value: number; interval: number }>)
        .reduce((s, p) => s + p.value * p.interval, 0);
      assert.equal(Math.round(calls), 10, logs);
      assert.match(logs, /Registered as datadog-agent/);
      assert.match(logs, /ready in \d+ ms/);
      assert.match(logs, /Shutdown \(\w+\) after 10 invocations/);
    } finally {
      emu.kill();
    }
  });
});
