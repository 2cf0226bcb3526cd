import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { configSchema } from "../../../src/config/mod.ts";
import * as v from "valibot";
import {
  buildIntake,
  intakeSettings,
  pointAtIntake,
  wantsDevIntake,
} from "../../../src/intake/mod.ts";
import { DEV_API_KEY } from "../../../src/intake/_dev.ts";
import { runtime, tempDir, TEST_API_KEY } from "./_support.ts";

describe("buildIntake()", () => {
  it("serves on a free port and a dropped-connection fault is a network error for the client", async () => {
    const { component: intake, healthcheck } = buildIntake({ dataDir: tempDir() }, { runtime });
    await intake.start();
    try {
      assert.ok(intake.port > 0);
      const headers = { "DD-API-KEY": TEST_API_KEY };
      // Several drops: a client may resend once on its own when a reused connection closes
      // before answering (Deno's fetch does).
      await fetch(`${intake.url}/outpost/intake/faults`, {
        method: "POST",
        body: JSON.stringify({ drop_connection: true, count: 3 }),
      }).then((r) => r.body?.cancel());
      await assert.rejects(
        fetch(`${intake.url}/api/v1/check_run`, { method: "POST", body: "[]", headers }).then((r) =>
          r.text()
        ),
      );
      await fetch(`${intake.url}/outpost/intake/faults`, { method: "DELETE" }).then((r) =>
        r.body?.cancel()
      );
      const ok = await fetch(`${intake.url}/api/v1/check_run`, {
        method: "POST",
        body: "[]",
        headers,
      });
      assert.equal(ok.status, 202);
      await ok.body?.cancel();
      assert.equal(healthcheck(), true);
    } finally {
      await intake.stop();
    }
    assert.equal(healthcheck(), false);
  });

  it("start() is a no-op when already started (run --dev starts it early)", async () => {
    const intake = buildIntake({ dataDir: tempDir() }, { runtime }).component;
    await intake.start();
    const port = intake.port;
    await intake.start();
    assert.equal(intake.port, port);
    await intake.stop();
  });
});

describe("--dev intake wiring", () => {
  const config = (raw: Record<string, unknown>) => v.parse(configSchema, raw);

  it("wantsDevIntake() only without an API key and without dd_url", () => {
    assert.equal(wantsDevIntake(config({})), true);
    assert.equal(wantsDevIntake(config({ api_key: "k" })), false);
    assert.equal(wantsDevIntake(config({ dd_url: "http://127.0.0.1:9" })), false);
  });

  it("pointAtIntake() sets dd_url and the validation-skipping key, keeping other keys", () => {
    const c = pointAtIntake(config({ hostname: "edge-1" }), "http://127.0.0.1:4242");
    assert.equal(c.dd_url, "http://127.0.0.1:4242");
    assert.equal(c.api_key, DEV_API_KEY);
    assert.equal(c.api_key, "0".repeat(32));
    assert.equal(c.hostname, "edge-1");
    // Logs go there too: host:port over plain HTTP.
    assert.equal(c.logs_config.logs_dd_url, "127.0.0.1:4242");
    assert.equal(c.logs_config.logs_no_ssl, true);
  });

  it("intakeSettings() reads local_intake.* and defaults the data dir under run_path", () => {
    const s = intakeSettings(config({ run_path: "/tmp/r", local_intake: { port: 9123 } }));
    assert.equal(s.dataDir, "/tmp/r/intake");
    assert.equal(s.port, 9123);
    assert.equal(s.host, "127.0.0.1");
    assert.equal(s.maxBytes, 64 * 1024 ** 2);
    const custom = intakeSettings(
      config({ local_intake: { data_dir: "/tmp/d", max_bytes: "1mb", api_keys: ["k"] } }),
    );
    assert.deepEqual([custom.dataDir, custom.maxBytes, custom.apiKeys], ["/tmp/d", 1024 ** 2, [
      "k",
    ]]);
  });
});
