import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { configDefaults, ConfigError, loadConfig } from "../../../src/config/mod.ts";
import { runtime } from "../../../src/runtime/mod.ts";

async function fromEnv(env: Record<string, string>) {
  return (await loadConfig(runtime, { searchPaths: [], env })).config;
}

describe("logs config keys", () => {
  it("defaults match the Datadog Agent's", () => {
    const c = configDefaults();
    assert.equal(c.logs_enabled, false);
    const l = c.logs_config;
    assert.equal(l.batch_wait, 5);
    assert.equal(l.batch_max_size, 1000);
    assert.equal(l.batch_max_content_size, 5_000_000);
    assert.equal(l.compression_kind, "zstd");
    assert.equal(l.zstd_compression_level, 1);
    assert.equal(l.compression_level, 6);
    assert.equal(l.open_files_limit, 500);
    assert.equal(l.file_scan_period, 10);
    assert.equal(l.max_message_size_bytes, 256_000);
    assert.equal(l.frame_size, 9000);
    assert.equal(l.close_timeout, 60);
    assert.equal(l.aggregation_timeout, 1000);
    assert.equal(l.message_channel_size, 100);
    assert.deepEqual(l.additional_endpoints, []);
    assert.deepEqual(l.processing_rules, []);
  });

  it("binds DD_LOGS_ENABLED and DD_LOGS_CONFIG_* variables", async () => {
    const c = await fromEnv({
      DD_LOGS_ENABLED: "true",
      DD_LOGS_CONFIG_BATCH_WAIT: "2",
      DD_LOGS_CONFIG_LOGS_DD_URL: "127.0.0.1:10516",
      DD_LOGS_CONFIG_COMPRESSION_KIND: "gzip",
      DD_LOGS_CONFIG_AUTO_MULTI_LINE_DETECTION: "true",
      DD_LOGS_CONFIG_AUTO_MULTI_LINE_ENABLE_JSON_DETECTION: "false",
    });
    assert.equal(c.logs_enabled, true);
    assert.equal(c.logs_config.batch_wait, 2);
    assert.equal(c.logs_config.logs_dd_url, "127.0.0.1:10516");
    assert.equal(c.logs_config.compression_kind, "gzip");
    assert.equal(c.logs_config.auto_multi_line_detection, true);
    assert.equal(c.logs_config.auto_multi_line.enable_json_detection, false);
  });

  it("refuses a logs_dd_url without an integer port, naming the key", async () => {
    await assert.rejects(
      fromEnv({ DD_LOGS_CONFIG_LOGS_DD_URL: "intake.example:http" }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.problems.some((p) => p.includes('"logs_config.logs_dd_url"') && p.includes("host:port")),
    );
  });
});
