import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { createSystemLoader, SYSTEM_DEFAULTS } from "../../../../src/checks/system/mod.ts";
import { configFor, fakeHost, fixtureProc } from "./_helpers.ts";

const NAMES = ["cpu", "load", "memory", "uptime", "io", "disk", "network", "file_handle", "ntp"];

describe("createSystemLoader()", () => {
  const loader = createSystemLoader();

  it("is the Core Check Loader, key core, priority 30", () => {
    assert.equal(loader.name, "Core Check Loader");
    assert.equal(loader.key, "core");
    assert.equal(loader.priority, 30);
  });

  it("load() returns null for a name it does not know", async () => {
    const config = configFor("my_check");
    assert.equal(
      await loader.load(config, config.instances[0]!, fakeHost(fixtureProc("t0"))),
      null,
    );
  });

  it('load() builds every built-in with version "", its source and loader name', async () => {
    for (const name of NAMES) {
      const config = configFor(name);
      const check = await loader.load(config, config.instances[0]!, fakeHost(fixtureProc("t0")));
      assert.ok(check, name);
      assert.equal(check.name, name);
      assert.equal(check.version, "");
      assert.equal(check.loader, "Core Check Loader");
      assert.equal(check.source, config.source);
    }
  });

  it("load() uses the check name as ID for one instance, the hashed ID otherwise; ntp always hashes", async () => {
    const host = fakeHost(fixtureProc("t0"));
    const one = configFor("cpu");
    assert.equal((await loader.load(one, one.instances[0]!, host))!.id, "cpu");
    const two = configFor("cpu", [{}, { report_total_percpu: true }]);
    assert.equal((await loader.load(two, two.instances[1]!, host))!.id, "cpu:1abc");
    const ntp = configFor("ntp");
    assert.equal((await loader.load(ntp, ntp.instances[0]!, host))!.id, "ntp:0abc");
    // The sender is the one of the check's ID.
    assert.deepEqual([...host.senders.keys()], ["cpu", "cpu:1abc", "ntp:0abc"]);
  });

  it("load() gives 15 s by default, 900 s for ntp, min_collection_interval when set", async () => {
    const host = fakeHost(fixtureProc("t0"));
    const cpu = configFor("cpu");
    assert.equal((await loader.load(cpu, cpu.instances[0]!, host))!.intervalS, 15);
    const ntp = configFor("ntp");
    assert.equal((await loader.load(ntp, ntp.instances[0]!, host))!.intervalS, 900);
    const slow = configFor("load", [{ min_collection_interval: 60 }]);
    assert.equal((await loader.load(slow, slow.instances[0]!, host))!.intervalS, 60);
  });

  it("load() throws an error naming the key for a bad option value, before making a sender", async () => {
    const cases: Array<[string, Record<string, unknown>, Record<string, unknown>, RegExp]> = [
      [
        "cpu",
        { report_total_percpu: "sometimes" },
        {},
        /cpu option "report_total_percpu": expected a boolean/,
      ],
      [
        "io",
        {},
        { device_exclude_re: "(" },
        /io option "device_exclude_re": expected a regular expression/,
      ],
      ["io", {}, { device_blacklist_re: 5 }, /io option "device_blacklist_re"/],
      [
        "disk",
        { file_system_exclude: [{}] },
        {},
        /disk option "file_system_exclude": expected a list/,
      ],
      ["disk", { mount_point_blacklist: ["["] }, {}, /disk option "mount_point_blacklist"/],
      ["disk", { timeout: "soon" }, {}, /disk option "timeout": expected a number/],
      ["network", { excluded_interfaces: 7 }, {}, /network option "excluded_interfaces"/],
      ["network", { collect_connection_state: "yes please" }, {}, /"collect_connection_state"/],
      ["ntp", { port: 70000 }, {}, /ntp option "port"/],
      ["ntp", { version: 9 }, {}, /ntp option "version"/],
      ["ntp", { offset_threshold: -1 }, {}, /ntp option "offset_threshold"/],
      ["ntp", { hosts: { a: 1 } }, {}, /ntp option "hosts"/],
    ];
    for (const [name, instance, init, message] of cases) {
      const host = fakeHost(fixtureProc("t0"));
      const config = configFor(name, [instance], init);
      await assert.rejects(
        async () => await loader.load(config, config.instances[0]!, host),
        message,
        `${name} ${JSON.stringify(instance)} ${JSON.stringify(init)}`,
      );
      assert.equal(host.senders.size, 0);
    }
  });

  it("load() takes YAML 1.1 booleans (yes/no/on/off) as the Datadog Agent does", async () => {
    const loader = createSystemLoader();
    for (const [value, perCore] of [["yes", true], ["off", false], [1, true]] as const) {
      const host = fakeHost(fixtureProc("t0"));
      const config = configFor("cpu", [{ report_total_percpu: value }]);
      const check = (await loader.load(config, config.instances[0]!, host))!;
      await check.run(new AbortController().signal);
      const cores = host.senders.get("cpu")!.find("system.cpu.idle.total", "core:cpu0");
      assert.equal(cores.length, perCore ? 1 : 0, String(value));
    }
  });

  it("load() reads the instance before init_config", async () => {
    const host = fakeHost(fixtureProc("t0"));
    const config = configFor("io", [{ device_exclude_re: "^sd" }], { device_exclude_re: "(" });
    assert.ok(await loader.load(config, config.instances[0]!, host));
  });
});

describe("SYSTEM_DEFAULTS", () => {
  it("has one default per built-in, each a null init_config and one empty instance", () => {
    assert.deepEqual(SYSTEM_DEFAULTS.map((d) => d.name).sort(), [...NAMES].sort());
    for (const d of SYSTEM_DEFAULTS) {
      const doc = parse(d.text) as Record<string, unknown>;
      assert.ok("init_config" in doc, d.name);
      assert.equal(doc.init_config, null, d.name);
      assert.deepEqual(doc.instances, [{}], d.name);
      assert.deepEqual(Object.keys(doc).sort(), ["init_config", "instances"], d.name);
    }
  });
});
