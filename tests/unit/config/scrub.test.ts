import { test } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import {
  KnownSecrets,
  MASK,
  scrubFile,
  scrubFileReport,
  scrubObject,
  scrubText,
  scrubYaml,
} from "../../../src/config/scrub.ts";

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

test("scrubText() masks the value of any secret flag, but not the next flag", () => {
  assert.equal(
    scrubText("vault --vault-token s.AbC123 --addr http://v:8200"),
    `vault --vault-token ${MASK} --addr http://v:8200`,
  );
  assert.equal(
    scrubText("x --client-secret='a b' --api-key=k1"),
    `x --client-secret='${MASK}' --api-key=${MASK}`,
  );
  assert.equal(scrubText("x --token --verbose"), "x --token --verbose");
  assert.equal(scrubText("x --user bob --port 5"), "x --user bob --port 5");
});

test("scrubText() masks one-letter password flags of the commands that have them", () => {
  assert.equal(
    scrubText("redis-cli -h db -a Redi5Pw -p 6379"),
    `redis-cli -h db -a ${MASK} -p 6379`,
  );
  assert.equal(
    scrubText("/usr/bin/mysql -u root -pS3cret db"),
    `/usr/bin/mysql -u root -p${MASK} db`,
  );
  assert.equal(scrubText("sshpass -p pw12 ssh h"), `sshpass -p ${MASK} ssh h`);
  assert.equal(scrubText("curl -u bob:pa55 http://x"), `curl -u bob:${MASK} http://x`);
  // Elsewhere -a and -p mean other things, and `mysql -p` alone prompts.
  assert.equal(scrubText("ls -a /tmp; ssh -p 2222 h"), "ls -a /tmp; ssh -p 2222 h");
  assert.equal(scrubText("mysql -p db"), "mysql -p db");
});

test("scrubText() masks secret, secret_key and other secret-named keys", () => {
  for (
    const k of ["secret", "secret_key", "client_secret", "aws_secret_access_key", "passphrase"]
  ) {
    assert.equal(scrubText(`${k}: s3cr3t`), `${k}: ${MASK}`, k);
  }
  assert.equal(scrubText("secret_backend_command: /bin/x"), "secret_backend_command: /bin/x");
});

test("scrubText() masks AWS access key ids to their tail and bare secret access keys whole", () => {
  assert.equal(
    scrubText("id AKIAIOSFODNN7EXAMPLE key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY."),
    `id ${stars(16)}MPLE key ${MASK}.`,
  );
  // A path or a lower-case word of 40 characters is no key.
  const path = "usr/local/lib/node_modules/pkg/dist/file";
  assert.equal(path.length, 40);
  assert.equal(scrubText(`at /${path}`), `at /${path}`);
});

test("scrubObject() masks the value after a secret flag in an argument list", () => {
  assert.deepEqual(
    scrubObject({
      secret_backend_arguments: ["--vault-token", "s.AbC123", "--addr", "http://v:8200"],
      cmd: ["/usr/bin/redis-cli", "-a", "Redi5Pw", "-p", "6379"],
      db: ["mysql", "-pS3cret", "-p"],
      ls: ["ls", "-a", "/tmp"],
    }),
    {
      secret_backend_arguments: ["--vault-token", MASK, "--addr", "http://v:8200"],
      cmd: ["/usr/bin/redis-cli", "-a", MASK, "-p", "6379"],
      db: ["mysql", `-p${MASK}`, "-p"],
      ls: ["ls", "-a", "/tmp"],
    },
  );
});

test("scrubObject() masks secret, secret_key, *_secret, private_key and credentials keys", () => {
  const out = scrubObject({
    secret: "a",
    secret_key: "b",
    client_secret: "c",
    private_key: "d",
    account_key: "e",
    credentials: "f",
    secret_backend_command: "/bin/x",
  });
  assert.deepEqual(out, {
    secret: MASK,
    secret_key: MASK,
    client_secret: MASK,
    private_key: MASK,
    account_key: MASK,
    credentials: MASK,
    secret_backend_command: "/bin/x",
  });
});

test("scrubObject() with known learns every value it masks, and a URL's password", () => {
  const known = new KnownSecrets();
  scrubObject({
    db: { password: "hunter22" },
    api_key: API_KEY,
    proxy: "http://bob:pr0xy-pw@p:3128",
    args: ["--vault-token", "s.AbC123"],
    check: "redis-cli -a Redi5Pw99 ping",
    short: { token: "abc" },
  }, { known });
  // The one piece a text rule changed is a secret of its own.
  assert.equal(known.get("Redi5Pw99"), MASK);
  // So is each random-looking line of a masked PEM block, not its words.
  scrubObject({
    tls: "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAK9\n-----END RSA PRIVATE KEY-----",
  }, {
    known,
  });
  assert.equal(known.get("MIIEpAIBAAK9"), MASK);
  assert.equal(known.get("PRIVATE"), undefined);
  assert.equal(known.get("hunter22"), MASK);
  assert.equal(known.get(API_KEY), `${stars(28)}cdef`);
  assert.equal(known.get("http://bob:pr0xy-pw@p:3128"), `http://bob:${MASK}@p:3128`);
  assert.equal(known.get("pr0xy-pw"), MASK);
  assert.equal(known.get("s.AbC123"), MASK);
  // Too short to mask by value.
  assert.equal(known.get("abc"), undefined);
});

test("KnownSecrets.mask() replaces known values anywhere, and fragments of 8 characters", () => {
  const known = new KnownSecrets();
  known.add("s.Vault0Token42");
  known.add(API_KEY, `${stars(28)}cdef`);
  known.add("a1b2c3d4e5f60718293a4b5c6d7e8f90", `${stars(28)}8f90`);
  known.add("http://u:pr0xyPa55w0rd@h:1", `http://u:${MASK}@h:1`);
  assert.equal(
    known.mask(`t=s.Vault0Token42 ${API_KEY} http://u:pr0xyPa55w0rd@h:1 pr0xyPa55w0rd`),
    `t=${MASK} ${stars(28)}cdef http://u:${MASK}@h:1 ${MASK}`,
  );
  // Cut pieces: a heap snapshot's long strings end early, a log tail starts late.
  assert.equal(known.mask("…s.Vault0To"), `…${MASK}`);
  assert.equal(known.mask("e5f60718293a4b5c6d7e8f90 end"), `${MASK} end`);
  assert.equal(known.mask("xPa55w0rdz"), `x${MASK}z`);
  // Scrubbed output is never learned: its runs of stars would become fragments.
  known.add(`${stars(28)}8f90`);
  assert.equal(known.mask(`${stars(28)}cdef`), `${stars(28)}cdef`);
  // Seven characters are no fragment, and the text around the URL's password is kept.
  assert.equal(known.mask("Vault0T http://u:x@h:1"), "Vault0T http://u:x@h:1");
});

test("scrubText() with known masks known values before its rules", () => {
  const known = new KnownSecrets();
  known.add("plainValue99");
  assert.equal(scrubText("note: plainValue99", { known }), `note: ${MASK}`);
});

test("scrubFileReport() says when a YAML file had to be scrubbed as text", () => {
  assert.deepEqual(scrubFileReport("a.yaml", "password: x\n"), {
    text: `password: "${MASK}"\n`,
    shortfall: null,
  });
  const broken = scrubFileReport("a.yaml", "password: hunter2\n  : : [\n");
  assert.equal(broken.text, `password: ${MASK}\n  : : [\n`);
  assert.match(broken.shortfall!, /does not parse/);
  assert.equal(scrubFileReport("a.log", "x").shortfall, null);
});
