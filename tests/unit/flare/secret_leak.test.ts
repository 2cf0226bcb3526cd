import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unzipSync } from "fflate";
import { parse } from "yaml";
import { runtime } from "../../../src/runtime/mod.ts";
import { loadConfig } from "../../../src/config/mod.ts";
import { createFlare } from "../../../src/flare/mod.ts";

const API_KEY = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
const APP_KEY = "f0e1d2c3b4a5968778695a4b3c2d1e0f12345678";
const PASSWORD = "Sup3rS3cretPassw0rd";
const BEARER = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.SIGNATUREabc";
const URL_PASSWORD = "pr0xyPa55w0rd";
const PEM_BODY = "MIIEpAIBAAKCAQEAsecretPEMbodyLine1";
const SECRETS = [API_KEY, APP_KEY, PASSWORD, BEARER, URL_PASSWORD, PEM_BODY];
const PEM =
  `-----BEGIN RSA PRIVATE KEY-----\n${PEM_BODY}\nQWERTYsecondLine\n-----END RSA PRIVATE KEY-----`;
const stars = (n: number) => "*".repeat(n);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** A host seeded with every kind of secret in config, conf.d, environment and logs. */
async function seededHost() {
  const dir = mkdtempSync(join(tmpdir(), "flare-leak-"));
  const logFile = join(dir, "outpost.log");
  writeFileSync(
    join(dir, "datadog.yaml"),
    [
      `api_key: ${API_KEY}`,
      `app_key: ${APP_KEY}`,
      "hostname: leak-host",
      `log_file: ${logFile}`,
      `run_path: ${join(dir, "run")}`,
      "proxy:",
      `  https: http://user:${URL_PASSWORD}@proxy.internal:3128`,
      "additional_endpoints:",
      `  "https://app.datadoghq.eu": ["${API_KEY}"]`,
      "",
    ].join("\n"),
  );
  mkdirSync(join(dir, "conf.d", "mysql.d"), { recursive: true });
  writeFileSync(
    join(dir, "conf.d", "mysql.d", "conf.yaml"),
    [
      "instances:",
      "  - host: db",
      `    password: ${PASSWORD}`,
      `    headers: { Authorization: "Bearer ${BEARER}" }`,
      "    ssl_key: |",
      ...PEM.split("\n").map((l) => `      ${l}`),
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "conf.d", "mysql.d", "conf.yaml.example"), `password: ${PASSWORD}\n`);
  writeFileSync(
    logFile,
    [
      `2026-01-01 00:00:00 UTC | OUTPOST | INFO | (fwd) | sending with api_key=${API_KEY}`,
      `2026-01-01 00:00:01 UTC | OUTPOST | DEBUG | (api) | Authorization: Bearer ${BEARER}`,
      `2026-01-01 00:00:02 UTC | OUTPOST | DEBUG | (mysql) | connecting with password=${PASSWORD}`,
      `2026-01-01 00:00:03 UTC | OUTPOST | DEBUG | (proxy) | via https://user:${URL_PASSWORD}@proxy.internal:3128`,
      `2026-01-01 00:00:04 UTC | OUTPOST | DEBUG | (app) | app key ${APP_KEY}`,
      PEM,
      "",
    ].join("\n"),
  );
  writeFileSync(`${logFile}.1`, `older line with DD_API_KEY=${API_KEY}\n`);
  const env = {
    DD_API_KEY: API_KEY,
    DD_APP_KEY: APP_KEY,
    DD_PROXY_HTTPS: `http://user:${URL_PASSWORD}@proxy.internal:3128`,
    DD_MYSQL_PASSWORD: PASSWORD,
    HTTPS_PROXY: `http://user:${URL_PASSWORD}@proxy.internal:3128`,
    HOME: "/root",
  };
  const { config, file } = await loadConfig(runtime, { path: join(dir, "datadog.yaml"), env });
  return { dir, config, file, env };
}

test("createFlare() leaves no seeded secret in any file, and the scrubbed forms keep their tails", async () => {
  const { dir, config, file, env } = await seededHost();
  const zip = await createFlare({
    runtime,
    config,
    configFile: file,
    env,
    sources: { statusText: () => `api_key: ${API_KEY}\nproxy: http://u:${URL_PASSWORD}@p` },
    localReason: "local flare was requested",
    outDir: dir,
  });
  const files = unzipSync(readFileSync(zip));
  const names = Object.keys(files);
  for (
    const want of [
      "etc/datadog.yaml",
      "etc/confd/mysql.d/conf.yaml",
      "envvars.log",
      "logs/outpost.log",
      "logs/outpost.log.1",
      "runtime_config_dump.yaml",
      "status.log",
    ]
  ) {
    assert.ok(names.includes(`leak-host/${want}`), `missing ${want} in ${names.join(", ")}`);
  }
  assert.ok(!names.some((n) => n.endsWith(".example")), "an .example file was added");
  // Byte search in every file, the zip's entries decompressed.
  for (const [name, bytes] of Object.entries(files)) {
    const body = Buffer.from(bytes);
    for (const s of SECRETS) assert.equal(body.indexOf(s), -1, `${name} leaks ${s}`);
  }

  const datadogYaml = parse(text(files["leak-host/etc/datadog.yaml"]));
  assert.equal(datadogYaml.api_key, `${stars(28)}8f90`);
  assert.equal(datadogYaml.app_key, `${stars(36)}5678`);
  assert.equal(datadogYaml.proxy.https, "http://user:********@proxy.internal:3128");
  assert.deepEqual(datadogYaml.additional_endpoints, { "https://app.datadoghq.eu": ["********"] });
  const dump = parse(text(files["leak-host/runtime_config_dump.yaml"]));
  assert.equal(dump.api_key, `${stars(28)}8f90`);
  const confd = parse(text(files["leak-host/etc/confd/mysql.d/conf.yaml"]));
  assert.equal(confd.instances[0].password, "********");
  assert.equal(confd.instances[0].headers.Authorization, "********");
  assert.equal(confd.instances[0].ssl_key.trim(), "********");
  const envvars = text(files["leak-host/envvars.log"]);
  assert.match(envvars, new RegExp(`^DD_API_KEY=\\*{28}8f90$`, "m"));
  assert.match(envvars, new RegExp(`^DD_APP_KEY=\\*{36}5678$`, "m"));
  assert.match(envvars, /^DD_MYSQL_PASSWORD=\*{8}$/m);
  assert.match(envvars, /^HTTPS_PROXY=http:\/\/user:\*{8}@proxy.internal:3128$/m);
  assert.ok(!envvars.includes("HOME="), "a variable outside DD_* and proxies was added");
  const log = text(files["leak-host/logs/outpost.log"]);
  assert.match(log, new RegExp(`api_key=\\*{28}8f90`));
  assert.match(log, /Authorization: (Bearer )?\*{8}$/m);
  assert.match(log, /password=\*{8}/);
  assert.match(log, new RegExp(`app key \\*{36}5678`));
  assert.match(log, /^\*{8}$/m);
});

test("createFlare() caps the logs newest first and records the cap", async () => {
  const { dir, config, file, env } = await seededHost();
  const current = readFileSync(config.log_file, "utf8");
  const zip = await createFlare({
    runtime,
    config: { ...config, flare_logs_max_size: current.length - 10 },
    configFile: file,
    env,
    sources: {},
    outDir: dir,
    localReason: "local flare was requested",
  });
  const files = unzipSync(readFileSync(zip));
  const log = text(files["leak-host/flare_creation.log"]);
  assert.match(log, new RegExp(`size cap ${current.length - 10} bytes`));
  assert.match(log, /left out .*outpost\.log\.1 .*size cap reached/);
  assert.equal(files["leak-host/logs/outpost.log.1"], undefined);
  assert.ok(files["leak-host/logs/outpost.log"].length <= current.length);
});
