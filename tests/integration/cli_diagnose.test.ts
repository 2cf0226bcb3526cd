/**
 * `outpost diagnose` as a subprocess against real endpoints: the embedded local intake taking
 * the key, the same intake refusing it (403), a closed port, and the healthy intake through the
 * `proxy` package as the configured HTTP proxy. Every pipeline (metrics, traces, logs) points at
 * the intake under test.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { join } from "node:path";
import { createProxy } from "proxy";
import { runtime } from "../../src/runtime/mod.ts";
import { buildIntake } from "../../src/intake/mod.ts";
import { tempDir } from "../_temp.ts";
import { testCertificate } from "../unit/forwarder/_helpers.ts";
import { outpost } from "./_cli.ts";

const KEY = "0123456789abcdef0123456789abcdef";
const dir = tempDir("outpost-diagnose-");

const good = buildIntake({ dataDir: join(dir, "good"), apiKeys: [KEY] }, { runtime }).component;
const other = buildIntake({ dataDir: join(dir, "other"), apiKeys: ["f".repeat(32)] }, { runtime })
  .component;
let proxy: Server;
/** An HTTPS endpoint whose certificate is signed by a CA of this test only. */
let tlsServer: ReturnType<typeof createHttpsServer>;
let tlsUrl: string;
let caPath: string;
let proxyUrl: string;
const proxied: string[] = [];

before(async () => {
  await good.start();
  await other.start();
  proxy = createProxy(createHttpServer());
  proxy.on("request", (req) => proxied.push(`${req.method} ${req.url}`));
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
  const tls = await testCertificate(runtime, dir);
  caPath = tls.caPath;
  tlsServer = createHttpsServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const ok = req.url === `/api/v1/validate?api_key=${KEY}`;
    res.writeHead(ok ? 200 : 403, { "Content-Type": "application/json" });
    res.end(JSON.stringify(ok ? { valid: true } : { errors: ["Forbidden"] }));
  });
  await new Promise<void>((r) => tlsServer.listen(0, "127.0.0.1", r));
  tlsUrl = `https://127.0.0.1:${(tlsServer.address() as { port: number }).port}`;
});

after(async () => {
  await good.stop();
  await other.stop();
  await new Promise((r) => proxy.close(r));
  await new Promise((r) => tlsServer.close(r));
});

/** A config whose three pipelines all send to `base` (`http://host:port`). */
function configFor(name: string, base: string, extra: string[] = []): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    [
      `api_key: ${KEY}`,
      `dd_url: ${base}`,
      `run_path: ${dir}`,
      "forwarder_timeout: 5",
      "apm_config:",
      `  apm_dd_url: ${base}`,
      "logs_enabled: true",
      "logs_config:",
      `  logs_dd_url: ${base.replace("http://", "")}`,
      "  logs_no_ssl: true",
      ...extra,
    ].join("\n") + "\n",
  );
  return file;
}

describe("outpost diagnose", { timeout: 60_000 }, () => {
  it("passes against a healthy intake: every pipeline reachable, key valid, clock in step", async () => {
    const file = configFor("good", good.url);
    const r = await outpost(["diagnose", "-c", file]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Diagnose: PASS\n$/);
    const j = await outpost(["diagnose", "-c", file, "--json"]);
    assert.equal(j.code, 0);
    const d = JSON.parse(j.stdout);
    assert.equal(d.ok, true);
    assert.deepEqual(d.endpoints.map((e: any) => e.pipeline), ["metrics", "traces", "logs"]);
    for (const e of d.endpoints) {
      assert.equal(e.url, good.url);
      assert.equal(e.apiKey, "valid");
      assert.equal(e.status, 200);
      assert.equal(e.proxy, "none");
      assert.equal(e.tls, "none");
      assert.equal(e.key, "API key ending with bcdef");
      // Same host, same clock: however slow the answer, no skew.
      assert.equal(e.clockSkewS, 0);
    }
    assert.equal(d.disk.ok, true);
    assert.equal(d.disk.path, dir);
    assert.ok(d.disk.freeBytes > 0 && d.disk.totalBytes >= d.disk.freeBytes);
    assert.doesNotMatch(r.stdout + j.stdout, new RegExp(KEY));
  });

  it("fails with the key refused (403) when the intake does not take it", async () => {
    const r = await outpost(["diagnose", "-c", configFor("other", other.url), "--json"]);
    assert.equal(r.code, 1);
    const d = JSON.parse(r.stdout);
    assert.equal(d.ok, false);
    for (const e of d.endpoints) {
      assert.equal(e.ok, false);
      assert.equal(e.status, 403);
      assert.equal(e.apiKey, "invalid");
      assert.match(e.detail, /API key is refused \(403\)/);
    }
    const text = await outpost(["diagnose", "-c", configFor("other", other.url)]);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /^FAIL +metrics +http:\/\/127\.0\.0\.1:\d+ /m);
    assert.match(text.stdout, /Diagnose: FAIL \(3 failed\)\n$/);
  });

  it("fails with connection refused for a closed port", async () => {
    const r = await outpost([
      "diagnose",
      "-c",
      configFor("closed", "http://127.0.0.1:9"),
      "--json",
    ]);
    assert.equal(r.code, 1);
    const d = JSON.parse(r.stdout);
    assert.equal(d.endpoints.length, 3);
    for (const e of d.endpoints) {
      assert.equal(e.ok, false);
      assert.equal(e.apiKey, "unreachable");
      assert.equal(e.detail, "connection refused");
      assert.equal(e.status, undefined);
    }
  });

  it("goes through the configured proxy and names it, without its credentials", async () => {
    proxied.length = 0;
    const withCreds = proxyUrl.replace("http://", "http://user:pw@");
    const file = configFor("proxy", good.url, ["proxy:", `  http: ${withCreds}`]);
    const r = await outpost(["diagnose", "-c", file, "--json"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const d = JSON.parse(r.stdout);
    for (const e of d.endpoints) {
      assert.equal(e.proxy, proxyUrl);
      assert.equal(e.apiKey, "valid");
    }
    // Each pipeline's validation went through the proxy.
    assert.equal(proxied.filter((p) => p.startsWith(`GET ${good.url}/api/v1/validate`)).length, 3);
    assert.doesNotMatch(r.stdout, /pw@/);
  });

  it("names the TLS in use: verified with the custom CA passes, an unknown CA fails", async () => {
    const metricsOnly = (name: string, extra: string[]) => {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(
        file,
        [`api_key: ${KEY}`, `dd_url: ${tlsUrl}`, `run_path: ${dir}`, "forwarder_timeout: 5"]
          .concat("apm_config:", "  enabled: false", ...extra).join("\n") + "\n",
      );
      return file;
    };
    const withCa = await outpost([
      "diagnose",
      "-c",
      metricsOnly("tls-ca", [`forwarder_ca_bundle: ${caPath}`]),
      "--json",
    ]);
    assert.equal(withCa.code, 0, withCa.stdout + withCa.stderr);
    const [ok] = JSON.parse(withCa.stdout).endpoints;
    assert.deepEqual([ok.pipeline, ok.tls, ok.apiKey], ["metrics", "verified, custom CA", "valid"]);

    const without = await outpost(["diagnose", "-c", metricsOnly("tls-none", []), "--json"]);
    assert.equal(without.code, 1);
    const [bad] = JSON.parse(without.stdout).endpoints;
    assert.deepEqual([bad.tls, bad.apiKey, bad.ok], ["verified", "unreachable", false]);
    assert.match(bad.detail, /certificate|verify|issuer/i);
  });
});
