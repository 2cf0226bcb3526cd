import { test } from "node:test";
import assert from "node:assert/strict";
import { StreamHub, streamLogsApiArea } from "../../../src/logs/_stream.ts";
import { logsStatusJson, renderLogsStatus } from "../../../src/logs/_status.ts";
import { logsSenderSettings } from "../../../src/logs/_sender_settings.ts";
import { emptyInfo } from "../../../src/logs/_message.ts";
import type { LogMessage, LogSource } from "../../../src/logs/mod.ts";
import { configDefaults } from "../../../src/config/mod.ts";
import { PLAIN } from "../../../src/status/mod.ts";
import { Registry } from "../../../src/telemetry/mod.ts";
import { LogsSender } from "../../../src/logs/_sender.ts";
import { createLogger } from "../../../src/log/mod.ts";
import { runtime } from "../../../src/runtime/mod.ts";

const encoder = new TextEncoder();

function source(name: string, type: "file" | "tcp", service: string): LogSource {
  return {
    name,
    type,
    config: {
      type,
      path: "/var/log/x.log",
      port: 10514,
      service,
      source: "src",
    } as LogSource["config"],
    status: { state: "ok" },
    info: { ...emptyInfo(), bytesRead: 42, lines: 2, inputs: ["/var/log/x.log"] },
  };
}

function msg(src: LogSource, text: string): LogMessage {
  return {
    content: encoder.encode(text),
    status: "info",
    timestamp: 0,
    hostname: "h",
    service: src.config.service,
    source: "src",
    tags: [],
    origin: { source: src, identifier: "", offset: "", tailingMode: "end", seq: 0 },
    rawBytes: 1,
  };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(stream).text();
}

test("StreamHub is inactive until someone streams, and publishes only matching lines", async () => {
  const hub = new StreamHub();
  assert.equal(hub.active, false);
  const web = source("web", "file", "web");
  const db = source("db", "tcp", "db");
  const stream = hub.open({ service: "web" }, 50);
  assert.equal(hub.active, true);
  hub.publish(msg(web, "for web"));
  hub.publish(msg(db, "for db"));
  const text = await readAll(stream);
  assert.equal(hub.active, false, "inactive again once the stream ended");
  assert.match(
    text,
    /^Integration Name: web \| Type: file \| Status: info \| .*\| Message: for web\n$/,
  );
  assert.doesNotMatch(text, /for db/);
});

test("StreamHub drops lines for a slow viewer and says how many", async () => {
  const hub = new StreamHub();
  const src = source("web", "file", "web");
  const stream = hub.open({}, 100);
  for (let i = 0; i < 10_050; i++) hub.publish(msg(src, `line ${i}`));
  const reader = stream.getReader();
  let text = "";
  const first = await reader.read(); // room again, so the next publish reports the drops
  text += new TextDecoder().decode(first.value);
  hub.publish(msg(src, "after"));
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  assert.match(text, /\(50 lines dropped: the viewer is slow\)\n/);
  assert.match(text, /Message: after\n/);
});

test("POST /stream-logs refuses a bad filter with 400 and streams with a good one", async () => {
  const hub = new StreamHub();
  const { app } = streamLogsApiArea(hub);
  const bad = await app.request("/stream-logs", { method: "POST", body: '{"type": 5}' });
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).error, /"type"/);
  const res = await app.request("/stream-logs", {
    method: "POST",
    body: JSON.stringify({ source: "src", duration: 0.05 }),
  });
  assert.equal(res.status, 200);
  hub.publish(msg(source("web", "file", "web"), "streamed"));
  assert.match(await res.text(), /Message: streamed/);
});

test("Logs Agent status: endpoints, counters and sources in JSON and text", () => {
  const registry = new Registry();
  const c = configDefaults();
  const settings = logsSenderSettings({ ...c, api_key: "k" }, "7.60.0");
  new LogsSender(settings, {
    runtime,
    registry,
    logger: createLogger({ level: "off" }),
    submit: () => ({ done: new Promise(() => {}) }),
    ack: () => {},
  }).start();
  registry.counter("logs-agent.LogsSent").inc(7);
  registry.counterVec("logs-agent.DestinationLogsDropped").with("too_large").inc(2);
  registry.counterVec("forwarder.Transactions.Retried").with("https://x.test/api/v2/logs").inc(3);
  registry.counterVec("forwarder.Transactions.Retried").with("https://x.test/api/v2/series").inc(9);
  const data = logsStatusJson(registry, {
    settings,
    sources: () => [source("web", "file", "web"), source("syslog", "tcp", "net")],
    errors: () => ["conf.d/bad.d/conf.yaml: logs[0].type: expected one of file, tcp, udp"],
    warnings: () => [],
  });
  const st = data.logsStats as Record<string, any>;
  assert.equal(st.is_running, true);
  assert.deepEqual(st.endpoints, [
    "Reliable: Sending compressed logs in HTTPS to agent-http-intake.logs.datadoghq.com on port 443",
  ]);
  assert.equal(st.metrics.LogsSent, 7);
  assert.equal(st.metrics.DestinationLogsDropped, 2);
  assert.equal(st.metrics.RetryCount, 3, "only the logs route's retries");
  assert.deepEqual(st.integrations.map((i: { name: string }) => i.name), ["syslog", "web"]);
  const text = renderLogsStatus(data, PLAIN);
  assert.ok(text.includes("    LogsSent: 7\n"));
  assert.ok(text.includes("  web\n  ---\n    - Type: file\n      Path: /var/log/x.log\n"));
  assert.ok(text.includes("      Port: 10514\n"));
  assert.ok(text.includes("      Status: OK\n      Inputs:\n        /var/log/x.log\n"));
  assert.ok(text.includes("      Bytes Read: 42\n"));
  assert.ok(text.includes("Errors\n    conf.d/bad.d"));
});

test("Logs Agent status when logs_enabled is false", () => {
  const data = logsStatusJson(new Registry(), null);
  assert.equal((data.logsStats as { is_running: boolean }).is_running, false);
  assert.equal(
    renderLogsStatus(data, PLAIN),
    "  Logs Agent is not running\n    logs_enabled: false",
  );
});
