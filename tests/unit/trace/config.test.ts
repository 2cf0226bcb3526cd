import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { configDefaults, loadConfig } from "../../../src/config/mod.ts";
import { runtime } from "../../../src/runtime/mod.ts";

const load = (env: Record<string, string>) => loadConfig(runtime, { searchPaths: [], env });

describe("apm_config", () => {
  it("configDefaults() has the trace agent's defaults", () => {
    const apm = configDefaults().apm_config;
    assert.equal(apm.enabled, true);
    assert.equal(apm.receiver_host, "localhost");
    assert.equal(apm.receiver_port, 8126);
    assert.equal(apm.receiver_socket, "");
    assert.equal(apm.receiver_timeout, 5);
    assert.equal(apm.max_payload_size, 25 * 1024 * 1024);
    assert.equal(apm.decoders, 0);
    assert.equal(apm.decoder_timeout, 1000);
    assert.equal(apm.target_traces_per_second, 10);
    assert.equal(apm.errors_per_second, 10);
    assert.equal(apm.compute_stats_by_span_kind, true);
    assert.equal(apm.peer_tags_aggregation, true);
    assert.deepEqual(apm.peer_tags, []);
    assert.deepEqual(apm.obfuscation.credit_cards, { enabled: true, luhn: false, keep_values: [] });
    assert.deepEqual(apm.obfuscation.redis, { enabled: true, remove_all_args: false });
    assert.deepEqual(apm.obfuscation.memcached, { enabled: true, keep_command: false });
    assert.deepEqual(apm.obfuscation.http, {
      remove_query_string: false,
      remove_paths_with_digits: false,
    });
    assert.equal(apm.evp_proxy_config.enabled, true);
    assert.equal(apm.evp_proxy_config.max_payload_size, 5 * 1024 * 1024);
    assert.equal(apm.telemetry.enabled, true);
    assert.deepEqual(apm.additional_endpoints, {});
  });

  it("binds the Agent's short DD_APM_* names and the derived DD_APM_CONFIG_* names", async () => {
    const { config } = await load({
      DD_APM_RECEIVER_PORT: "9126",
      DD_APM_ENABLED: "false",
      DD_APM_DD_URL: "http://127.0.0.1:1234",
      DD_APM_NON_LOCAL_TRAFFIC: "true",
      DD_APM_TARGET_TPS: "20",
      DD_APM_CONFIG_ERRORS_PER_SECOND: "3",
      DD_APM_OBFUSCATION_REDIS_REMOVE_ALL_ARGS: "true",
    });
    assert.equal(config.apm_config.receiver_port, 9126);
    assert.equal(config.apm_config.enabled, false);
    assert.equal(config.apm_config.apm_dd_url, "http://127.0.0.1:1234");
    assert.equal(config.apm_config.apm_non_local_traffic, true);
    assert.equal(config.apm_config.target_traces_per_second, 20);
    assert.equal(config.apm_config.errors_per_second, 3);
    assert.equal(config.apm_config.obfuscation.redis.remove_all_args, true);
  });

  it("names the key and what was expected when a value is wrong", async () => {
    await assert.rejects(load({ DD_APM_RECEIVER_PORT: "70000" }), (e: any) => {
      assert.match(e.problems.join("\n"), /apm_config\.receiver_port.*at most 65535/);
      return true;
    });
  });
});
