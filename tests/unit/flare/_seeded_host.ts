/**
 * The seeded host of the flare leak tests: secrets of every kind in config, conf.d, environment
 * and logs. Shared by the test file and the fresh process that builds the flare with profiles
 * (its heap holds these constants, so the profiles must be scrubbed of them).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runtime } from "../../../src/runtime/mod.ts";
import { loadConfig } from "../../../src/config/mod.ts";

export const API_KEY = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
export const APP_KEY = "f0e1d2c3b4a5968778695a4b3c2d1e0f12345678";
export const PASSWORD = "Sup3rS3cretPassw0rd";
export const BEARER = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.SIGNATUREabc";
export const URL_PASSWORD = "pr0xyPa55w0rd";
export const PEM_BODY = "MIIEpAIBAAKCAQEAsecretPEMbodyLine1";
// The kinds of a security review's findings, each with a value of its own.
export const VAULT_TOKEN = "s.OeIueyXZwBWmt7"; // secret_backend_arguments: [--vault-token, …]
export const CONFD_SECRET = "CBt0N1N38yrPJI"; // conf.d `secret:`
export const CONFD_SECRET_KEY = "5Nc6PcuMKi5gun"; // conf.d `secret_key:`
export const CLIENT_SECRET = "fJ1IA7FfZZDPFs"; // conf.d `client_secret:`
export const REDIS_PASSWORD = "AqhQjR24UjTaEn"; // `redis-cli -a …` in conf.d and in a log line
export const MYSQL_PASSWORD = "UE6o0vJTk84xCT"; // `mysql -p…` in a log line
export const AWS_SECRET = "Rd2vEVgG84hiT6cguPzZ/gThidVSZgSn8v5Adq+s"; // bare, in a log line
export const AWS_KEY_ID = "AKIAS5U2XLDEB3QJF1VK";
export const AUTH_TOKEN = "22c4db8b28f43801eb1f0285d749103ef83d4cb0e97e7c55942c47d3a01a8c57";
export const ENV_TOKEN = "vM6hf1gFCdTXe3"; // DD_SECRET_BACKEND_TOKEN, also bare in a log line
export const SECRETS = [
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
export const PEM =
  `-----BEGIN RSA PRIVATE KEY-----\n${PEM_BODY}\nQWERTYsecondLine\n-----END RSA PRIVATE KEY-----`;
export const stars = (n: number) => "*".repeat(n);
export const text = (b: Uint8Array) => new TextDecoder().decode(b);

/**
 * Every place where a seeded secret, or any 8-character piece of one, occurs in the raw bytes
 * of an entry. Pieces are looked up by their first two bytes, so megabytes of heap snapshot
 * are scanned in one pass.
 */
export function leaks(files: Record<string, Uint8Array>): string[] {
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

/** A host in `dir` seeded with every kind of secret in config, conf.d, environment and logs. */
export async function seededHost(dir: string) {
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
