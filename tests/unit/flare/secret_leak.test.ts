import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { unzipSync } from "fflate";
import { parse } from "yaml";
import { runtime } from "../../../src/runtime/mod.ts";
import { loadConfig } from "../../../src/config/mod.ts";
import { createFlare } from "../../../src/flare/mod.ts";
import { tempDir } from "../../_temp.ts";

const API_KEY = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
const APP_KEY = "f0e1d2c3b4a5968778695a4b3c2d1e0f12345678";
const PASSWORD = "Sup3rS3cretPassw0rd";
const BEARER = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.SIGNATUREabc";
const URL_PASSWORD = "pr0xyPa55w0rd";
const PEM_BODY = "MIIEpAIBAAKCAQEAsecretPEMbodyLine1";
// The kinds of a security review's findings, each with a value of its own.
const VAULT_TOKEN = "s.OeIueyXZwBWmt7"; // secret_backend_arguments: [--vault-token, …]
const CONFD_SECRET = "CBt0N1N38yrPJI"; // conf.d `secret:`
const CONFD_SECRET_KEY = "5Nc6PcuMKi5gun"; // conf.d `secret_key:`
const CLIENT_SECRET = "fJ1IA7FfZZDPFs"; // conf.d `client_secret:`
const REDIS_PASSWORD = "AqhQjR24UjTaEn"; // `redis-cli -a …` in conf.d and in a log line
const MYSQL_PASSWORD = "UE6o0vJTk84xCT"; // `mysql -p…` in a log line
const AWS_SECRET = "Rd2vEVgG84hiT6cguPzZ/gThidVSZgSn8v5Adq+s"; // bare, in a log line
const AWS_KEY_ID = "AKIAS5U2XLDEB3QJF1VK";
const AUTH_TOKEN = "22c4db8b28f43801eb1f0285d749103ef83d4cb0e97e7c55942c47d3a01a8c57";
const ENV_TOKEN = "vM6hf1gFCdTXe3"; // DD_SECRET_BACKEND_TOKEN, also bare in a log line
const SECRETS = [
  API_KEY,
  APP_KEY,
  PASSWORD,
  BEARER,
  URL_PASSWORD,
  PEM_BODY,
  VAULT_TOKEN,
  CONFD_SECRET,
  CONFD_SECRET_KEY,
  CLIENT_SECRET,
  REDIS_PASSWORD,
  MYSQL_PASSWORD,
  AWS_SECRET,
  AWS_KEY_ID,
  AUTH_TOKEN,
  ENV_TOKEN,
];
const PEM =
  `-----BEGIN RSA PRIVATE KEY-----\n${PEM_BODY}\nQWERTYsecondLine\n-----END RSA PRIVATE KEY-----`;
const stars = (n: number) => "*".repeat(n);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/**
 * Every place where a seeded secret, or any 8-character piece of one, occurs in the raw bytes
 * of an entry. Pieces are looked up by their first two bytes, so megabytes of heap snapshot
 * are scanned in one pass.
 */
function leaks(files: Record<string, Uint8Array>): string[] {
  const pieces = new Map<number, Map<string, string>>();
  for (const secret of SECRETS) {
    for (let i = 0; i + 8 <= secret.length; i++) {
      const piece = secret.slice(i, i + 8);
      const key = piece.charCodeAt(0) | (piece.charCodeAt(1) << 8);
      if (!pieces.has(key)) pieces.set(key, new Map());
      pieces.get(key)!.set(piece, secret);
    }
  }
  const hits: string[] = [];
  for (const [name, bytes] of Object.entries(files)) {
    for (let i = 0; i + 8 <= bytes.length; i++) {
      const candidates = pieces.get(bytes[i] | (bytes[i + 1] << 8));
      if (!candidates) continue;
      const piece = String.fromCharCode(...bytes.subarray(i, i + 8));
      const secret = candidates.get(piece);
      if (secret) hits.push(`${name} holds "${piece}" of ${secret} at byte ${i}`);
    }
  }
  return hits;
}

/** A host seeded with every kind of secret in config, conf.d, environment and logs. */
async function seededHost() {
  const dir = tempDir("flare-leak-");
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
      `secret_backend_arguments: ["--vault-token", "${VAULT_TOKEN}"]`,
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
  mkdirSync(join(dir, "conf.d", "vault.d"));
  writeFileSync(
    join(dir, "conf.d", "vault.d", "conf.yaml"),
    [
      "instances:",
      `  - secret: ${CONFD_SECRET}`,
      `    secret_key: ${CONFD_SECRET_KEY}`,
      `    client_secret: "${CLIENT_SECRET}"`,
      `    command: "redis-cli -h cache -a ${REDIS_PASSWORD} ping"`,
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
      `2026-01-01 00:00:05 UTC | OUTPOST | DEBUG | (redis) | running redis-cli -a ${REDIS_PASSWORD} info`,
      `2026-01-01 00:00:06 UTC | OUTPOST | DEBUG | (mysql) | running mysql -u root -p${MYSQL_PASSWORD} -e "select 1"`,
      `2026-01-01 00:00:07 UTC | OUTPOST | WARN | (s3) | upload as ${AWS_KEY_ID} with ${AWS_SECRET} failed`,
      `2026-01-01 00:00:08 UTC | OUTPOST | DEBUG | (api) | token file holds ${AUTH_TOKEN}`,
      `2026-01-01 00:00:09 UTC | OUTPOST | DEBUG | (secrets) | backend said ${ENV_TOKEN}`,
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
    DD_SECRET_BACKEND_TOKEN: ENV_TOKEN,
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
    authToken: AUTH_TOKEN,
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
  assert.deepEqual(leaks(files), []);

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

// A heap snapshot holds every string of this process, these secrets among them (they are
// constants of this file): the test checks the flare the running agent builds, with profiles.
test(
  "createFlare() with profiles leaves no seeded secret nor any 8-character piece of one in any byte",
  {
    timeout: 120_000,
  },
  async () => {
    const { dir, config, file, env } = await seededHost();
    const zip = await createFlare({
      runtime,
      config,
      configFile: file,
      env,
      authToken: AUTH_TOKEN,
      sources: { statusText: () => `api token ${AUTH_TOKEN}, proxy ${URL_PASSWORD}` },
      profileSeconds: 1,
      outDir: dir,
    });
    const files = unzipSync(readFileSync(zip));
    const names = Object.keys(files);
    for (
      const want of [
        "etc/confd/vault.d/conf.yaml",
        "profiles/core-1st-heap.heapsnapshot",
        "profiles/core-cpu.cpuprofile",
        "profiles/core-2nd-heap.heapsnapshot",
      ]
    ) {
      assert.ok(names.includes(`leak-host/${want}`), `missing ${want} in ${names.join(", ")}`);
    }
    assert.deepEqual(leaks(files), []);
    // The heap snapshot was scrubbed, not emptied: its strings hold the masked key.
    const heap = JSON.parse(text(files["leak-host/profiles/core-1st-heap.heapsnapshot"]));
    assert.ok(heap.strings.length > 1000);
    assert.ok(heap.strings.some((s: string) => s.includes(`${stars(28)}8f90`)));
    const vault = parse(text(files["leak-host/etc/confd/vault.d/conf.yaml"]));
    assert.deepEqual(vault.instances[0], {
      secret: "********",
      secret_key: "********",
      client_secret: "********",
      command: "redis-cli -h cache -a ******** ping",
    });
    const dd = parse(text(files["leak-host/etc/datadog.yaml"]));
    assert.deepEqual(dd.secret_backend_arguments, ["--vault-token", "********"]);
    const report = JSON.parse(text(files["leak-host/non_scrubbed_files.json"]));
    assert.deepEqual(report.files, []);
    assert.match(report.message, /review the files before sending them/);
  },
);
