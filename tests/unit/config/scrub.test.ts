import { test } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { MASK, scrubFile, scrubObject, scrubText, scrubYaml } from "../../../src/config/scrub.ts";

const API_KEY = "0123456789abcdef0123456789abcdef"; // 32 hex
const APP_KEY = "0123456789abcdef0123456789abcdef01234567"; // 40 hex
const stars = (n: number) => "*".repeat(n);

test("scrubText() keeps the last 4 of URL-style api_key and apikey", () => {
  assert.equal(scrubText("GET /x?api_key=secretkey1234&y=1"), `GET /x?api_key=${stars(9)}1234&y=1`);
  assert.equal(scrubText("apikey=abcdefgh"), `apikey=${stars(4)}efgh`);
});

test("scrubText() keeps the last 4 of URL-style app_key, appkey and application_key", () => {
  assert.equal(scrubText("app_key=zzzzzzzz9876"), `app_key=${stars(8)}9876`);
  assert.equal(scrubText("appkey=zzzzzzzz9876"), `appkey=${stars(8)}9876`);
  assert.equal(scrubText("application_key=zzzzzzzz9876"), `application_key=${stars(8)}9876`);
});

test("scrubText() keeps the last 4 of ddapp_ keys", () => {
  assert.equal(scrubText("key ddapp_abcdefghij"), `key ${stars(12)}ghij`);
});

test("scrubText() keeps the last 5 of a 64-hex bearer token and masks any other", () => {
  const tok = "a".repeat(59) + "bcdef";
  assert.equal(
    scrubText(`Authorization: Bearer ${tok}`),
    `Authorization: Bearer ${stars(59)}bcdef`,
  );
  assert.equal(scrubText("Bearer eyJhbGciOi.payload.sig"), `Bearer ${MASK}`);
});

test("scrubText() keeps the last 4 of bare 32-hex and 40-hex keys, quoted as YAML values", () => {
  assert.equal(scrubText(`key is ${API_KEY}.`), `key is ${stars(28)}cdef.`);
  assert.equal(scrubText(`key is ${APP_KEY}`), `key is ${stars(36)}4567`);
  assert.equal(scrubText(`api_key: ${API_KEY}`), `api_key: "${stars(28)}cdef"`);
  assert.deepEqual(parse(scrubText(`api_key: ${API_KEY}`)), { api_key: `${stars(28)}cdef` });
});

test("scrubText() keeps the last 5 of DDRCM_ keys", () => {
  assert.equal(scrubText("DDRCM_ABCDEFGH12345"), `${stars(14)}12345`);
});

test("scrubText() masks the password of a URI", () => {
  assert.equal(
    scrubText("proxy https://bob:hunter2@proxy:3128"),
    `proxy https://bob:${MASK}@proxy:3128`,
  );
  assert.equal(scrubText("mongodb://u:p%40ss@db/x"), `mongodb://u:${MASK}@db/x`);
});

test("scrubText() masks pass, password, pswd and pwd after =, ' = ' and ': '", () => {
  assert.equal(scrubText("password=hunter2"), `password=${MASK}`);
  assert.equal(scrubText("db_pass = hunter2"), `db_pass = ${MASK}`);
  assert.equal(scrubText("pswd: hunter2"), `pswd: ${MASK}`);
  assert.equal(scrubText(`"pwd": "hunter2"`), `"pwd": "${MASK}"`);
});

test("scrubText() masks password flags on command lines", () => {
  assert.equal(scrubText("mysql --password hunter2 -u root"), `mysql --password ${MASK} -u root`);
  assert.equal(scrubText("tool -pwd=hunter2"), `tool -pwd=${MASK}`);
});

test("scrubText() masks keys ending in token, jwt, _secret, _secret_id, access_key, private_key", () => {
  for (
    const k of [
      "token",
      "auth_token",
      "jwt",
      "client_secret",
      "vault_secret_id",
      "aws_access_key",
      "private_key",
    ]
  ) {
    assert.equal(scrubText(`${k}: s3cr3t`), `${k}: ${MASK}`, k);
  }
});

test("scrubText() masks consumer_key and token_id", () => {
  assert.equal(scrubText("consumer_key=abc"), `consumer_key=${MASK}`);
  assert.equal(scrubText("token_id: abc"), `token_id: ${MASK}`);
});

test("scrubText() masks x-*-key, x-*-token, x-*-auth and x-*-secret headers", () => {
  for (const k of ["x-api-key", "x-vault-token", "x-my-auth", "x-client-secret"]) {
    assert.equal(scrubText(`${k}: abc`), `${k}: ${MASK}`, k);
  }
});

test("scrubText() masks the exact secret keys (dd-api-key, cookie, authority, …)", () => {
  for (
    const k of [
      "dd-api-key",
      "cookie",
      "authority",
      "private-token",
      "kong-admin-token",
      "accesstoken",
      "session_token",
      "sec-websocket-key",
    ]
  ) {
    assert.equal(scrubText(`${k}: abc`), `${k}: ${MASK}`, k);
  }
});

test("scrubText() masks SNMP and auth keys, and any Authorization scheme", () => {
  for (
    const k of [
      "community_string",
      "community",
      "auth_key",
      "authKey",
      "priv_key",
      "privKey",
      "authentication_key",
      "privacy_key",
    ]
  ) {
    assert.equal(scrubText(`${k}: abc`), `${k}: ${MASK}`, k);
  }
  assert.equal(scrubText("Authorization: Basic dXNlcjpwYXNz"), `Authorization: ${MASK}`);
});

test("scrubText() masks multi-line community_strings lists and PEM blocks", () => {
  assert.equal(
    scrubText("community_strings:\n  - public\n  - private\nother: 1"),
    `community_strings:\n  - ${MASK}\n  - ${MASK}\nother: 1`,
  );
  const pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAKC\n-----END RSA PRIVATE KEY-----";
  assert.equal(scrubText(`before\n${pem}\nafter`), `before\n${MASK}\nafter`);
});

test("scrubText() with flare masks api_key values that are not hex", () => {
  assert.equal(scrubText("api_key: notahexkey", { flare: true }), `api_key: "${MASK}"`);
  assert.equal(scrubText("api_key: notahexkey"), "api_key: notahexkey");
  // An already-scrubbed 32-hex key keeps its tail.
  assert.equal(scrubText(`api_key: ${API_KEY}`, { flare: true }), `api_key: "${stars(28)}cdef"`);
});

test("scrubText() masks flare_stripped_keys exactly", () => {
  assert.equal(
    scrubText("site_code: 1234 other: x", { extraKeys: ["site_code"] }),
    `site_code: ${MASK} other: x`,
  );
  assert.equal(scrubText("my_site_code: 1234", { extraKeys: ["site_code"] }), "my_site_code: 1234");
});

test("scrubObject() keeps an API or app key tail that grows with its length", () => {
  const tails: Array<[string, string]> = [
    ["abcd", stars(4)],
    ["abcdef", `${stars(5)}f`],
    ["abcdefghij", `${stars(8)}ij`],
    ["abcdefghijklmnopq", `${stars(14)}opq`],
    [API_KEY, `${stars(28)}cdef`],
  ];
  for (const [key, want] of tails) {
    assert.equal(scrubObject({ api_key: key }).api_key, want, key);
    assert.equal(scrubObject({ "app-key": key })["app-key"], want, key);
    assert.equal(scrubObject({ applicationkey: key }).applicationkey, want, key);
  }
});

test("scrubObject() masks keys containing pass or pwd, and token-like keys, keeping ENC[] handles", () => {
  const out = scrubObject({
    db: { password_file: "/x", mypwd: 123, auth_token: "t", token: "ENC[vault:tok]" },
    instances: [{ community_string: "public", "x-my-secret": "s" }],
  });
  assert.deepEqual(out, {
    db: { password_file: MASK, mypwd: MASK, auth_token: MASK, token: "ENC[vault:tok]" },
    instances: [{ community_string: MASK, "x-my-secret": MASK }],
  });
});

test("scrubObject() masks every leaf of additional_endpoints as a map and rescrubs it as a list", () => {
  const map = scrubObject({ additional_endpoints: { "https://u:p@x.example": ["k1", "k2"] } });
  assert.deepEqual(map, {
    additional_endpoints: { [`https://u:${MASK}@x.example`]: [MASK, MASK] },
  });
  const list = scrubObject({ additional_endpoints: [`url?api_key=${API_KEY}`, "plain"] });
  assert.deepEqual(list, { additional_endpoints: [`url?api_key=${stars(28)}cdef`, "plain"] });
});

test("scrubObject() masks community_strings lists and flare_stripped_keys", () => {
  assert.deepEqual(scrubObject({ community_strings: ["a", "b"] }), {
    community_strings: [MASK, MASK],
  });
  assert.deepEqual(scrubObject({ nested: { site_code: "1" } }, ["site_code"]), {
    nested: { site_code: MASK },
  });
  assert.deepEqual(scrubObject({ nested: { site_code: "1" } }, { extraKeys: ["site_code"] }), {
    nested: { site_code: MASK },
  });
});

test("scrubYaml() scrubs as objects and prints valid YAML", () => {
  const out = scrubYaml(
    `# api_key: ${API_KEY}\napi_key: ${API_KEY}\nmysql:\n  pass: hunter2\n---\ntoken: t\n`,
  );
  assert.ok(!out.includes(API_KEY) && !out.includes("hunter2"));
  const [first, second] = out.split("---\n").map((d) => parse(d));
  assert.deepEqual(first, { api_key: `${stars(28)}cdef`, mysql: { pass: MASK } });
  assert.deepEqual(second, { token: MASK });
});

test("scrubYaml() falls back to text rules for YAML that does not parse", () => {
  assert.equal(scrubYaml("password: hunter2\n  : : [\n"), `password: ${MASK}\n  : : [\n`);
});

test("scrubFile() picks YAML for .yaml and .yml names and text otherwise", () => {
  assert.equal(scrubFile("conf.d/x.yaml", "pwd_hint: abc\n"), `pwd_hint: "${MASK}"\n`);
  assert.equal(scrubFile("x.log", "pwd_hint: abc\n"), "pwd_hint: abc\n");
});
