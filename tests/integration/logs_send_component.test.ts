/**
 * The logs component as the agent builds it, in one process: the real sources (a file tailer),
 * the sender, the forwarder's `logs` pipeline and the auditor, to the real local intake. The
 * registry offset moves only once the intake accepted the lines, and a stop during an outage
 * leaves it where delivery stopped.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runtime } from "../../src/runtime/mod.ts";
import { Registry } from "../../src/telemetry/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { buildIntake, pointAtIntake } from "../../src/intake/mod.ts";
import {
  Auditor,
  buildLogs,
  buildLogSources,
  LOGS_PIPELINE,
  logsComponentSettings,
  type LogsSettings,
  logsSettings,
} from "../../src/logs/mod.ts";
import { parseLogsConfig } from "../../src/logs/_settings.ts";
import { testConfig, testForwarder, until } from "../unit/forwarder/_helpers.ts";
import { tempDir } from "../_temp.ts";

test("buildLogs(): file lines reach the intake and the registry follows delivery only", {
  timeout: 30_000,
}, async () => {
  const dir = tempDir("outpost-logs-component-");
  const file = join(dir, "app.log");
  writeFileSync(file, "first\nsecond\n");
  const intake = buildIntake({ dataDir: join(dir, "intake") }, { runtime }).component;
  await intake.start();
  const config = pointAtIntake(
    testConfig({
      api_key: "k",
      run_path: join(dir, "run"),
      forwarder_storage_path: join(dir, "fwd"),
      forwarder_backoff_base: 0.05,
      forwarder_backoff_max: 0.2,
      logs_enabled: true,
      logs_config: { ...testConfig().logs_config, batch_wait: 0.05 },
    }),
    intake.url,
  );
  const registry = new Registry();
  const logger = createLogger({ level: "off" });
  const settings = { ...logsComponentSettings(config, "7.60.0"), stopGraceMs: 300 };
  const forwarder = testForwarder(runtime, {
    config,
    registry,
    logger,
    retryIntervalMs: 50,
    validateApiKeys: false,
    pipelines: { [LOGS_PIPELINE]: settings.sender.reliable },
  }).component;
  const parsed = parseLogsConfig(
    { type: "file", path: file, service: "comp", source: "it", start_position: "beginning" },
    { integration: "app", configFile: "", globalRules: [], autoMultiLine: false },
  );
  if ("error" in parsed) throw new Error(parsed.error);
  const sourcesSettings: LogsSettings = {
    ...logsSettings(config, null),
    registryPath: join(dir, "run", "registry.json"),
    sources: [parsed.config],
    filePollMs: 20,
    scanPeriodMs: 100,
  };
  const auditor = new Auditor({ path: sourcesSettings.registryPath, flushMs: 50 });
  const logs = buildLogs(settings, {
    runtime,
    registry,
    logger,
    submit: (p) => forwarder.submit(p),
    auditor,
    sources: (out) =>
      buildLogSources(sourcesSettings, {
        runtime,
        registry,
        logger,
        hostname: "h",
        auditor,
        ...out,
      }),
  })!.component;
  const offset = () => {
    try {
      const reg = JSON.parse(readFileSync(sourcesSettings.registryPath, "utf8"));
      return Number(reg.Registry[`file:${file}`]?.Offset ?? 0);
    } catch {
      return 0;
    }
  };
  const atIntake = async () =>
    (await (await fetch(`${intake.url}/outpost/intake/logs?service=comp`)).json()).logs
      .map((l: { message: string }) => l.message);

  await forwarder.start();
  await logs.start();
  assert.ok(await until(() => offset() === 13, 10_000), `registry at ${offset()}`);
  assert.deepEqual(await atIntake(), ["first", "second"]);

  // The intake fails: lines are read (or wait in the file) but the offset stays.
  await fetch(`${intake.url}/outpost/intake/faults`, {
    method: "POST",
    body: JSON.stringify({ status: 503, count: 1_000_000, route: "/api/v2/logs" }),
  });
  appendFileSync(file, "third\n");
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(offset(), 13, "not acknowledged, not advanced");
  await logs.stop();
  await forwarder.stop();
  assert.equal(offset(), 13, "a stop in the outage leaves the offset where delivery stopped");
  assert.deepEqual(await atIntake(), ["first", "second"]);
  await intake.stop();
});
