import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { runtime } from "../../../src/runtime/mod.ts";
import type { HttpServer } from "../../../src/runtime/mod.ts";
import { loadConfig } from "../../../src/config/mod.ts";
import { OutpostError } from "../../../src/errors.ts";
import { HostMetadata } from "../../../src/metadata/mod.ts";
import { Registry } from "../../../src/telemetry/mod.ts";
import {
  expvarSnapshot,
  PLAIN,
  remoteStatus,
  renderRemoteStatus,
} from "../../../src/status/mod.ts";
import { fetchExpvars } from "../../../src/status/_remote.ts";

let server: HttpServer;
let closedPort: number;
const seen: Record<string, string | null>[] = [];
const base = () => `http://127.0.0.1:${server.port}`;

before(async () => {
  server = await runtime.serve({ hostname: "127.0.0.1", port: 0 }, (req) => {
    const path = new URL(req.url).pathname;
    seen.push({
      authorization: req.headers.get("authorization"),
      "content-type": req.headers.get("content-type"),
    });
    if (path === "/debug/vars") {
      return Response.json({ pid: 77, uptime: 5, memstats: { alloc: 1024 } });
    }
    if (path === "/html") {
      return new Response("<html><body>login</body></html>", {
        headers: { "content-type": "text/html" },
      });
    }
    return new Response("boom", { status: 500, statusText: "Internal Server Error" });
  });
  const probe = await runtime.serve({ hostname: "127.0.0.1", port: 0 }, () => new Response());
  closedPort = probe.port;
  await probe.close();
});
after(() => server.close());

async function expectError(url: string, code: string, message: RegExp) {
  await assert.rejects(fetchExpvars(url, 5000), (e: unknown) => {
    assert.ok(e instanceof OutpostError);
    assert.equal(e.code, code);
    assert.match(e.message, message);
    assert.ok(!e.message.includes("\n"), "one line");
    return true;
  });
}

describe("fetchExpvars()", () => {
  it("returns the JSON object", async () => {
    assert.deepEqual(await fetchExpvars(`${base()}/debug/vars`), {
      pid: 77,
      uptime: 5,
      memstats: { alloc: 1024 },
    });
  });
  it("fails with expvar_unreachable on a closed port", async () => {
    await expectError(
      `http://127.0.0.1:${closedPort}/debug/vars`,
      "expvar_unreachable",
      new RegExp(
        `^Cannot connect to http://127\\.0\\.0\\.1:${closedPort}/debug/vars: connection refused$`,
      ),
    );
  });
  it("fails with expvar_not_json on an HTML answer", async () => {
    await expectError(
      `${base()}/html`,
      "expvar_not_json",
      /is not a JSON object \(text\/html, starts with "<html><body>/,
    );
  });
  it("sends the bearer token and Content-Type: application/json, as the Go agent's DoGet", async () => {
    seen.length = 0;
    await fetchExpvars(`${base()}/debug/vars`, 5000, "t".repeat(64));
    assert.deepEqual(seen, [{
      authorization: `Bearer ${"t".repeat(64)}`,
      "content-type": "application/json",
    }]);
  });
  it("puts the answer's body in the expvar_http_status message, as Go uses it as the error text", async () => {
    await expectError(
      `${base()}/other`,
      "expvar_http_status",
      /: HTTP 500 Internal Server Error: boom$/,
    );
  });
  it("fails with expvar_http_status on an error status", async () => {
    await expectError(`${base()}/other`, "expvar_http_status", /HTTP 500/);
  });
});

describe("remoteStatus()", () => {
  it("combines the core status, the cached host metadata and the expvars, dated in ns", async () => {
    const { config } = await loadConfig(runtime, {
      searchPaths: [],
      env: {},
      defaults: { log_level: "warn", api_key: "abcdef0123456789abcdef0123456789" },
    });
    const hostname = {
      hostname: "r1",
      provider: "os",
      osHostname: "r1",
      fqdn: "r1",
      errors: {},
    } as const;
    const metadata = new HostMetadata({ config, configFile: null, hostname });
    const cached = metadata.getFromCache();
    const s = await remoteStatus(`${base()}/debug/vars`, {
      runtime,
      config,
      metadata,
      now: () => 1_700_000_000_123,
    });
    assert.equal(s.date, 1_700_000_000_123_000_000);
    assert.equal(s.core.runtime, runtime.name);
    assert.equal(s.core.config.log_level, "warn");
    assert.equal(s.core.metadata.uuid, cached.uuid);
    assert.equal(s.core.metadata.apiKey, "****************************6789");
    assert.deepEqual(s.expvars.process_agent, { pid: 77, uptime: 5, memstats: { alloc: 1024 } });
    const text = renderRemoteStatus(s, PLAIN);
    assert.match(text, /Status date: 2023-11-14 22:13:20\.123 UTC/);
    assert.match(text, /Log Level: warn\n {2}Hostname: r1/);
    assert.match(text, / {2}pid: 77\n {2}uptime: 5\n {2}memstats\.alloc: 1024\n/);
  });
});

describe("expvarSnapshot()", () => {
  it("has every registry variable, cmdline and Go-named memstats, keys sorted", () => {
    const r = new Registry();
    r.counter("dogstatsd.packets").inc(3);
    r.counterVec("dogstatsd.parse_errors").with("event").inc();
    r.publish("uptime", () => 9);
    const s = expvarSnapshot(runtime, r, ["outpost", "run"]);
    assert.deepEqual(Object.keys(s), ["cmdline", "dogstatsd", "memstats", "uptime"]);
    assert.deepEqual(s.dogstatsd, { packets: 3, parse_errors: { event: 1 } });
    assert.deepEqual(s.cmdline, ["outpost", "run"]);
    const m = s.memstats as Record<string, number>;
    assert.deepEqual(Object.keys(m), ["Alloc", "HeapAlloc", "HeapSys", "Sys", "External"]);
    assert.ok(m.Sys > 0 && m.Alloc > 0);
  });
});
