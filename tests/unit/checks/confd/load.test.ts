import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, symlinkSync } from "node:fs";
import { join, relative } from "node:path";
import { tempDir } from "../../../_temp.ts";
import { loadConfd } from "../../../../src/checks/confd/mod.ts";
import type { DefaultConfig } from "../../../../src/checks/_types.ts";
import { confd } from "./_fs.ts";

const root = tempDir("outpost-confd-load-");
const ONE = "instances:\n  - {}\n";

function load(paths: string[], defaults: DefaultConfig[] = [], env: Record<string, string> = {}) {
  return loadConfd({ confdPaths: paths, defaults, env });
}

/** `name source-relative-to-dir` of each config, in result order. */
function summary(dir: string, r: ReturnType<typeof load>): string[] {
  return r.configs.map((c) => {
    const src = c.source.startsWith("file:") ? relative(dir, c.source.slice(5)) : c.source;
    return `${c.name} ${src}${c.isDefault ? " (default)" : ""}`;
  });
}

describe("loadConfd() file rules", () => {
  it("reads every yaml/yml file in <name>.d as one config of that check", () => {
    const dir = confd(root, {
      "redis.d/conf.yaml": ONE,
      "redis.d/second.yml": ONE,
      "redis.d/notes.txt": ONE,
    });
    assert.deepEqual(summary(dir, load([dir])), [
      "redis redis.d/conf.yaml",
      "redis redis.d/second.yml",
    ]);
  });

  it("reads only one level inside <name>.d", () => {
    const dir = confd(root, { "redis.d/nested/conf.yaml": ONE, "redis.d/deeper.d/conf.yaml": ONE });
    assert.deepEqual(load([dir]), { configs: [], errors: {} });
  });

  it("skips root directories whose name does not end in .d", () => {
    const dir = confd(root, { "backup/conf.yaml": ONE, "redis.d.old/conf.yaml": ONE });
    assert.deepEqual(load([dir]).configs, []);
  });

  it("takes root-level <name>.yaml and .yml files, the name from the file", () => {
    const dir = confd(root, { "custom_check.yaml": ONE, "other.yml": ONE });
    assert.deepEqual(summary(dir, load([dir])), [
      "custom_check custom_check.yaml",
      "other other.yml",
    ]);
  });

  it("ignores other extensions, auto_conf.yaml and metrics.yaml", () => {
    const dir = confd(root, {
      "a.d/conf.yaml.example": ONE,
      "a.d/conf.json": ONE,
      "a.d/auto_conf.yaml": "ad_identifiers: [redis]\n" + ONE,
      "a.d/metrics.yaml": "jmx_metrics:\n  - include: {domain: x}\n",
      "metrics.yaml": "jmx_metrics:\n  - include: {domain: x}\n",
      "b.yaml.bak": ONE,
      "c.txt": ONE,
    });
    assert.deepEqual(load([dir]), { configs: [], errors: {} });
  });

  it("skips empty files silently", () => {
    const dir = confd(root, { "a.d/conf.yaml": "", "b.yaml": "" });
    assert.deepEqual(load([dir]), { configs: [], errors: {} });
  });

  it("gives nothing, and no error, for a path that does not exist", () => {
    assert.deepEqual(load([join(root, "missing")]), { configs: [], errors: {} });
  });

  it("still gives the built-in defaults when the first path does not exist", () => {
    const missing = join(root, "missing");
    const r = load([missing], [{ name: "cpu", text: "init_config:\ninstances:\n  - {}\n" }]);
    assert.deepEqual(r.errors, {});
    assert.deepEqual(summary(missing, r), ["cpu builtin:cpu.d/conf.yaml.default (default)"]);
  });

  it("reports sources as file:<absolute path>", () => {
    const dir = confd(root, { "a.d/conf.yaml": ONE });
    const rel = relative(process.cwd(), dir);
    assert.equal(load([rel]).configs[0].source, `file:${join(dir, "a.d", "conf.yaml")}`);
  });

  it("walks paths in order, each in name order", () => {
    const one = confd(root, { "b.d/conf.yaml": ONE, "a.yaml": ONE });
    const two = confd(root, { "a.d/conf.yaml": ONE });
    const names = load([one, two]).configs.map((c) => relative(root, c.source.slice(5)));
    assert.deepEqual(names, [
      join(relative(root, one), "a.yaml"),
      join(relative(root, one), "b.d/conf.yaml"),
      join(relative(root, two), "a.d/conf.yaml"),
    ]);
  });
});

describe("loadConfd() defaults", () => {
  it("uses a .yaml.default only when no other config names the check", () => {
    const dir = confd(root, {
      "cpu.d/conf.yaml.default": ONE,
      "disk.d/conf.yaml.default": ONE,
      "disk.d/conf.yaml": ONE,
      "root.yaml.default": ONE,
    });
    assert.deepEqual(summary(dir, load([dir])), [
      "disk disk.d/conf.yaml",
      "cpu cpu.d/conf.yaml.default (default)",
      "root root.yaml.default (default)",
    ]);
  });

  it("drops a default when another path has a regular config of the check", () => {
    const one = confd(root, { "cpu.d/conf.yaml.default": ONE });
    const two = confd(root, { "cpu.yaml": ONE });
    const r = load([one, two]);
    assert.deepEqual(r.configs.map((c) => c.isDefault), [false]);
  });

  it("keeps a default when the other config of the check is logs-only", () => {
    const dir = confd(root, {
      "nginx.d/conf.yaml.default": ONE,
      "nginx.d/logs.yaml": "logs:\n  - type: file\n    path: /var/log/nginx.log\n",
    });
    const r = load([dir]);
    assert.deepEqual(r.configs.map((c) => [c.isDefault, c.instances.length, c.logs?.length ?? 0]), [
      [false, 0, 1],
      [true, 1, 0],
    ]);
  });

  it("uses built-in defaults as if they were files in the first path", () => {
    const dir = confd(root, { "redis.d/conf.yaml": ONE });
    const r = load([dir], [{ name: "cpu", text: ONE }]);
    assert.deepEqual(summary(dir, r), [
      "redis redis.d/conf.yaml",
      "cpu builtin:cpu.d/conf.yaml.default (default)",
    ]);
    assert.equal(r.configs[1].instances[0].id, "cpu:e331d61ed1323219");
  });

  it("lets a file at <first path>/<name>.d/conf.yaml.default replace the built-in one", () => {
    const dir = confd(root, { "cpu.d/conf.yaml.default": "instances:\n  - {}\n  - {}\n" });
    const r = load([dir], [{ name: "cpu", text: ONE }]);
    assert.deepEqual(summary(dir, r), ["cpu cpu.d/conf.yaml.default (default)"]);
    assert.equal(r.configs[0].instances.length, 2);
  });

  it("disables a built-in default with an empty file at its path", () => {
    const dir = confd(root, { "cpu.d/conf.yaml.default": "" });
    assert.deepEqual(load([dir], [{ name: "cpu", text: ONE }]), { configs: [], errors: {} });
  });

  it("drops a built-in default when a regular config names the check, in any path", () => {
    const one = confd(root, {});
    const two = confd(root, { "cpu.d/conf.yaml": "instances:\n  - percpu: true\n" });
    const r = load([one, two], [{ name: "cpu", text: ONE }]);
    assert.deepEqual(r.configs.map((c) => [c.source.startsWith("file:"), c.isDefault]), [[
      true,
      false,
    ]]);
  });

  it("keeps the built-in default beside other files of the check's directory", () => {
    const dir = confd(root, { "cpu.d/extra.yaml.default": "instances:\n  - a: 1\n" });
    const r = load([dir], [{ name: "cpu", text: ONE }]);
    assert.deepEqual(summary(dir, r), [
      "cpu builtin:cpu.d/conf.yaml.default (default)",
      "cpu cpu.d/extra.yaml.default (default)",
    ]);
  });

  it("does not let a default in a later path replace the built-in one", () => {
    const one = confd(root, {});
    const two = confd(root, { "cpu.d/conf.yaml.default": ONE });
    assert.equal(load([one, two], [{ name: "cpu", text: ONE }]).configs.length, 2);
  });
});

describe("loadConfd() errors", () => {
  it("records YAML that does not parse with its line and column", () => {
    const dir = confd(root, { "bad.d/conf.yaml": "instances:\n  - a: b: c\n" });
    const r = load([dir]);
    assert.deepEqual(r.configs, []);
    assert.match(r.errors.bad, /^Cannot parse YAML of file:.*conf\.yaml: .*line 2, column \d+$/);
  });

  it("records an alias to an unknown anchor", () => {
    const dir = confd(root, { "a.d/conf.yaml": "instances: *nope\n" });
    assert.match(load([dir]).errors.a, /Unknown anchor "nope"/);
  });

  it("records a file with no instances, logs or jmx_metrics", () => {
    for (
      const text of ["init_config: {}\n", "instances: []\n", "instances:\n", "# only a comment\n"]
    ) {
      const dir = confd(root, { "a.d/conf.yaml": text });
      assert.deepEqual(load([dir]), {
        configs: [],
        errors: { a: "Configuration file contains no valid instances" },
      }, text);
    }
  });

  it("accepts a file with only logs or only jmx_metrics", () => {
    const dir = confd(root, {
      "a.d/conf.yaml": "logs:\n  - type: file\n    path: /x\n",
      "b.d/conf.yaml": "jmx_metrics:\n  - include: {domain: d}\n",
    });
    const r = load([dir]);
    assert.deepEqual(r.errors, {});
    assert.deepEqual(r.configs.map((c) => [c.name, c.instances.length]), [["a", 0], ["b", 0]]);
    assert.deepEqual(r.configs[0].logs, [{ type: "file", path: "/x" }]);
  });

  it("rejects docker_images", () => {
    const dir = confd(root, { "a.d/conf.yaml": "docker_images: [redis]\n" + ONE });
    assert.match(load([dir]).errors.a, /docker_images.*ad_identifiers/);
  });

  it("rejects instances that are not a list", () => {
    const dir = confd(root, { "a.d/conf.yaml": "instances:\n  host: x\n" });
    assert.deepEqual(load([dir]).errors, {
      a: 'Cannot parse config key "instances": expected a list',
    });
  });

  it("names the index of an instance that is not a map and loads the others", () => {
    const dir = confd(root, {
      "a.d/conf.yaml": "instances:\n  - port: 1\n  - just a string\n  - port: 3\n",
    });
    const r = load([dir]);
    assert.deepEqual(r.errors, { a: 'Cannot parse config key "instances[1]": expected a map' });
    assert.deepEqual(r.configs[0].instances.map((i) => [i.index, i.raw.port]), [[0, 1], [2, 3]]);
  });

  it("names a min_collection_interval that is not a number", () => {
    const dir = confd(root, {
      "a.d/conf.yaml": "instances:\n  - min_collection_interval: soon\n  - {}\n",
    });
    const r = load([dir]);
    assert.deepEqual(r.errors, {
      a: 'Cannot parse config key "instances[0].min_collection_interval": expected a number of seconds',
    });
    assert.equal(r.configs[0].instances.length, 1);
  });

  it("names tags that are not a list of strings", () => {
    for (const tags of ["env:prod", "[[a]]", "[{a: 1}]"]) {
      const dir = confd(root, { "a.d/conf.yaml": `instances:\n  - tags: ${tags}\n` });
      assert.deepEqual(load([dir]).errors, {
        a: 'Cannot parse config key "instances[0].tags": expected a list of strings',
      }, tags);
    }
  });

  it("names a bad common key of init_config and fails the file", () => {
    const dir = confd(root, {
      "a.d/conf.yaml": "init_config:\n  min_collection_interval: [1]\n" + ONE,
    });
    assert.deepEqual(load([dir]), {
      configs: [],
      errors: {
        a: 'Cannot parse config key "init_config.min_collection_interval": expected a number of seconds',
      },
    });
  });

  it("records a file that cannot be read", () => {
    const dir = confd(root, {});
    mkdirSync(join(dir, "a.d"));
    symlinkSync(join(dir, "nowhere.yaml"), join(dir, "a.d", "conf.yaml"));
    assert.match(load([dir]).errors.a, /^Cannot read ".*conf\.yaml": .*ENOENT/);
  });

  it("records a check directory that cannot be read", () => {
    const dir = confd(root, {});
    symlinkSync(join(dir, "nowhere"), join(dir, "b.d"));
    assert.match(load([dir]).errors.b, /^Cannot read ".*b\.d": .*ENOENT/);
  });

  it("records a conf.d path that is not a directory under the path", () => {
    const dir = confd(root, { "not-a-dir": "x" });
    const path = join(dir, "not-a-dir");
    assert.match(
      load([path]).errors[path],
      /^Cannot read conf\.d directory ".*not-a-dir": .*ENOTDIR/,
    );
  });

  it("clears a check's error when a later file of the check loads", () => {
    const dir = confd(root, { "a.d/1.yaml": "init_config: {}\n", "a.d/2.yaml": ONE });
    const r = load([dir]);
    assert.deepEqual(r.errors, {});
    assert.equal(r.configs.length, 1);
  });
});

describe("loadConfd() values", () => {
  it("accepts duplicate keys, the last one winning", () => {
    const dir = confd(root, { "a.d/conf.yaml": "instances:\n  - port: 1\n    port: 2\n" });
    const c = load([dir]).configs[0];
    assert.equal(c.instances[0].raw.port, 2);
    assert.equal(c.instances[0].bytes, "port: 2\n");
  });

  it("reads the common keys, init_config first and the instance winning", () => {
    const text =
      "init_config:\n  service: shared\n  min_collection_interval: 60\n  loader: python\n  empty_default_hostname: true\n" +
      "instances:\n  - tags: [a:b, 1]\n    service: own\n    min_collection_interval: 30\n    loader: js\n    empty_default_hostname: false\n" +
      "  - min_collection_interval: 0\n";
    const dir = confd(root, { "a.d/conf.yaml": text });
    const [first, second] = load([dir]).configs[0].instances;
    assert.deepEqual(
      [
        first.tags,
        first.service,
        first.minCollectionInterval,
        first.loader,
        first.emptyDefaultHostname,
      ],
      [["a:b", "1"], "own", 30, "js", false],
    );
    assert.deepEqual(
      [
        second.tags,
        second.service,
        second.minCollectionInterval,
        second.loader,
        second.emptyDefaultHostname,
      ],
      [[], "shared", 60, "python", true],
    );
  });

  it("leaves min_collection_interval unset when it is 0 or absent", () => {
    const dir = confd(root, {
      "a.d/conf.yaml": "instances:\n  - min_collection_interval: 0\n  - {}\n",
    });
    assert.deepEqual(load([dir]).configs[0].instances.map((i) => i.minCollectionInterval), [
      undefined,
      undefined,
    ]);
  });

  it("resolves %%env_NAME%% in string values, unset ones to empty", () => {
    const text =
      "init_config:\n  key: '%%env_API%%'\ninstances:\n  - url: http://%%env_HOST%%:%%env_PORT%%/\n    port: '%%env_PORT%%'\n    gone: 'x%%env_UNSET%%y'\n    flag: '%%env_FLAG%%'\n    '%%env_HOST%%': keys stay\n";
    const dir = confd(root, { "a.d/conf.yaml": text });
    const c = load([dir], [], { API: "k1", HOST: "db", PORT: "5432", FLAG: "true" }).configs[0];
    assert.deepEqual(c.initConfig, { key: "k1" });
    assert.deepEqual(c.instances[0].raw, {
      url: "http://db:5432/",
      port: 5432,
      gone: "xy",
      flag: true,
      "%%env_HOST%%": "keys stay",
    });
    assert.match(c.instances[0].bytes, /^port: 5432$/m);
  });

  it("treats a null instance as an empty map and absent init_config as {}", () => {
    const dir = confd(root, { "a.d/conf.yaml": "instances:\n  -\n" });
    const c = load([dir]).configs[0];
    assert.deepEqual([
      c.instances[0].bytes,
      c.instances[0].raw,
      c.initConfig,
      c.initConfigBytes,
      c.logs,
    ], ["{}\n", {}, {}, "", null]);
  });

  it("expands anchors and merge keys as yaml.v2 does", () => {
    const text = "base: &b {host: h, port: 1}\ninstances:\n  - <<: *b\n    port: 2\n  - *b\n";
    const dir = confd(root, { "a.d/conf.yaml": text });
    const c = load([dir]).configs[0];
    assert.deepEqual(c.instances.map((i) => i.bytes), ["host: h\nport: 2\n", "host: h\nport: 1\n"]);
  });

  it("keeps YAML 1.1 types: yes is a boolean, 1.0 a float printed as 1, quoted numbers strings", () => {
    const dir = confd(root, {
      "a.d/conf.yaml":
        "instances:\n  - a: yes\n    b: 1.0\n    c: '30'\n    d: 0x10\n    e: 1000000.0\n",
    });
    const inst = load([dir]).configs[0].instances[0];
    assert.deepEqual(inst.raw, { a: true, b: 1, c: "30", d: 16, e: 1000000 });
    assert.equal(inst.bytes, 'a: true\nb: 1\nc: "30"\nd: 16\ne: 1e+06\n');
  });
});
