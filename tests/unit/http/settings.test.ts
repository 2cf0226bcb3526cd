import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { httpSettings } from "../../../src/http/mod.ts";
import { testConfig } from "../forwarder/_helpers.ts";

const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

test("httpSettings() resolves proxy, CA, TLS and timeout from the config", () => {
  const dir = mkdtempSync(join(tmpdir(), "outpost-http-"));
  try {
    writeFileSync(join(dir, "ca.pem"), PEM);
    const s = httpSettings(
      testConfig({
        proxy: { https: "http://p:3128", no_proxy: ["a.example"] },
        forwarder_ca_bundle: join(dir, "ca.pem"),
        skip_ssl_validation: true,
        forwarder_timeout: 7,
      }),
      { HTTPS_PROXY: "http://ignored:1" },
    );
    assert.equal(s.proxy.https, "http://p:3128");
    assert.equal(s.proxy.http, undefined);
    assert.equal(s.ca, PEM);
    assert.equal(s.insecure, true);
    assert.equal(s.timeoutMs, 7000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("httpSettings() defaults: no proxy, no CA, verification on, 20 s", () => {
  const s = httpSettings(testConfig(), {});
  assert.deepEqual(
    { http: s.proxy.http, https: s.proxy.https, ca: s.ca, insecure: s.insecure },
    { http: undefined, https: undefined, ca: undefined, insecure: false },
  );
  assert.equal(s.timeoutMs, 20_000);
});

test("httpSettings() takes a scheme-less proxy variable as http:// and refuses other schemes", () => {
  assert.equal(
    httpSettings(testConfig(), { https_proxy: "p.lan:3128" }).proxy.https,
    "http://p.lan:3128",
  );
  assert.throws(
    () => httpSettings(testConfig(), { HTTPS_PROXY: "socks5://p.lan:1080" }),
    {
      code: "config_invalid",
      message:
        'Cannot parse variable "HTTPS_PROXY": expected an http:// or https:// proxy, got socks5://',
    },
  );
});

test("httpSettings() names forwarder_ca_bundle when it is missing or holds no certificate", () => {
  const dir = mkdtempSync(join(tmpdir(), "outpost-http-"));
  try {
    assert.throws(
      () => httpSettings(testConfig({ forwarder_ca_bundle: join(dir, "none.pem") }), {}),
      {
        code: "config_invalid",
        message: 'Cannot read config key "forwarder_ca_bundle": ENOENT',
      },
    );
    writeFileSync(join(dir, "key.pem"), "-----BEGIN PRIVATE KEY-----\n");
    assert.throws(
      () => httpSettings(testConfig({ forwarder_ca_bundle: join(dir, "key.pem") }), {}),
      {
        code: "config_invalid",
        message: `Cannot read config key "forwarder_ca_bundle": expected PEM certificates in ${
          join(dir, "key.pem")
        }`,
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
