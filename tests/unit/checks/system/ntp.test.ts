import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createSystemLoader } from "../../../../src/checks/system/mod.ts";
import { localNtpServers, median } from "../../../../src/checks/system/_ntp.ts";
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

describe("ntp check options", () => {
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
