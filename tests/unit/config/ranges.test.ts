import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { ConfigError, configSchema, loadConfig } from "../../../src/config/mod.ts";
import { runtime } from "../../../src/runtime/mod.ts";
import { tempDir } from "../../_temp.ts";

function configFile(yaml: string): string {
  const path = join(tempDir("outpost-ranges-"), "datadog.yaml");
  writeFileSync(path, yaml);
  return path;
}

async function problems(yaml: string): Promise<string[]> {
  try {
    await loadConfig(runtime, { path: configFile(yaml), env: {} });
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
    return e.problems;
  }
  assert.fail(`expected ${JSON.stringify(yaml)} to be refused`);
}

/** Every leaf of the schema with its dotted path and its (unwrapped) schema. */
function leaves(schema: any, path: string[] = []): Array<{ path: string[]; schema: any }> {
  while (schema.type === "optional") schema = schema.wrapped;
  if (schema.type === "object") {
    return Object.entries(schema.entries).flatMap(([k, s]) => leaves(s, [...path, k]));
  }
  return [{ path, schema }];
}

function withValue(path: string[], value: unknown): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  let node = raw;
  for (const k of path.slice(0, -1)) node = (node[k] = {}) as Record<string, unknown>;
  node[path.at(-1)!] = value;
  return raw;
}

/** Values that no key may accept, by the kind of the key. */
const OUTSIDE: Record<string, unknown[]> = {
  number: [1e300, -1e300, Infinity],
  string: ["x".repeat(100_000), "a\0b"],
  picklist: ["x".repeat(100_000), "a\0b"],
  union: [1e300, -1, "9".repeat(40) + "gb"],
  array: [Array(100_001).fill("x")],
  record: [Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`http://h${i}.test`, []]))],
};

describe("configSchema ranges", () => {
  const all = leaves(configSchema);

  it("every key is a boolean or has a range or pattern that refuses extreme values", () => {
    assert.ok(all.length > 90, `${all.length} keys`);
    for (const { path, schema } of all) {
      if (schema.type === "boolean") continue;
      const values = OUTSIDE[schema.type];
      assert.ok(values, `${path.join(".")}: no extreme values for kind ${schema.type}`);
      for (const value of values) {
        const r = v.safeParse(configSchema, withValue(path, value));
        assert.equal(
          r.success,
          false,
          `${path.join(".")} accepted ${String(value).slice(0, 40)}`,
        );
        assert.equal(
          r.issues![0].path!.map((p) => p.key).slice(0, path.length).join("."),
          path.join("."),
        );
      }
    }
  });

  it("every default is inside its key's range", () => {
    const r = v.safeParse(configSchema, {});
    assert.ok(r.success);
    for (const { path } of all) {
      let d: any = r.output;
      for (const k of path) d = d[k];
      assert.ok(v.safeParse(configSchema, withValue(path, d)).success, path.join("."));
    }
  });
});

describe("loadConfig() ranges", () => {
  const refused: Array<[string, string]> = [
    [
      "forwarder_backoff_base: -1\n",
      'Invalid config key "forwarder_backoff_base": expected a number greater than 0, got number -1',
    ],
    [
      "forwarder_backoff_max: 0\n",
      'Invalid config key "forwarder_backoff_max": expected a number greater than 0, got number 0',
    ],
    [
      "forwarder_storage_max_disk_ratio: 7\n",
      'Invalid config key "forwarder_storage_max_disk_ratio": expected a number from 0 to 1, got number 7',
    ],
    [
      'dd_url: "not a url"\n',
      'Invalid config key "dd_url": expected an http:// or https:// URL, or "", got string "not a url"',
    ],
    [
      "dd_url: ftp://intake.example\n",
      'Invalid config key "dd_url": expected an http:// or https:// URL, or "", got string "ftp://intake.example"',
    ],
    [
      'site: "../../evil"\n',
      'Invalid config key "site": expected a domain such as datadoghq.com or datadoghq.eu (no scheme, no path), got string "../../evil"',
    ],
    [
      "site: https://datadoghq.eu\n",
      'Invalid config key "site": expected a domain such as datadoghq.com or datadoghq.eu (no scheme, no path), got string "https://datadoghq.eu"',
    ],
    [
      "histogram_percentiles: [0.95, 1.5]\n",
      'Invalid config key "histogram_percentiles.1": expected numbers between 0 and 1 exclusive, with at most 2 decimals, got string "1.5"',
    ],
    [
      'histogram_percentiles: ["0.999"]\n',
      'Invalid config key "histogram_percentiles.0": expected numbers between 0 and 1 exclusive, with at most 2 decimals, got string "0.999"',
    ],
    [
      "histogram_aggregates: [max, p99]\n",
      'Invalid config key "histogram_aggregates.1": expected a list of max, min, median, avg, sum, count, got string "p99"',
    ],
    [
      'cmd_host: ""\n',
      'Invalid config key "cmd_host": expected a host name or an IP address (0.0.0.0 for every interface), got string ""',
    ],
    [
      'run_path: "/tmp/a\\0b"\n',
      'Invalid config key "run_path": expected a path without NUL characters, got string "/tmp/a\\u0000b"',
    ],
    [
      "forwarder_timeout: 0\n",
      'Invalid config key "forwarder_timeout": expected a whole number of seconds of at least 1, got number 0',
    ],
    [
      "dogstatsd_port: .inf\n",
      'Invalid config key "dogstatsd_port": expected an integer, got number Infinity',
    ],
  ];
  for (const [yaml, line] of refused) {
    it(`refuses ${yaml.trim()} naming the key and what was expected`, async () => {
      assert.deepEqual(await problems(yaml), [line]);
    });
  }

  it("does not echo a secret value it refuses", async () => {
    const [line] = await problems("proxy:\n  https: hunter2-is-my-password\n");
    assert.match(line, /^Invalid config key "proxy.https": .*, got a string of 22 characters$/);
    assert.ok(!line.includes("hunter2"));
  });

  it("accepts the values real Datadog configs use", async () => {
    const { config } = await loadConfig(runtime, {
      path: configFile(
        [
          "api_key: 0123456789abcdef0123456789abcdef",
          "site: us3.datadoghq.com",
          "dd_url: https://app.datadoghq.com/",
          "histogram_percentiles: ['0.95', 0.5, '0.99']",
          "histogram_aggregates: [max, min, median, avg, sum, count]",
          "proxy:",
          "  http: http://user:p%40ss@proxy.corp:3128",
          "  https: http://proxy.corp:3128",
          "  no_proxy: [169.254.169.254, .internal]",
          "additional_endpoints:",
          "  https://app.datadoghq.eu: [abc, def]",
          "cmd_host: localhost",
          "bind_host: 0.0.0.0",
          "forwarder_backoff_base: 0.5",
          "forwarder_storage_max_disk_ratio: 0.95",
          "log_file: /var/log/datadog/agent.log",
          "log_file_max_size: 10Mb",
          "dogstatsd_buffer_size: 65536",
          "tags: ['env:prod', 'role:db']",
          "",
        ].join("\n"),
      ),
      env: { DD_SITE: "ddog-gov.com" },
    });
    assert.equal(config.site, "ddog-gov.com");
    assert.deepEqual(config.histogram_percentiles, ["0.95", "0.5", "0.99"]);
    assert.equal(config.cmd_host, "localhost");
    assert.equal(config.forwarder_backoff_base, 0.5);
  });

  it("treats an empty site as the default, as the Datadog Agent does", async () => {
    const { config } = await loadConfig(runtime, { searchPaths: [], env: { DD_SITE: "" } });
    assert.equal(config.site, "datadoghq.com");
  });

  it("accepts IPv6 and every-interface API hosts", async () => {
    for (const host of ["::1", "0.0.0.0", "10.1.2.3", "agent.internal"]) {
      const { config } = await loadConfig(runtime, { searchPaths: [], env: { DD_CMD_HOST: host } });
      assert.equal(config.cmd_host, host);
    }
  });
});
