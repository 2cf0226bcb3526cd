import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { configDefaults, configSchema } from "../../../src/config/mod.ts";
import { OutpostError } from "../../../src/errors.ts";
import { logsSettings } from "../../../src/logs/mod.ts";
import { tempDir } from "../../_temp.ts";

function confd(files: Record<string, string>): string {
  const dir = tempDir("logs-settings-");
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, "conf.d", name.split("/")[0]), { recursive: true });
    writeFileSync(join(dir, "conf.d", name), text);
  }
  return dir;
}

describe("logsSettings", () => {
  it("reads every logs: entry of conf.d and names the file and key of a bad one", () => {
    const dir = confd({
      "nginx.d/conf.yaml": [
        "logs:",
        "  - type: file",
        "    path: /var/log/nginx/*.log",
        "    service: web",
        "    source: nginx",
        "  - type: tcp",
        "    port: nope",
        "  - type: udp",
        "    port: 10518",
        "    tags: [a:b]",
        "",
      ].join("\n"),
      "app.d/conf.yaml": "instances: [{}]\nlogs:\n  - type: journald\n",
    });
    const s = logsSettings(configDefaults(), join(dir, "datadog.yaml"));
    assert.deepEqual(
      s.sources.map((c) => [c.integration, c.type, c.path || c.port]),
      [["nginx", "file", "/var/log/nginx/*.log"], ["nginx", "udp", 10518]],
    );
    const file = join(dir, "conf.d");
    assert.deepEqual(s.errors, [
      `${file}/app.d/conf.yaml: logs[0].type: journald sources are not supported by outpost (file, tcp, udp are)`,
      `${file}/nginx.d/conf.yaml: logs[1].port: expected an integer`,
    ]);
    assert.equal(s.registryPath, "/var/lib/outpost/run/registry.json");
  });

  it("puts the global processing rules first and refuses a global pattern that does not compile", () => {
    const dir = confd({
      "x.d/conf.yaml":
        "logs:\n  - type: tcp\n    port: 1\n    log_processing_rules:\n      - {type: mask_sequences, name: m, pattern: 'a', replace_placeholder: b}\n",
    });
    const config = v.parse(configSchema, {
      logs_config: {
        run_path: "/srv/run",
        processing_rules: [{ type: "exclude_at_match", name: "g", pattern: "health" }],
      },
    });
    const s = logsSettings(config, join(dir, "datadog.yaml"));
    assert.deepEqual(s.sources[0].rules.map((r) => r.name), ["g", "m"]);
    assert.equal(s.registryPath, "/srv/run/registry.json");
    const bad = v.parse(configSchema, {
      logs_config: { processing_rules: [{ type: "include_at_match", name: "bad", pattern: "(" }] },
    });
    assert.throws(
      () => logsSettings(bad, join(dir, "datadog.yaml")),
      (e: unknown) =>
        e instanceof OutpostError && e.code === "config_invalid" &&
        e.message.startsWith(
          'Invalid config key "logs_config.processing_rules[0]" (bad): pattern "("',
        ),
    );
  });
});
