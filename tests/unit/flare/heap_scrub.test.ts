import { test } from "node:test";
import assert from "node:assert/strict";
import { KnownSecrets, MASK, scrubHeapSnapshot } from "../../../src/config/scrub.ts";
import { knownSecrets } from "../../../src/flare/_create.ts";
import type { Config } from "../../../src/config/mod.ts";

const API_KEY = "0123456789abcdef0123456789abcdef";
const TOKEN = "7a".repeat(32);
const config = {
  api_key: API_KEY,
  hostname: "edge-1",
  proxy: { https: "http://bob:s3cret-pass@proxy:3128", no_proxy: [] },
  db: { password: "pw", token: "tok-123456" },
  secret_backend_arguments: ["--vault-token", "s.VaultTok99"],
} as unknown as Config;

test("knownSecrets() learns every secret value of the config, the environment and the token", () => {
  const known = knownSecrets({
    config,
    env: {
      DD_MYSQL_PASSWORD: "env-pass-1",
      GITHUB_TOKEN: "ghp_abcdef12",
      HOME: "/root",
      PWD: "/home/ops",
    },
    authToken: TOKEN,
  });
  assert.equal(known.get(API_KEY), "*".repeat(28) + "cdef");
  assert.equal(known.get("http://bob:s3cret-pass@proxy:3128"), `http://bob:${MASK}@proxy:3128`);
  assert.equal(known.get("s3cret-pass"), MASK);
  assert.equal(known.get("tok-123456"), MASK);
  assert.equal(known.get("s.VaultTok99"), MASK);
  assert.equal(known.get("env-pass-1"), MASK);
  assert.equal(known.get("ghp_abcdef12"), MASK);
  assert.equal(known.get(TOKEN), MASK);
  // Too short to mask everywhere, and values that are not secrets.
  assert.equal(known.get("pw"), undefined);
  assert.equal(known.get("edge-1"), undefined);
  assert.equal(known.get("/root"), undefined);
  assert.equal(known.get("/home/ops"), undefined);
});

test("scrubHeapSnapshot() scrubs every string of the table and keeps the rest", () => {
  const snapshot = {
    snapshot: { meta: { node_fields: ["type", "name"] }, node_count: 2 },
    nodes: [1, 0, 1, 1],
    strings: [
      "",
      API_KEY,
      "s3cret-pass",
      "proxy http://bob:s3cret-pass@proxy:3128 in use",
      "api_key: not-hex-key-value\npassword: hunter2",
      "Bearer abcdefghijklmnop",
      "plain text",
      // A long string the snapshot cut inside a secret.
      "args --other s.VaultT",
      TOKEN,
    ],
  };
  const known = knownSecrets({ config, env: {}, authToken: TOKEN });
  const out = JSON.parse(
    scrubHeapSnapshot(new TextEncoder().encode(JSON.stringify(snapshot)), { known, flare: true }),
  );
  assert.deepEqual(out.nodes, snapshot.nodes);
  assert.deepEqual(out.snapshot, snapshot.snapshot);
  assert.deepEqual(out.strings, [
    "",
    "*".repeat(28) + "cdef",
    MASK,
    "proxy http://bob:********@proxy:3128 in use",
    'api_key: "********"\npassword: ********',
    "Bearer ********",
    "plain text",
    `args --other ${MASK}`,
    MASK,
  ]);
});

test("scrubHeapSnapshot() throws on data that is not a heap snapshot", () => {
  assert.throws(() => scrubHeapSnapshot('{"nodes":[]}'), /no strings table/);
  assert.throws(() => scrubHeapSnapshot("not json", { known: new KnownSecrets() }));
});
