import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { expvarApp } from "../../../src/status/_expvar.ts";
import { Registry } from "../../../src/telemetry/mod.ts";
import { runtime } from "../../../src/runtime/mod.ts";

describe("expvarApp() Host check", () => {
  const registry = new Registry();
  const app = expvarApp(runtime, { registry, cmdline: ["outpost", "run"] });
  const get = (host: string) =>
    app.request("http://127.0.0.1:5000/debug/vars", { headers: { Host: host } });

  for (const host of ["127.0.0.1:5000", "localhost:5000", "[::1]:5000", "localhost"]) {
    it(`answers a request to ${host}`, async () => {
      const res = await get(host);
      assert.equal(res.status, 200);
      assert.deepEqual((await res.json()).cmdline, ["outpost", "run"]);
    });
  }

  for (
    const host of ["evil.example:5000", "127.0.0.1.nip.io:5000", "10.0.0.5:5000", "0.0.0.0:5000"]
  ) {
    it(`refuses a request to ${host} with 403 and a JSON message, and counts it`, async () => {
      const before = (registry.snapshot() as any).expvar?.RefusedHost ?? 0;
      const res = await get(host);
      assert.equal(res.status, 403);
      assert.deepEqual(await res.json(), {
        error:
          `Host "${host}" is not a loopback name or address: /debug/vars answers only requests to localhost, 127.0.0.1 or [::1]`,
      });
      assert.equal((registry.snapshot() as any).expvar.RefusedHost, before + 1);
    });
  }

  it("shows the refusals in /debug/vars", async () => {
    await get("evil.example");
    const vars = await (await get("localhost:5000")).json();
    assert.ok(vars.expvar.RefusedHost >= 1);
  });
});
