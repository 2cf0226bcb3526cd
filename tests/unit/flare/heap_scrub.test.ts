import { test } from "node:test";
import assert from "node:assert/strict";
import { configSecrets, scrubHeapSnapshot } from "../../../src/flare/mod.ts";

const API_KEY = "0123456789abcdef0123456789abcdef";
const config = {
  api_key: API_KEY,
  hostname: "edge-1",
  proxy: { https: "http://bob:s3cret-pass@proxy:3128", no_proxy: [] },
  db: { password: "pw", token: "tok-123456" },
};

test("configSecrets() maps each value the scrubber changes to its scrubbed form", () => {
  const secrets = configSecrets(config);
  assert.equal(secrets.get(API_KEY), "*".repeat(28) + "cdef");
  assert.equal(secrets.get("http://bob:s3cret-pass@proxy:3128"), "http://bob:********@proxy:3128");
  assert.equal(secrets.get("s3cret-pass"), "********");
  assert.equal(secrets.get("tok-123456"), "********");
  // Too short to mask everywhere, and values that are not secrets.
  assert.equal(secrets.has("pw"), false);
  assert.equal(secrets.has("edge-1"), false);
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
    ],
  };
  const out = JSON.parse(
    scrubHeapSnapshot(new TextEncoder().encode(JSON.stringify(snapshot)), configSecrets(config), {
      flare: true,
    }),
  );
  assert.deepEqual(out.nodes, snapshot.nodes);
  assert.deepEqual(out.snapshot, snapshot.snapshot);
  assert.deepEqual(out.strings, [
    "",
    "*".repeat(28) + "cdef",
    "********",
    "proxy http://bob:********@proxy:3128 in use",
    'api_key: "********"\npassword: ********',
    "Bearer ********",
    "plain text",
  ]);
});

test("scrubHeapSnapshot() throws on data that is not a heap snapshot", () => {
  assert.throws(() => scrubHeapSnapshot('{"nodes":[]}', new Map()), /no strings table/);
  assert.throws(() => scrubHeapSnapshot("not json", new Map()));
});
