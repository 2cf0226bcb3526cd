import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { configDefaults } from "../../../src/config/mod.ts";
import type { LogMessage } from "../../../src/logs/mod.ts";
import { eventJson } from "../../../src/logs/_batch.ts";
import {
  LambdaLogs,
  type LambdaLogsSettings,
  lambdaLogsSettings,
  MAX_HELD,
  subscriptionTypes,
} from "../../../src/serverless/_logs.ts";
import { EnhancedMetrics, type TelemetryEvent } from "../../../src/serverless/_telemetry.ts";

const ARN = "arn:aws:lambda:us-east-1:123456789012:function:Fn";
const utf8 = new TextDecoder();

function collect(settings: Partial<LambdaLogsSettings> = {}) {
  const out: LogMessage[] = [];
  const logs = new LambdaLogs({
    settings: { ...lambdaLogsSettings(configDefaults(), {}), ...settings },
    arn: ARN,
    service: "fn",
    tags: ["functionname:fn", "team:a"],
    output: (m) => out.push(m),
  });
  const lines = () => out.map((m) => [utf8.decode(m.content), m.lambda?.requestId, m.status]);
  return { logs, out, lines };
}

/** Events one second apart from a base time, in the given order. */
function at(...events: Array<[number, string, unknown]>): TelemetryEvent[] {
  return events.map(([s, type, record]) => ({
    time: new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString(),
    type,
    record,
  }));
}

describe("lambdaLogsSettings", () => {
  const cases: Array<[Record<string, string>, boolean]> = [
    [{}, true],
    [{ DD_LOGS_ENABLED: "false" }, false],
    [{ DD_LOGS_ENABLED: "true" }, true],
    [{ DD_SERVERLESS_LOGS_ENABLED: "false" }, false],
    [{ DD_SERVERLESS_LOGS_ENABLED: "false", DD_LOGS_ENABLED: "true" }, true],
    [{ DD_SERVERLESS_LOGS_ENABLED: "true", DD_LOGS_ENABLED: "false" }, true],
    [{ DD_SERVERLESS_LOGS_ENABLED: "false", DD_LOGS_ENABLED: "false" }, false],
  ];
  for (const [env, expected] of cases) {
    it(`${JSON.stringify(env)} → logs ${expected ? "on" : "off"}`, () => {
      // The config as the loader makes it from the same variables.
      const config = {
        ...configDefaults(),
        logs_enabled: env.DD_LOGS_ENABLED === "true",
        serverless_logs_enabled: env.DD_SERVERLESS_LOGS_ENABLED !== "false",
      };
      assert.equal(lambdaLogsSettings(config, env).enabled, expected);
    });
  }

  it("reads lambda_logs_type, warns of unknown types, and skips a bad rule with a warning", () => {
    const config = configDefaults();
    const s = lambdaLogsSettings({
      ...config,
      logs_config: {
        ...config.logs_config,
        lambda_logs_type: " Function  bogus function ",
        processing_rules: [{
          type: "exclude_at_match",
          name: "bad",
          pattern: "(",
          replace_placeholder: "",
        }],
      },
    }, {});
    assert.deepEqual(s.types, ["function"]);
    assert.equal(s.rules.length, 0);
    assert.equal(s.warnings.length, 2);
    assert.match(s.warnings[0], /unknown type "bogus"/);
    assert.match(s.warnings[1], /processing_rules\[0\] \(bad\)/);
    assert.deepEqual(subscriptionTypes(s), ["platform", "function"]);
    assert.deepEqual(subscriptionTypes({ ...s, enabled: false }), ["platform"]);
    assert.deepEqual(
      subscriptionTypes(lambdaLogsSettings(config, {})),
      ["platform", "function", "extension"],
    );
  });
});

describe("LambdaLogs", () => {
  it("gives init lines the first invocation's id, and later lines the last START's", () => {
    const { logs, lines } = collect();
    logs.handle(at(
      [0, "platform.initStart", {
        initializationType: "on-demand",
        phase: "init",
        runtimeVersion: "nodejs:20.v38",
        runtimeVersionArn: "arn:aws:lambda:us-east-1::runtime:0123abcd",
      }],
      [0, "function", "init line\n"],
      [1, "extension", "ext init"],
      [2, "platform.start", { requestId: "r1", version: "$LATEST" }],
      [3, "function", "in r1\n"],
    ));
    logs.handle(at(
      [4, "platform.runtimeDone", {
        requestId: "r1",
        status: "success",
        metrics: { durationMs: 12.5 },
      }],
      [5, "function", "after r1 returned"],
      [6, "platform.report", {
        requestId: "r1",
        status: "success",
        metrics: {
          durationMs: 20.125,
          billedDurationMs: 21,
          memorySizeMB: 128,
          maxMemoryUsedMB: 64,
          initDurationMs: 150.5,
        },
      }],
      [7, "platform.start", { requestId: "r2", version: "3" }],
      [8, "function", "in r2"],
    ));
    assert.deepEqual(lines(), [
      [
        "INIT_START Runtime Version: nodejs:20.v38 Runtime Version ARN: " +
        "arn:aws:lambda:us-east-1::runtime:0123abcd",
        "r1",
        "info",
      ],
      ["init line", "r1", "info"],
      ["ext init", "r1", "info"],
      ["START RequestId: r1 Version: $LATEST", "r1", "info"],
      ["in r1", "r1", "info"],
      ["END RequestId: r1", "r1", "info"],
      ["after r1 returned", "r1", "info"],
      [
        "REPORT RequestId: r1\tDuration: 20.13 ms\tRuntime Duration: 12.50 ms\t" +
        "Post Runtime Duration: 7.63 ms\tBilled Duration: 21 ms\tMemory Size: 128 MB\t" +
        "Max Memory Used: 64 MB\tInit Duration: 150.50 ms",
        "r1",
        "info",
      ],
      ["START RequestId: r2 Version: 3", "r2", "info"],
      ["in r2", "r2", "info"],
    ]);
  });

  it("orders a batch by time and stamps each line with its event's time", () => {
    const { logs, out, lines } = collect();
    logs.handle(at(
      [3, "function", "second"],
      [1, "platform.start", { requestId: "r1" }],
      [2, "function", "first"],
    ));
    assert.deepEqual(lines().map((l) => l[0]), [
      "START RequestId: r1 Version: ",
      "first",
      "second",
    ]);
    assert.deepEqual(out.map((m) => m.timestamp - out[0].timestamp), [0, 1000, 2000]);
  });

  it("tags and shapes each message as the serverless agents send it", () => {
    const { logs, out } = collect();
    logs.handle(at([0, "platform.start", { requestId: "r1" }], [1, "function", "hello"]));
    const m = out[1];
    assert.equal(m.service, "fn");
    assert.equal(m.source, "lambda");
    assert.equal(m.hostname, ARN);
    assert.deepEqual(m.tags, ["functionname:fn", "team:a"]);
    const json = JSON.parse(eventJson(m));
    assert.deepEqual(json.message, { message: "hello", lambda: { arn: ARN, request_id: "r1" } });
    assert.equal(json.ddsource, "lambda");
    assert.equal(json.ddtags, "functionname:fn,team:a");
    assert.equal(json.timestamp, Date.UTC(2026, 0, 1, 0, 0, 1));
  });

  it("reads JSON records: their own request id and their level as the status", () => {
    const { logs, lines } = collect();
    logs.handle(at(
      [0, "platform.start", { requestId: "r1" }],
      [1, "function", { timestamp: "x", level: "WARN", requestId: "r0", message: "late" }],
      [2, "function", { level: "bogus", status: "error", message: "status key" }],
      [3, "function", 42],
    ));
    assert.deepEqual(lines().slice(1), [
      ['{"timestamp":"x","level":"WARN","requestId":"r0","message":"late"}', "r0", "warn"],
      ['{"level":"bogus","status":"error","message":"status key"}', "r1", "error"],
    ]);
    assert.equal(logs.stats.unreadable, 1);
  });

  it("marks out-of-memory lines, timeouts and errors as errors", () => {
    const { logs, lines } = collect();
    logs.handle(at(
      [0, "platform.start", { requestId: "r1" }],
      [1, "function", "FATAL ERROR: Reached heap limit - JavaScript heap out of memory"],
      [2, "platform.runtimeDone", {
        requestId: "r1",
        status: "timeout",
        metrics: { durationMs: 3000 },
      }],
      [3, "platform.start", { requestId: "r2" }],
      [4, "platform.runtimeDone", {
        requestId: "r2",
        status: "error",
        errorType: "Runtime.ExitError",
      }],
    ));
    assert.deepEqual(lines().filter((l) => l[2] === "error").map((l) => l[0]), [
      "FATAL ERROR: Reached heap limit - JavaScript heap out of memory",
      "END RequestId: r1 Task timed out after 3.00 seconds",
      "END RequestId: r2 Task failed: Runtime.ExitError",
    ]);
  });

  it("applies the processing rules to every line", () => {
    const config = configDefaults();
    const { rules } = lambdaLogsSettings({
      ...config,
      logs_config: {
        ...config.logs_config,
        processing_rules: [
          {
            type: "exclude_at_match",
            name: "no_start",
            pattern: "^START ",
            replace_placeholder: "",
          },
          {
            type: "mask_sequences",
            name: "cards",
            pattern: "\\d{4}-\\d{4}",
            replace_placeholder: "[card]",
          },
        ],
      },
    }, {});
    const { logs, lines } = collect({ rules });
    logs.handle(at([0, "platform.start", { requestId: "r1" }], [1, "function", "paid 1234-5678"]));
    assert.deepEqual(lines(), [["paid [card]", "r1", "info"]]);
    assert.equal(logs.stats.excluded, 1);
  });

  it("sends only the chosen types, and the REPORT line only with enhanced metrics", () => {
    const report = {
      requestId: "r1",
      metrics: { durationMs: 5, billedDurationMs: 5, memorySizeMB: 128, maxMemoryUsedMB: 60 },
    };
    const events = at(
      [0, "platform.start", { requestId: "r1" }],
      [1, "function", "f"],
      [2, "extension", "e"],
      [3, "platform.runtimeDone", { requestId: "r1", status: "success" }],
      [4, "platform.report", report],
    );
    const fn = collect({ types: ["function"] });
    fn.logs.handle(events);
    assert.deepEqual(fn.lines().map((l) => l[0]), ["f"]);
    const noReport = collect({ reportLine: false });
    noReport.logs.handle(events);
    assert.deepEqual(
      noReport.lines().map((l) => l[0]),
      ["START RequestId: r1 Version: ", "f", "e", "END RequestId: r1"],
    );
  });

  it("holds at most MAX_HELD init lines, and releases the rest without an id", () => {
    const { logs, out } = collect();
    logs.handle(Array.from({ length: MAX_HELD + 3 }, (_, i) => ({
      time: new Date(1_000 + i).toISOString(),
      type: "function",
      record: `line ${i}`,
    })));
    assert.equal(out.length, 3, "the lines past the cap go at once");
    logs.release();
    assert.equal(out.length, MAX_HELD + 3);
    assert.ok(out.every((m) => m.lambda?.requestId === null));
    assert.equal(JSON.parse(eventJson(out[0])).message.lambda.request_id, null);
  });

  it("reads every record without an output, and sends nothing", () => {
    const logs = new LambdaLogs({
      settings: lambdaLogsSettings(configDefaults(), {}),
      arn: ARN,
      service: "fn",
      tags: [],
      output: null,
    });
    logs.handle(at([0, "platform.start", { requestId: "r1" }], [1, "function", "x"]));
    logs.release();
    assert.equal(logs.stats.sent, 0);
  });
});

describe("out of memory (EnhancedMetrics, the one place)", () => {
  const info = {
    functionName: "Fn",
    region: "us-east-1",
    accountId: "123456789012",
    memorySizeMB: 128,
    architecture: "x86_64" as const,
  };
  const oom = (samples: { name: string }[]) =>
    samples.filter((s) => s.name === "aws.lambda.enhanced.out_of_memory").length;

  it("counts one per invocation, whether the log, errorType or memory says so", () => {
    const m = new EnhancedMetrics(info);
    const n = oom(m.samples(at(
      [0, "platform.start", { requestId: "r1" }],
      [1, "function", "Traceback...\nMemoryError\n"],
      [2, "platform.runtimeDone", {
        requestId: "r1",
        status: "error",
        errorType: "Runtime.OutOfMemory",
      }],
      [3, "platform.report", {
        requestId: "r1",
        metrics: { durationMs: 9, billedDurationMs: 9, memorySizeMB: 128, maxMemoryUsedMB: 128 },
      }],
    )));
    assert.equal(n, 1);
  });

  it("counts from a log line alone, from max memory alone, and not for a healthy run", () => {
    const m = new EnhancedMetrics(info);
    assert.equal(
      oom(m.samples(at(
        [0, "platform.start", { requestId: "r1" }],
        [1, "function", "fatal error: runtime: out of memory"],
      ))),
      1,
    );
    assert.equal(
      oom(m.samples(at(
        [2, "platform.start", { requestId: "r2" }],
        [3, "platform.report", {
          requestId: "r2",
          metrics: { durationMs: 9, billedDurationMs: 9, memorySizeMB: 128, maxMemoryUsedMB: 130 },
        }],
      ))),
      1,
    );
    assert.equal(
      oom(m.samples(at(
        [4, "platform.start", { requestId: "r3" }],
        [5, "function", "all good"],
        [6, "platform.report", {
          requestId: "r3",
          metrics: { durationMs: 9, billedDurationMs: 9, memorySizeMB: 128, maxMemoryUsedMB: 127 },
        }],
      ))),
      0,
    );
  });
});

describe("LambdaLogs max_message_size_bytes", () => {
  it("cuts function lines to logs_config.max_message_size_bytes, not inside a character", () => {
    const { logs, lines } = collect({ maxMessageSize: 10 });
    logs.handle(at(
      [0, "platform.start", { requestId: "r1" }],
      [1, "function", "abcdefghijklmnop\n"],
      [2, "function", "short\n"],
      [3, "function", "abcdefghi€xyz"],
    ));
    const fn = lines().filter((l) => !String(l[0]).startsWith("START"));
    assert.deepEqual(fn.map((l) => l[0]), ["abcdefghij", "short", "abcdefghi"]);
  });

  it("takes the size from the config", () => {
    // A copy: the defaults are shared by every test in the process.
    const d = configDefaults();
    const c = { ...d, logs_config: { ...d.logs_config, max_message_size_bytes: 64 } };
    assert.equal(lambdaLogsSettings(c, {}).maxMessageSize, 64);
  });
});
