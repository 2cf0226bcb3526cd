import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../../src/config/mod.ts";
import { MAX_CONFIG_BYTES, MAX_CONFIG_DEPTH, MAX_LISTED } from "../../../src/config/load.ts";
import { runtime } from "../../../src/runtime/mod.ts";
import { tempDir } from "../../_temp.ts";

function configFile(yaml: string): string {
  const path = join(tempDir("outpost-config-"), "datadog.yaml");
  writeFileSync(path, yaml);
  return path;
}

async function problems(options: Parameters<typeof loadConfig>[1]): Promise<string[]> {
  try {
    await loadConfig(runtime, options);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
    return e.problems;
  }
  assert.fail("expected loadConfig to throw");
}

describe("loadConfig()", () => {
  it("applies defaults when no file is found", async () => {
    const { config, file } = await loadConfig(runtime, {
      searchPaths: ["/nonexistent/datadog.yaml"],
      env: {},
    });
    assert.equal(file, null);
    assert.equal(config.dogstatsd_port, 8125);
    assert.equal(config.cmd_port, 5001);
    assert.equal(config.site, "datadoghq.com");
    assert.equal(config.log_level, "info");
    assert.deepEqual(config.proxy, { http: "", https: "", no_proxy: [] });
  });

  it("reads the file found first in the search paths", async () => {
    const path = configFile("api_key: abc\ndogstatsd_port: 9125\ntags: [a:b, c:d]\n");
    const { config, file } = await loadConfig(runtime, {
      searchPaths: ["/nonexistent.yaml", path],
      env: {},
    });
    assert.equal(file, path);
    assert.equal(config.dogstatsd_port, 9125);
    assert.deepEqual(config.tags, ["a:b", "c:d"]);
  });

  it("lets DD_* variables win over the file, with lists space-separated and maps as JSON", async () => {
    const path = configFile(
      "log_level: warn\ntags: [from:file]\nproxy:\n  http: http://file:3128\n",
    );
    const { config, fromEnv } = await loadConfig(runtime, {
      path,
      env: {
        DD_LOG_LEVEL: "debug",
        DD_TAGS: "a:b  c:d",
        DD_PROXY_HTTPS: "http://env:3128",
        DD_ADDITIONAL_ENDPOINTS: '{"https://app.datadoghq.eu":["k1","k2"]}',
        DD_DOGSTATSD_NON_LOCAL_TRAFFIC: "true",
        DD_CMD_PORT: "6001",
      },
    });
    assert.equal(config.log_level, "debug");
    assert.deepEqual(config.tags, ["a:b", "c:d"]);
    assert.equal(
      config.proxy.http,
      "http://file:3128",
      "a nested env var leaves the file's siblings alone",
    );
    assert.equal(config.proxy.https, "http://env:3128");
    assert.deepEqual(config.additional_endpoints, { "https://app.datadoghq.eu": ["k1", "k2"] });
    assert.equal(config.dogstatsd_non_local_traffic, true);
    assert.equal(config.cmd_port, 6001);
    assert.equal(fromEnv.get("log_level"), "DD_LOG_LEVEL");
  });

  it("reads a list of objects from a DD_* variable as JSON, and names the key when it is not", async () => {
    const { config } = await loadConfig(runtime, {
      searchPaths: [],
      env: {
        DD_LOGS_CONFIG_PROCESSING_RULES:
          '[{"type":"exclude_at_match","name":"no_health","pattern":"GET /health"}]',
        DD_TAGS: "[a:b] c:d",
      },
    });
    assert.deepEqual(config.logs_config.processing_rules.map((r) => [r.type, r.name]), [
      ["exclude_at_match", "no_health"],
    ]);
    assert.deepEqual(config.tags, ["[a:b]", "c:d"], "text that is not JSON is split on spaces");
    await assert.rejects(
      loadConfig(runtime, {
        searchPaths: [],
        env: { DD_LOGS_CONFIG_PROCESSING_RULES: '[{"type":"exclude_at_match"}]' },
      }),
      /logs_config\.processing_rules/,
    );
  });

  it("accepts DD_URL as an alias of dd_url", async () => {
    const { config } = await loadConfig(runtime, {
      searchPaths: [],
      env: { DD_URL: "http://127.0.0.1:9" },
    });
    assert.equal(config.dd_url, "http://127.0.0.1:9");
  });

  it("parses sizes with units", async () => {
    const { config } = await loadConfig(runtime, {
      path: configFile("log_file_max_size: 5Mb\n"),
      env: {},
    });
    assert.equal(config.log_file_max_size, 5 * 1024 * 1024);
  });

  it("names the file and the position of invalid YAML", async () => {
    const path = configFile("api_key: abc\nfoo: [1\n");
    const [line, ...rest] = await problems({ path, env: {} });
    assert.equal(rest.length, 0);
    assert.match(line, new RegExp(`^Cannot parse config file "${path}": .*line \\d+`));
  });

  it("says what a size value should look like, not the pattern that checks it", async () => {
    const path = configFile("forwarder_retry_queue_payloads_max_size: 10 megabytes\n");
    assert.deepEqual(await problems({ path, env: {} }), [
      'Invalid config key "forwarder_retry_queue_payloads_max_size": expected a size in bytes or a number with a unit (b, kb, mb, gb), got string "10 megabytes"',
    ]);
  });

  it("describes a list, a map or an empty value given where a string is expected", async () => {
    for (
      const [yaml, got] of [
        ["hostname: [a, b]\n", "a list of 2 items"],
        ["hostname: {a: 1}\n", "a map of 1 key"],
        ["hostname:\n", "no value (the key is empty)"],
      ]
    ) {
      assert.deepEqual(await problems({ path: configFile(yaml), env: {} }), [
        `Invalid config key "hostname": expected a string, got ${got}`,
      ]);
    }
  });

  it("refuses an invalid configured hostname instead of silently using the system's", async () => {
    assert.deepEqual(await problems({ path: configFile("hostname: my_host!\n"), env: {} }), [
      `Invalid config key "hostname": "my_host!" is not a valid RFC 1123 host name: expected a host name of letters, digits, "-" and "." other than localhost (or remove the key to use the system's name), got string "my_host!"`,
    ]);
    const [local] = await problems({ searchPaths: [], env: { DD_HOSTNAME: "localhost" } });
    assert.match(
      local,
      /^Invalid config key "hostname" \(from DD_HOSTNAME\): "localhost" is a local name: /,
    );
    const { config } = await loadConfig(runtime, {
      searchPaths: [],
      env: { DD_HOSTNAME: "edge-1.example" },
    });
    assert.equal(config.hostname, "edge-1.example");
  });

  it("puts the YAML error's place first and quotes the line, with no dangling colon", async () => {
    const path = configFile("log_level: info\ntags:\n  - a\n  bad: :\n");
    const [line] = await problems({ path, env: {} });
    assert.equal(
      line,
      `Cannot parse config file "${path}": line 4, column 1: all mapping items must start at the same column (line 4: "  bad: :")`,
    );
    assert.doesNotMatch(line, /:\s*$/);
  });

  it("names the key, the value's type and what was expected for a wrong type", async () => {
    assert.deepEqual(await problems({ path: configFile("dogstatsd_port: abc\n"), env: {} }), [
      'Invalid config key "dogstatsd_port": expected an integer, got string "abc"',
    ]);
  });

  it("rejects an unknown log_level", async () => {
    const [line] = await problems({ path: configFile("log_level: loud\n"), env: {} });
    assert.match(
      line,
      /^Invalid config key "log_level": expected one of trace, debug, info, warn, error, critical, off/,
    );
  });

  it("says which variable set a bad value", async () => {
    assert.deepEqual(await problems({ searchPaths: [], env: { DD_CMD_PORT: "70000" } }), [
      'Invalid config key "cmd_port" (from DD_CMD_PORT): expected an integer of at most 65535, got number 70000',
    ]);
  });

  it("reports every bad key, one line each", async () => {
    const lines = await problems({
      path: configFile("dogstatsd_port: abc\nlog_level: 3\ntags: nope\n"),
      env: {},
    });
    assert.equal(lines.length, 3);
    assert.ok(lines.some((l) => l.includes('"tags"')));
  });

  it("warns about unknown keys without failing", async () => {
    const { warnings } = await loadConfig(runtime, {
      path: configFile("api_key: abc\nnot_a_key: 1\nproxy:\n  sock5: x\n"),
      env: {},
    });
    assert.deepEqual(warnings, [
      'Unknown config key "not_a_key" is ignored',
      'Unknown config key "proxy.sock5" is ignored',
    ]);
  });

  it("rejects a file whose top level is not a mapping", async () => {
    const [line] = await problems({ path: configFile("- a\n- b\n"), env: {} });
    assert.match(line, /expected a mapping of keys at the top level/);
  });

  it("fails clearly when -c names a missing file", async () => {
    const [line] = await problems({ path: "/nonexistent/outpost.yaml", env: {} });
    assert.equal(line, 'Cannot read config file "/nonexistent/outpost.yaml": ENOENT');
  });

  // The YAML library's duplicate check compared every key with every other: 80,000 keys took
  // about a minute. Now one set per mapping; this file loads well inside the test timeout.
  it("warns about 80,000 unknown keys with a bounded list that counts the rest", async () => {
    const n = 80_000;
    const yaml = Array.from({ length: n }, (_, i) => `unknown_key_${i}: ${i}`).join("\n");
    const { warnings, config } = await loadConfig(runtime, { path: configFile(yaml), env: {} });
    assert.equal(warnings.length, MAX_LISTED + 1);
    assert.equal(warnings[0], 'Unknown config key "unknown_key_0" is ignored');
    assert.equal(warnings.at(-1), `… and ${n - MAX_LISTED} more unknown keys are ignored`);
    assert.equal(config.dogstatsd_port, 8125);
  });

  it("reports a list of 80,000 bad items as one line", async () => {
    const yaml = `tags:\n${"  - [nested]\n".repeat(80_000)}`;
    const lines = await problems({ path: configFile(yaml), env: {} });
    assert.deepEqual(lines, [
      'Invalid config key "tags.0": expected a string, got a list of 1 item',
    ]);
  });

  it("caps the list of problems with a count of the rest", async () => {
    const keys = [
      "dogstatsd_port",
      "cmd_port",
      "expvar_port",
      "statsd_forward_port",
      "forwarder_timeout",
      "forwarder_num_workers",
      "forwarder_max_concurrent_requests",
      "forwarder_high_prio_buffer_size",
      "forwarder_low_prio_buffer_size",
      "forwarder_stop_timeout",
      "forwarder_backoff_base",
      "forwarder_backoff_factor",
      "forwarder_backoff_max",
      "forwarder_recovery_interval",
      "forwarder_outdated_file_in_days",
      "forwarder_storage_max_disk_ratio",
      "forwarder_flush_to_disk_mem_ratio",
      "forwarder_storage_spill_after_seconds",
      "server_timeout",
      "secret_backend_timeout",
      "log_file_max_rolls",
      "dogstatsd_buffer_size",
      "dogstatsd_context_limit",
    ];
    const lines = await problems({
      path: configFile(keys.map((k) => `${k}: -5`).join("\n")),
      env: {},
    });
    assert.equal(lines.length, MAX_LISTED + 1);
    assert.equal(lines.at(-1), `… and ${keys.length - MAX_LISTED} more invalid keys`);
  });

  it("refuses a key given twice, naming both lines", async () => {
    const [line] = await problems({
      path: configFile("api_key: a\nproxy:\n  http: http://x:1\n  http: http://y:1\n"),
      env: {},
    });
    assert.match(line, /: key "http" appears twice \(lines 3 and 4\)$/);
  });

  it(`refuses a file larger than ${MAX_CONFIG_BYTES} bytes without parsing it`, async () => {
    const yaml = `# ${"x".repeat(MAX_CONFIG_BYTES)}\n`;
    const path = configFile(yaml);
    assert.deepEqual(await problems({ path, env: {} }), [
      `Cannot read config file "${path}": larger than ${MAX_CONFIG_BYTES} bytes (4 MiB)`,
    ]);
  });

  it(`refuses nesting deeper than ${MAX_CONFIG_DEPTH} levels, and much deeper too`, async () => {
    for (const depth of [MAX_CONFIG_DEPTH + 1, 100_000]) {
      const yaml = `tags: ${"[".repeat(depth)}${"]".repeat(depth)}\n`;
      const [line] = await problems({ path: configFile(yaml), env: {} });
      assert.match(line, new RegExp(`: nested more than ${MAX_CONFIG_DEPTH} levels`), line);
    }
  });
});
