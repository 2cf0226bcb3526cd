import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { packTar } from "modern-tar";
import { runtime } from "../../../src/runtime/mod.ts";
import { createLogger } from "../../../src/log/mod.ts";
import { createFleetApi } from "../../../src/fleet/_api.ts";
import { Installer } from "../../../src/fleet/_installer.ts";
import { BUILD } from "../../../src/version.ts";
import { tempDir } from "./_helpers.ts";

const logger = createLogger({ level: "off", console: false });
const JSON_TYPE = { "Content-Type": "application/json" };

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A package tarball holding `bin/outpost`, written to `dir`, with its catalog entry. */
async function tarball(dir: string, version: string, sha?: string) {
  const tar = await packTar([
    { header: { name: "bin/", size: 0, type: "directory" } },
    {
      header: { name: "bin/outpost", size: version.length, type: "file", mode: 0o755 },
      body: version,
    },
  ]);
  const path = join(dir, `outpost-${version}.tar`);
  writeFileSync(path, tar);
  return { package: "outpost", version, url: `file://${path}`, sha256: sha ?? sha256(tar) };
}

/** An OCI layout holding one tar+gzip layer, resolved through an index for this host. */
async function ociLayout(dir: string, version: string) {
  const layout = join(dir, `oci-${version}`);
  mkdirSync(join(layout, "blobs", "sha256"), { recursive: true });
  const blob = (data: Uint8Array) => {
    const hex = sha256(data);
    writeFileSync(join(layout, "blobs", "sha256", hex), data);
    return { digest: `sha256:${hex}`, size: data.length };
  };
  const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
  const tar = await packTar([{
    header: { name: "bin/outpost", size: 3, type: "file", mode: 0o755 },
    body: "oci",
  }]);
  const gz = new Uint8Array(
    await new Response(new Blob([tar]).stream().pipeThrough(new CompressionStream("gzip")))
      .arrayBuffer(),
  );
  const layer = blob(gz);
  const config = blob(enc({}));
  const manifest = blob(enc({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...layer }],
    annotations: { "dev.outpost.package.name": "outpost", "dev.outpost.package.version": version },
  }));
  const { arch } = await import("node:os");
  const architecture = arch() === "x64" ? "amd64" : arch();
  const index = blob(enc({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [
      {
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        ...manifest,
        platform: { os: "linux", architecture },
      },
    ],
  }));
  writeFileSync(join(layout, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(
    join(layout, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: "application/vnd.oci.image.index.v1+json", ...index }],
    }),
  );
  return {
    entry: { package: "outpost", version, url: `file://${layout}#${index.digest}` },
    layerFile: join(layout, "blobs", "sha256", layer.digest.slice(7)),
  };
}

async function setup(options: { freeBytes?: number } = {}) {
  const dir = tempDir("fleet-api-");
  const root = join(dir, "root");
  const installer = new Installer({
    runtime,
    root,
    logger,
    fileRoots: [dir],
    download: {
      retryDelayMs: 1,
      ...(options.freeBytes !== undefined ? { freeBytes: () => options.freeBytes! } : {}),
    },
  });
  const app = createFleetApi(installer);
  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = JSON_TYPE,
  ) => {
    const res = await app.request(path, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: res.status, json: await res.json() as any };
  };
  return { dir, root, installer, app, call };
}

test("fleet API answers 415 without Content-Type: application/json", async () => {
  const { dir, call } = await setup();
  for (const headers of [{}, { "Content-Type": "text/plain" }] as Record<string, string>[]) {
    const r = await call("GET", "/status", undefined, headers);
    assert.equal(r.status, 415);
    assert.deepEqual(r.json, { error: { message: "Content-Type must be application/json" } });
  }
  rmSync(dir, { recursive: true });
});

test("fleet API answers 400 to invalid JSON and to a body of the wrong shape", async () => {
  const { dir, call } = await setup();
  let r = await call("POST", "/outpost/experiment/start", "{nope");
  assert.equal(r.status, 400);
  assert.match(r.json.error.message, /^Cannot parse the request body: /);
  r = await call("POST", "/outpost/experiment/start", {});
  assert.equal(r.status, 400);
  assert.equal(
    r.json.error.message,
    'Invalid request body: "version": Invalid key: Expected "version" but received undefined',
  );
  r = await call("POST", "/catalog", { packages: "no" });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.message, 'Invalid catalog: "packages": expected a list of packages');
  rmSync(dir, { recursive: true });
});

test("fleet API installs from a file:// tarball and reports it in /status", async () => {
  const { dir, root, call } = await setup();
  const entry = await tarball(dir, "1.0.0");
  assert.deepEqual((await call("POST", "/catalog", { version: "c1", packages: [entry] })).json, {});
  const r = await call("POST", "/outpost/install", {});
  assert.deepEqual(r, { status: 200, json: {} });
  const s = (await call("GET", "/status")).json;
  assert.equal(s.catalog_version, "c1");
  assert.equal(s.packages.outpost.stable_version, "1.0.0");
  assert.equal(s.packages.outpost.experiment_version, null);
  assert.equal(s.packages.outpost.task.method, "install");
  assert.equal(s.packages.outpost.task.state, "done");
  assert.ok(existsSync(join(root, "packages", "outpost", "stable", "bin", "outpost")));
  rmSync(dir, { recursive: true });
});

test("fleet API /status has the fields a Go LocalAPIClient decodes", async () => {
  const { dir, call } = await setup();
  await call("POST", "/catalog", {
    packages: [await tarball(dir, "1.0.0"), await tarball(dir, "2.0.0")],
  });
  await call("POST", "/outpost/install", { version: "1.0.0" });
  await call("POST", "/outpost/experiment/start", { version: "2.0.0" });
  const s = (await call("GET", "/status")).json;
  // The daemon's StatusResponse: version, packages as repository.State, apm_injection_status.
  assert.equal(s.version, BUILD.version);
  assert.equal(s.packages.outpost.stable, "1.0.0");
  assert.equal(s.packages.outpost.experiment, "2.0.0");
  assert.deepEqual(s.apm_injection_status, {
    host_instrumented: false,
    docker_installed: false,
    docker_instrumented: false,
  });
  // The newer daemon's list form.
  assert.deepEqual(s.remote_config_state, [
    { package: "outpost", stable_version: "1.0.0", experiment_version: "2.0.0" },
  ]);
  await call("POST", "/outpost/experiment/stop", {});
  const after = (await call("GET", "/status")).json;
  assert.equal(after.packages.outpost.experiment, "");
  assert.deepEqual(after.remote_config_state, [{ package: "outpost", stable_version: "1.0.0" }]);
  rmSync(dir, { recursive: true });
});

test("fleet API refuses install_args and extensions rather than dropping them", async () => {
  const { dir, call } = await setup();
  await call("POST", "/catalog", { packages: [await tarball(dir, "1.0.0")] });
  for (const key of ["install_args", "extensions"]) {
    const r = await call("POST", "/outpost/install", { version: "1.0.0", [key]: ["x"] });
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, new RegExp(`"${key}" is not supported`));
  }
  assert.equal((await call("GET", "/status")).json.packages.outpost, undefined);
  // Empty lists ask for nothing: the install goes on.
  const ok = await call("POST", "/outpost/install", { version: "1.0.0", install_args: [] });
  assert.equal(ok.status, 200);
  rmSync(dir, { recursive: true });
});

test("fleet API runs experiment start, 409 on a second, promote, 409 on nothing to promote", async () => {
  const { dir, call } = await setup();
  const entries = [
    await tarball(dir, "1.0.0"),
    (await ociLayout(dir, "2.0.0")).entry,
    await tarball(dir, "3.0.0"),
  ];
  await call("POST", "/catalog", { packages: entries });
  assert.equal((await call("POST", "/outpost/install", { version: "1.0.0" })).status, 200);
  assert.equal((await call("POST", "/outpost/experiment/start", { version: "2.0.0" })).status, 200);
  let s = (await call("GET", "/status")).json.packages.outpost;
  assert.equal(s.experiment_version, "2.0.0");
  assert.equal(typeof s.experiment_started_at, "string");
  const second = await call("POST", "/outpost/experiment/start", { version: "3.0.0" });
  assert.equal(second.status, 409);
  assert.equal(
    second.json.error.message,
    "Cannot start an experiment of outpost: 2.0.0 is already running",
  );
  assert.equal((await call("POST", "/outpost/experiment/promote", {})).status, 200);
  s = (await call("GET", "/status")).json.packages.outpost;
  assert.equal(s.stable_version, "2.0.0");
  assert.equal(s.watch.state, "promoted");
  const none = await call("POST", "/outpost/experiment/promote", {});
  assert.deepEqual(none, {
    status: 409,
    json: { error: { message: "No experiment of outpost to promote" } },
  });
  rmSync(dir, { recursive: true });
});

test("fleet API answers 405 with Allow to a known path asked with another method, 404 to an unknown one", async () => {
  const { dir, app, call } = await setup();
  const res = await app.request("/status", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
  });
  assert.equal(res.status, 405);
  assert.equal(res.headers.get("allow"), "GET");
  assert.deepEqual(await res.json(), {
    error: { message: "Method POST is not allowed on /status" },
  });
  const get = await call("GET", "/outpost/install");
  assert.equal(get.status, 405);
  assert.equal((await call("GET", "/")).status, 404);
  assert.deepEqual(await call("GET", "/nothing/here"), {
    status: 404,
    json: { error: { message: "No route for GET /nothing/here" } },
  });
  rmSync(dir, { recursive: true });
});

test("fleet API answers 404 to a version or package not in the catalog", async () => {
  const { dir, call } = await setup();
  await call("POST", "/catalog", { packages: [await tarball(dir, "1.0.0")] });
  let r = await call("POST", "/outpost/install", { version: "9.9.9" });
  assert.equal(r.status, 404);
  assert.match(r.json.error.message, /^Package outpost version 9\.9\.9 is not in the catalog for /);
  r = await call("POST", "/other/install", {});
  assert.deepEqual(r, {
    status: 404,
    json: { error: { message: "Package other is not in the catalog" } },
  });
  r = await call("POST", "/outpost/remove", {});
  assert.deepEqual(r, {
    status: 404,
    json: { error: { message: "Package outpost is not installed" } },
  });
  rmSync(dir, { recursive: true });
});

test("fleet API answers 422 to a checksum mismatch and unpacks nothing", async () => {
  const { dir, root, call } = await setup();
  await call("POST", "/catalog", { packages: [await tarball(dir, "1.0.0", "b".repeat(64))] });
  const r = await call("POST", "/outpost/install", { version: "1.0.0" });
  assert.equal(r.status, 422);
  assert.equal(
    r.json.error.message,
    `Checksum mismatch: the download does not have the expected sha256 ${"b".repeat(64)}`,
  );
  assert.equal(existsSync(join(root, "packages", "outpost")), false);
  assert.deepEqual(existsSync(join(root, "tmp")) ? readdirSync(join(root, "tmp")) : [], []);
  const s = (await call("GET", "/status")).json.packages.outpost;
  assert.equal(s.task.state, "error");
  assert.equal(s.task.error.code, "integrity");
  rmSync(dir, { recursive: true });
});

test("fleet API answers 422 to an OCI blob that does not match its digest", async () => {
  const { dir, call } = await setup();
  const { entry, layerFile } = await ociLayout(dir, "2.0.0");
  writeFileSync(layerFile, "corrupt");
  await call("POST", "/catalog", { packages: [entry] });
  const r = await call("POST", "/outpost/install", { version: "2.0.0" });
  assert.equal(r.status, 422);
  assert.match(
    r.json.error.message,
    /^Checksum mismatch: the download does not have the expected sha256 [0-9a-f]{64}$/,
  );
  rmSync(dir, { recursive: true });
});

test("fleet API answers 507 when the disk lacks space for the package", async () => {
  const { dir, call } = await setup({ freeBytes: 1024 });
  const entry = { ...(await tarball(dir, "1.0.0")), size: 100 };
  await call("POST", "/catalog", { packages: [entry] });
  const r = await call("POST", "/outpost/install", {});
  assert.equal(r.status, 507);
  assert.match(r.json.error.message, /^Not enough disk space in .*: \d+ bytes needed, 1024 free$/);
  rmSync(dir, { recursive: true });
});

test("fleet API answers 422 to an archive with a ../ entry, naming the entry", async () => {
  const { dir, root, call } = await setup();
  const tar = await packTar([{
    header: { name: "../../escape", size: 1, type: "file" },
    body: "x",
  }]);
  writeFileSync(join(dir, "evil.tar"), tar);
  await call("POST", "/catalog", {
    packages: [{
      package: "outpost",
      version: "6.6.6",
      url: `file://${join(dir, "evil.tar")}`,
      sha256: sha256(tar),
    }],
  });
  const r = await call("POST", "/outpost/install", {});
  assert.deepEqual(r, {
    status: 422,
    json: { error: { message: 'Refused to unpack "../../escape": ".." is not allowed in paths' } },
  });
  assert.equal(existsSync(join(root, "escape")), false);
  assert.equal(existsSync(join(root, "packages", "outpost")), false);
  rmSync(dir, { recursive: true });
});

test("Installer.recover() rolls back an experiment left by a crash and fails the interrupted task", async () => {
  const { dir, root, installer, call } = await setup();
  await call("POST", "/catalog", {
    packages: [await tarball(dir, "1.0.0"), await tarball(dir, "2.0.0")],
  });
  await call("POST", "/outpost/install", { version: "1.0.0" });
  await call("POST", "/outpost/experiment/start", { version: "2.0.0" });
  // A new installer over the same root is what a restarted daemon builds.
  const again = new Installer({ runtime, root, logger, fileRoots: [dir] });
  await again.recover("outpost");
  const s = again.status().packages.outpost;
  assert.equal(s.stable_version, "1.0.0");
  assert.equal(s.experiment_version, null);
  assert.equal(s.rollback?.version, "2.0.0");
  assert.match(s.rollback!.reason, /daemon restarted/);
  assert.ok(installer); // the first one is simply abandoned, as a killed process would be
  rmSync(dir, { recursive: true });
});
