import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { tempDir } from "../../../_temp.ts";
import { buildCheckId, configDigest, loadConfd } from "../../../../src/checks/confd/mod.ts";
import { confd } from "./_fs.ts";

const root = tempDir("outpost-confd-id-");

/** The configs a single `<name>.d/conf.yaml` gives. */
function load(name: string, text: string) {
  const dir = confd(root, { [`${name}.d/conf.yaml`]: text });
  const result = loadConfd({ confdPaths: [dir], defaults: [], env: {} });
  assert.deepEqual(result.errors, {});
  assert.equal(result.configs.length, 1);
  return result.configs[0];
}

describe("check IDs (spec vectors)", () => {
  it("gives the published IDs of the default cpu, uptime and ntp configs", () => {
    const ids = ["cpu", "uptime", "ntp"].map((n) =>
      load(n, "instances:\n  - {}\n").instances[0].id
    );
    assert.deepEqual(ids, [
      "cpu:e331d61ed1323219",
      "uptime:c72f390abdefdf1a",
      "ntp:3c427a42a70bbf8",
    ]);
  });

  it("changes the ID when init_config is {} rather than absent", () => {
    const text = "init_config: {}\ninstances:\n  - {}\n";
    assert.equal(load("cpu", text).instances[0].id, "cpu:b477787dde52acf8");
    assert.equal(load("ntp", text).instances[0].id, "ntp:c148c35ad34ce9fa");
    // `init_config:` (null) is the same as absent.
    assert.equal(
      load("cpu", "init_config:\ninstances:\n  - {}\n").instances[0].id,
      "cpu:e331d61ed1323219",
    );
  });

  it("gives the IDs of the other system defaults", () => {
    const expected: Record<string, string> = {
      memory: "memory:3f1f6288b95b9979",
      load: "load:bf7cea93fb3aa780",
      disk: "disk:e2c8107ae05fae7b",
      network: "network:4b0649b7e11f0772",
      io: "io:541b60d158de04a7",
      file_handle: "file_handle:381b8b6ca58d37b0",
    };
    for (const [name, id] of Object.entries(expected)) {
      assert.equal(load(name, "instances:\n  - {}\n").instances[0].id, id);
    }
  });

  it("gives the digests and IDs of single my_check instances", () => {
    const rows: [string, string, string][] = [
      [
        "instances:\n  - host: localhost\n    port: 8080\n",
        "006c0d840d826c10",
        "my_check:7e1c1cb91fde7f9f",
      ],
      ["instances:\n  - {}\n", "61776b925ce12862", "my_check:90e9d5f678f79c6d"],
      [
        "instances:\n  - name: db1\n    tags: [env:prod]\n    min_collection_interval: 30\n",
        "aeb518f00a0e8149",
        "my_check:db1:7e0440701ed4e0b0",
      ],
      [
        "init_config:\n  timeout: 5\ninstances:\n  - port: 8080\n    host: localhost\n",
        "ebe5d9668c739851",
        "my_check:f8381ec5c90168d6",
      ],
    ];
    for (const [text, digest, id] of rows) {
      const c = load("my_check", text);
      assert.equal(c.digest, digest);
      assert.equal(c.instances[0].id, id);
    }
  });

  it("re-serializes instances and init_config as yaml.v2 does", () => {
    const c = load(
      "my_check",
      "init_config:\n  timeout: 5\ninstances:\n  - name: db1\n    tags: [env:prod]\n    min_collection_interval: 30\n",
    );
    assert.equal(
      c.instances[0].bytes,
      "min_collection_interval: 30\nname: db1\ntags:\n- env:prod\n",
    );
    assert.equal(c.initConfigBytes, "timeout: 5\n");
    assert.equal(c.instances[0].name, "db1");
  });

  it("gives both IDs of a two-instance file, the first differing from its single-instance ID", () => {
    const c = load("my_check", "instances:\n  - {}\n  - port: 1\n");
    assert.deepEqual(c.instances.map((i) => i.id), [
      "my_check:f72a2ae43c94d7db",
      "my_check:c862a3ae6f178ac9",
    ]);
    assert.notEqual(c.instances[0].id, "my_check:90e9d5f678f79c6d");
  });

  it("uses namespace when the instance has no name", () => {
    const c = load("my_check", "instances:\n  - namespace: ns1\n");
    assert.match(c.instances[0].id, /^my_check:ns1:[0-9a-f]+$/);
    assert.equal(c.instances[0].name, "ns1");
  });

  it("includes the logs section and ignore_autodiscovery_tags in the digest", () => {
    const base = load("my_check", "instances:\n  - {}\n");
    const withLogs = load(
      "my_check",
      "instances:\n  - {}\nlogs:\n  - type: file\n    path: /var/log/x.log\n",
    );
    const ignoring = load("my_check", "instances:\n  - {}\nignore_autodiscovery_tags: true\n");
    assert.notEqual(withLogs.digest, base.digest);
    assert.notEqual(ignoring.digest, base.digest);
    const logsBytes = "logs:\n- path: /var/log/x.log\n  type: file\n";
    const d = configDigest({
      name: "my_check",
      instances: ["{}\n"],
      initConfig: "",
      logs: logsBytes,
    });
    assert.equal(withLogs.digest, d.toString(16).padStart(16, "0"));
  });
});

describe("buildCheckId()", () => {
  it("matches the cpu vector from the primitives", () => {
    const digest = configDigest({ name: "cpu", instances: ["{}\n"], initConfig: "" });
    assert.equal(buildCheckId("cpu", digest, "{}\n", ""), "cpu:e331d61ed1323219");
    assert.equal(buildCheckId("cpu", digest, "{}\n", "", "x"), "cpu:x:e331d61ed1323219");
  });

  it("does not pad the hex (15 digits for ntp)", () => {
    const digest = configDigest({ name: "ntp", instances: ["{}\n"], initConfig: "" });
    assert.equal(buildCheckId("ntp", digest, "{}\n", ""), "ntp:3c427a42a70bbf8");
  });
});
