import { test } from "node:test";
import assert from "node:assert/strict";
import { FleetError } from "../../../src/fleet/_errors.ts";
import { parseCatalog } from "../../../src/fleet/_catalog.ts";

const catalog = {
  version: "7",
  packages: [{
    package: "outpost",
    version: "1.0.0",
    url: "https://example.invalid/o.tar",
    sha256: "a".repeat(64),
  }],
};

async function keyPair() {
  const k = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", k.publicKey));
  return { privateKey: k.privateKey, publicB64: btoa(String.fromCharCode(...raw)) };
}

async function envelope(body: unknown, key: CryptoKey) {
  const signed = JSON.stringify(body);
  const sig = new Uint8Array(
    await crypto.subtle.sign("Ed25519", key, new TextEncoder().encode(signed)),
  );
  return { signed, signature: btoa(String.fromCharCode(...sig)) };
}

async function rejection(p: Promise<unknown>): Promise<FleetError> {
  try {
    await p;
  } catch (e) {
    return e as FleetError;
  }
  throw new Error("expected a rejection");
}

test("parseCatalog() accepts a plain catalog when no key is configured", async () => {
  const c = await parseCatalog(catalog, "");
  assert.equal(c.version, "7");
  assert.equal(c.packages[0].package, "outpost");
});

test("parseCatalog() accepts a catalog signed with the configured key", async () => {
  const { privateKey, publicB64 } = await keyPair();
  const c = await parseCatalog(await envelope(catalog, privateKey), publicB64);
  assert.equal(c.packages[0].version, "1.0.0");
});

test("parseCatalog() refuses a signature made with another key", async () => {
  const { publicB64 } = await keyPair();
  const other = await keyPair();
  const e = await rejection(parseCatalog(await envelope(catalog, other.privateKey), publicB64));
  assert.equal(e.code, "integrity");
  assert.equal(e.message, "Catalog refused: the ed25519 signature does not match");
});

test("parseCatalog() refuses a signed catalog whose bytes were changed", async () => {
  const { privateKey, publicB64 } = await keyPair();
  const env = await envelope(catalog, privateKey);
  env.signed = env.signed.replace("1.0.0", "6.6.6");
  const e = await rejection(parseCatalog(env, publicB64));
  assert.equal(e.code, "integrity");
});

test("parseCatalog() refuses an unsigned catalog when a key is configured", async () => {
  const { publicB64 } = await keyPair();
  const e = await rejection(parseCatalog(catalog, publicB64));
  assert.equal(e.code, "integrity");
  assert.match(e.message, /not signed/);
});

test("parseCatalog() names the bad field of an invalid catalog", async () => {
  const e = await rejection(
    parseCatalog({ packages: [{ package: "x", version: "1", url: "ftp://x" }] }, ""),
  );
  assert.equal(e.code, "bad_request");
  assert.equal(
    e.message,
    'Invalid catalog: "packages.0.url": expected an oci://, file://, http:// or https:// URL',
  );
});
