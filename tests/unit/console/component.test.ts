import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { runtime } from "../../../src/runtime/mod.ts";
import { createLogger } from "../../../src/log/mod.ts";
import { buildConsole, consoleSettings, Sessions } from "../../../src/console/mod.ts";
import { configDefaults } from "../../../src/config/mod.ts";
import { Registry } from "../../../src/telemetry/mod.ts";

const deps = (lines: string[]) => ({
  runtime,
  logger: createLogger({ level: "info", write: (l: string) => void lines.push(l) }),
  sessions: new Sessions(),
  registry: new Registry(),
  token: "ab".repeat(32),
  hostname: "h",
  agentApi: () => new Response("{}"),
  intakeUrl: null,
  fleet: () => Promise.resolve(new Response("{}")),
  sendFlare: () => Promise.resolve({ ok: true, message: "" }),
});

describe("console component", () => {
  it("is on 5002 by default and off with gui_port -1", () => {
    assert.deepEqual(consoleSettings(configDefaults()), { port: 5002 });
    assert.equal(consoleSettings({ gui_port: -1 }), null);
  });

  it("serves the login page on 127.0.0.1 once started", async () => {
    const lines: string[] = [];
    const { component, healthcheck } = buildConsole({ port: 0 }, deps(lines));
    await component.start();
    try {
      assert.equal(healthcheck(), true);
      const res = await fetch(`${component.url}/login`);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /name="token"/);
      assert.ok(lines.some((l) => l.includes(`Web console on ${component.url}`)));
    } finally {
      await component.stop();
    }
  });

  it("logs a port it cannot listen on and stays unhealthy, without failing the start", async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
    const port = (taken.address() as { port: number }).port;
    const lines: string[] = [];
    const { component, healthcheck } = buildConsole({ port }, deps(lines));
    try {
      await component.start();
      assert.equal(healthcheck(), false);
      assert.ok(
        lines.some((l) => /ERROR.*Cannot start the web console on 127\.0\.0\.1:\d+/.test(l)),
      );
    } finally {
      await component.stop();
      taken.close();
    }
  });
});
