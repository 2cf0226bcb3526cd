import { test } from "node:test";
import assert from "node:assert/strict";
import { configDefaults } from "../../../src/config/mod.ts";
import { logsIntakeUrl, logsSenderSettings } from "../../../src/logs/_sender_settings.ts";

const base = configDefaults();
const withLogs = (lc: Record<string, unknown>, top: Record<string, unknown> = {}) => ({
  ...base,
  api_key: "main",
  ...top,
  logs_config: { ...base.logs_config, ...lc },
});

test("logsIntakeUrl() defaults to agent-http-intake.logs.<site>", () => {
  assert.equal(logsIntakeUrl(withLogs({})), "https://agent-http-intake.logs.datadoghq.com");
  assert.equal(
    logsIntakeUrl(withLogs({}, { site: "us5.datadoghq.com" })),
    "https://agent-http-intake.logs.us5.datadoghq.com",
  );
});

test("logsIntakeUrl() in the Lambda extension uses the serverless http-intake.logs.<site>", () => {
  assert.equal(
    logsIntakeUrl(withLogs({}, { site: "datadoghq.eu" }), true),
    "https://http-intake.logs.datadoghq.eu",
  );
  assert.equal(
    logsSenderSettings(withLogs({}), "7.64.0", true).reliable[0].url,
    "https://http-intake.logs.datadoghq.com",
  );
  // An explicit URL wins there too.
  assert.equal(
    logsIntakeUrl(withLogs({ dd_url: "http://127.0.0.1:9/" }), true),
    "http://127.0.0.1:9",
  );
});

test("logsIntakeUrl() takes logs_dd_url as host:port, plain HTTP with logs_no_ssl", () => {
  assert.equal(
    logsIntakeUrl(withLogs({ logs_dd_url: "proxy.local:3128" })),
    "https://proxy.local:3128",
  );
  assert.equal(logsIntakeUrl(withLogs({ logs_dd_url: "proxy.local:443" })), "https://proxy.local");
  assert.equal(
    logsIntakeUrl(withLogs({ logs_dd_url: "127.0.0.1:8080", logs_no_ssl: true })),
    "http://127.0.0.1:8080",
  );
});

test("logsSenderSettings() uses logs_config.api_key over api_key, and splits endpoints by is_reliable", () => {
  const s = logsSenderSettings(
    withLogs({
      api_key: "logs-key",
      additional_endpoints: [
        { api_key: "r", Host: "reliable.example.com", Port: 443, is_reliable: true },
        { api_key: "u", Host: "best-effort.example.com", Port: 10516, is_reliable: false },
      ],
    }),
    "7.60.0",
  );
  assert.deepEqual(s.reliable, [
    { url: "https://agent-http-intake.logs.datadoghq.com", apiKeys: ["logs-key"] },
    { url: "https://reliable.example.com", apiKeys: ["r"] },
  ]);
  assert.deepEqual(s.unreliable, [{
    url: "https://best-effort.example.com:10516",
    apiKeys: ["u"],
  }]);
});

test("logsSenderSettings() maps the batch and compression keys", () => {
  const s = logsSenderSettings(
    withLogs({ batch_wait: 2.5, batch_max_concurrent_send: 0, use_compression: false }),
    "7.60.0",
  );
  assert.equal(s.batchWaitMs, 2500);
  assert.equal(s.concurrentSend, 1, "0 means one batch in flight");
  assert.equal(s.compression, "none");
  assert.equal(s.batchMaxSize, 1000);
  assert.equal(s.batchMaxContentSize, 5_000_000);
  const z = logsSenderSettings(withLogs({}), "7.60.0");
  assert.equal(z.compression, "zstd");
  assert.equal(z.zstdLevel, 1);
});
