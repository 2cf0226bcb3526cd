/** Pull mode against a real HTTP server serving signed desired-state catalogs. */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packTar } from "modern-tar";
import { runtime } from "../../src/runtime/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { Installer } from "../../src/fleet/_installer.ts";
import { startPuller } from "../../src/fleet/_pull.ts";

const logger = createLogger({ level: "off", console: false });
const W = mkdtempSync(join(tmpdir(), "fleet-pull-"));
after(() => rmSync(W, { recursive: true, force: true }));

async function entry(version: string) {
  const tar = await packTar([{
    header: { name: "bin/outpost", size: 1, type: "file", mode: 0o755 },
    body: "x",
  }]);
  const path = join(W, `${version}.tar`);
  writeFileSync(path, tar);
  return {
    package: "outpost",
    version,
    url: `file://${path}`,
    sha256: createHash("sha256").update(tar).digest("hex"),
  };
}

async function until<T>(fn: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error("timed out");
    await Bun.sleep(50);
  }
}

test("pull mode follows signed desired states, promotes after the watch, never retries a rolled-back version", async () => {
  const keys = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const pub = Buffer.from(await crypto.subtle.exportKey("raw", keys.publicKey)).toString("base64");
  const packages = [await entry("1.0.0"), await entry("2.0.0"), await entry("3.0.0")];
  let doc = "";
  const publish = async (version: number, desired: unknown, key = keys.privateKey) => {
    const signed = JSON.stringify({ version, packages, desired });
    const sig = await crypto.subtle.sign("Ed25519", key, new TextEncoder().encode(signed));
    doc = JSON.stringify({ signed, signature: Buffer.from(sig).toString("base64") });
  };
  await publish(1, { outpost: { version: "1.0.0" } });
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(doc) });
  const installer = new Installer({
    runtime,
    root: join(W, "root"),
    logger,
    publicKey: pub,
    fileRoots: [W],
  });
  const slots = () => installer.repository("outpost").slots();
  const puller = startPuller({
    installer,
    url: `http://127.0.0.1:${server.port}/fleet.json`,
    intervalMs: 3_600_000,
    logger,
  });
  try {
    await until(() => slots().stable === "1.0.0" || undefined);

    await publish(2, { outpost: { version: "2.0.0", experiment: true } });
    await puller.poll();
    assert.deepEqual(slots(), { stable: "1.0.0", experiment: "2.0.0" });

    // Stable 2.0.0 is wanted, but the experiment has not passed its watch yet.
    await publish(3, { outpost: { version: "2.0.0" } });
    await puller.poll();
    assert.deepEqual(slots(), { stable: "1.0.0", experiment: "2.0.0" });
    installer.setWatch("outpost", "passed");
    await puller.poll();
    assert.deepEqual(slots(), { stable: "2.0.0", experiment: null });

    await publish(4, { outpost: { version: "3.0.0", experiment: true } });
    await puller.poll();
    assert.equal(slots().experiment, "3.0.0");
    await installer.stopExperiment("outpost", "The experiment 3.0.0 exited with code 1");
    await puller.poll();
    assert.deepEqual(
      slots(),
      { stable: "2.0.0", experiment: null },
      "a rolled-back version is not retried",
    );

    // A document signed with another key is ignored: the catalog stays at version 4.
    const other = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
      "sign",
      "verify",
    ]) as CryptoKeyPair;
    await publish(5, { outpost: { version: "1.0.0" } }, other.privateKey);
    await puller.poll();
    assert.equal(installer.status().catalog_version, 4);
    assert.equal(slots().stable, "2.0.0");
  } finally {
    puller.stop();
    server.stop(true);
  }
});

test("pull mode refuses a catalog with ../ versions and one over the size cap, storing neither", async () => {
  const dir = join(W, "hostile");
  const outside = join(dir, "outside");
  mkdirSync(outside, { recursive: true });
  const root = join(dir, "root");
  let doc = "";
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(doc) });
  const warnings: string[] = [];
  const installer = new Installer({
    runtime,
    root,
    logger: createLogger({ level: "warn", write: (l) => warnings.push(l) }),
    fileRoots: [W],
    maxCatalogBytes: 64 * 1024,
  });
  const url = `http://127.0.0.1:${server.port}/fleet.json`;
  const good = await entry("1.0.0");
  const evil = { ...good, version: "../../hostile/outside/esc" };
  doc = JSON.stringify({ packages: [evil], desired: { outpost: { version: evil.version } } });
  const puller = startPuller({
    installer,
    url,
    intervalMs: 3_600_000,
    logger: createLogger({ level: "warn", write: (l) => warnings.push(l) }),
  });
  try {
    await until(() => warnings.length > 0 || undefined); // the first poll, at start
    assert.equal(installer.catalog, null);
    assert.match(
      warnings.at(-1)!,
      new RegExp(
        `Refused a catalog from ${
          url.replace(/[.]/g, "[.]")
        }: Invalid catalog: "packages\\.0\\.version": expected a version of`,
      ),
    );
    // A document of megabytes, over the 64 KiB cap: refused while it is read, never stored.
    doc = JSON.stringify({
      packages: Array.from({ length: 50_000 }, (_, i) => ({ ...good, version: `1.0.${i}` })),
    });
    assert.ok(doc.length > 5_000_000);
    await puller.poll();
    assert.equal(installer.catalog, null);
    assert.match(
      warnings.at(-1)!,
      /Refused a catalog from http:\S+: Catalog refused: it is over the cap of 65536 bytes \(fleet\.max_catalog_size\)\n$/,
    );
    assert.equal(warnings.length, 2, `each refusal is logged once: ${JSON.stringify(warnings)}`);
    assert.deepEqual(installer.status().refused, { bad_request: 1, too_large: 1 });
    assert.deepEqual(readdirSync(outside), []);
    assert.equal(existsSync(join(root, "state.json")), false);
  } finally {
    puller.stop();
    server.stop(true);
  }
});
