import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createSystemLoader } from "../../../../src/checks/system/mod.ts";
import {
  DEFAULT_NTP_HOSTS,
  localNtpServers,
  median,
  type NtpCheck,
} from "../../../../src/checks/system/_ntp.ts";
import { tempDir } from "../../../_temp.ts";
import { configFor, fakeHost, fixtureProc } from "./_helpers.ts";

describe("median()", () => {
  it("is the middle value, or the mean of the two middle ones", () => {
    assert.equal(median([3, -1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([-0.5]), -0.5);
  });
});

describe("localNtpServers()", () => {
  it("reads server, pool and peer lines of ntpd and chrony configs, without comments or repeats", () => {
    const ntpConf = "# ntpd\ndriftfile /var/lib/ntp/drift\nserver 0.debian.pool.ntp.org iburst\n" +
      "#server commented.example\npeer 10.0.0.2\n";
    const chrony =
      "pool 2.pool.ntp.org iburst maxsources 4\nserver 0.debian.pool.ntp.org\nmakestep 1 3\n";
    assert.deepEqual(localNtpServers([ntpConf, chrony]), [
      "0.debian.pool.ntp.org",
      "10.0.0.2",
      "2.pool.ntp.org",
    ]);
  });
});

async function ntpHosts(instance: Record<string, unknown>, ntpConfPaths?: string[]) {
  const config = configFor("ntp", [instance]);
  const loader = createSystemLoader({ ntpConfPaths });
  const check = await loader.load(config, config.instances[0]!, fakeHost(fixtureProc("t0")));
  return (check as NtpCheck).hosts;
}

describe("ntp check options", () => {
  it("queries the datadog pool by default, host before the other hosts", async () => {
    assert.deepEqual(await ntpHosts({}), DEFAULT_NTP_HOSTS);
    assert.deepEqual(DEFAULT_NTP_HOSTS, [
      "0.datadog.pool.ntp.org",
      "1.datadog.pool.ntp.org",
      "2.datadog.pool.ntp.org",
      "3.datadog.pool.ntp.org",
    ]);
    assert.deepEqual(await ntpHosts({ host: "a.example" }), ["a.example"]);
    assert.deepEqual(await ntpHosts({ hosts: ["b.example", "a.example"], host: "a.example" }), [
      "a.example",
      "b.example",
    ]);
  });

  it("0 means the default for port, version, timeout and offset_threshold", async () => {
    const config = configFor("ntp", [{ port: 0, version: 0, timeout: 0, offset_threshold: 0 }]);
    const check = await createSystemLoader().load(
      config,
      config.instances[0]!,
      fakeHost(fixtureProc("t0")),
    );
    assert.ok(check);
    assert.equal(check.intervalS, 900);
  });

  it("use_local_defined_servers queries the servers of the local ntpd/chrony configs", async () => {
    const dir = tempDir("outpost-ntpconf-");
    const chrony = join(dir, "chrony.conf");
    writeFileSync(chrony, "pool time.example iburst\nserver 10.1.1.1\n");
    assert.deepEqual(
      await ntpHosts({ use_local_defined_servers: true, hosts: ["ignored.example"] }, [chrony]),
      ["time.example", "10.1.1.1"],
    );
  });

  it("use_local_defined_servers fails to load when no config names a server", async () => {
    const dir = tempDir("outpost-ntpconf-");
    const empty = join(dir, "ntp.conf");
    writeFileSync(empty, "driftfile /x\n");
    const loader = createSystemLoader({ ntpConfPaths: [empty, join(dir, "missing.conf")] });
    const config = configFor("ntp", [{ use_local_defined_servers: true }]);
    await assert.rejects(
      loader.load(config, config.instances[0]!, fakeHost(fixtureProc("t0"))),
      /Cannot find an NTP server in .*ntp\.conf.*use_local_defined_servers/,
    );
  });
});
