/**
 * Fleet with real parts: the daemon on a real unix socket supervising real processes (the
 * agent run from source as the package binary), and the OCI and HTTP downloads against real
 * HTTP servers on 127.0.0.1.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { packTar } from "modern-tar";
import { runtime } from "../../src/runtime/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { loadConfig } from "../../src/config/mod.ts";
import { startDaemon } from "../../src/fleet/mod.ts";
import { type Daemon } from "../../src/fleet/_daemon.ts";
import { FleetError } from "../../src/fleet/_errors.ts";
import { Installer } from "../../src/fleet/_installer.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const logger = createLogger({ level: "off", console: false });
const W = mkdtempSync(join(tmpdir(), "fleet-int-"));
after(() => rmSync(W, { recursive: true, force: true }));

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A package whose `bin/outpost` is a shell script: `body` runs with the supervisor's arguments. */
async function scriptPackage(version: string, body: string) {
  const script = `#!/bin/sh\n${body}\n`;
  const tar = await packTar([
    {
      header: { name: "bin/outpost", size: script.length, type: "file", mode: 0o755 },
      body: script,
    },
  ]);
  const path = join(W, `pkg-${version}.tar`);
  writeFileSync(path, tar);
  return { package: "outpost", version, url: `file://${path}`, sha256: sha256(tar) };
}

async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const p = s.port;
  s.stop(true);
  return p;
}

async function until<T>(
  fn: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error("timed out");
    await Bun.sleep(100);
  }
}

test("daemon: socket is owner-only, runs stable, watches an experiment, rolls back a failing one", async () => {
  const dir = join(W, "daemon");
  mkdirSync(dir);
  const cmdPort = await freePort();
  const configFile = join(dir, "datadog.yaml");
  writeFileSync(
    configFile,
    [
      `api_key: "${"0".repeat(32)}"`,
      `run_path: ${join(dir, "run")}`,
      `cmd_port: ${cmdPort}`,
      `log_level: "off"`,
      `fleet: { root: ${
        join(dir, "fleet")
      }, file_roots: [${W}], experiment_health_timeout: 15, experiment_watch: 1 }`,
    ].join("\n"),
  );
  const { config, file } = await loadConfig(runtime, { path: configFile, env: {} });
  // The package binary is the real agent, run from source.
  const agent = `exec ${process.execPath} ${join(ROOT, "cli/main.ts")} "$@"`;
  const catalog = {
    version: 3,
    packages: [
      await scriptPackage("1.0.0", agent),
      await scriptPackage("2.0.0", agent),
      await scriptPackage("3.0.0", "exit 1"),
    ],
  };
  let daemon: Daemon | undefined;
  try {
    daemon = await startDaemon({ runtime, config, configFile: file, logger });
    assert.equal(statSync(join(dir, "run")).mode & 0o777, 0o700);
    assert.equal(statSync(daemon.socket).mode & 0o777, 0o600);
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`http://fleet${path}`, {
        method,
        unix: daemon!.socket,
        headers: { "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      } as RequestInit);
      return { status: res.status, json: await res.json() as any };
    };
    const pkg = async () => (await call("GET", "/status")).json.packages.outpost;

    assert.equal((await call("POST", "/catalog", catalog)).status, 200);
    assert.equal((await call("POST", "/outpost/install", { version: "1.0.0" })).status, 200);
    assert.deepEqual(daemon.supervisor.running && { ...daemon.supervisor.running, pid: 0 }, {
      version: "1.0.0",
      slot: "stable",
      pid: 0,
    });

    assert.equal(
      (await call("POST", "/outpost/experiment/start", { version: "2.0.0" })).status,
      200,
    );
    assert.equal(daemon.supervisor.running?.version, "2.0.0");
    // The real agent answers its health route, then outlives the 1 s watch.
    const passed = await until(async () => (await pkg()).watch?.state === "passed" || undefined);
    assert.equal(passed, true);
    assert.equal((await call("POST", "/outpost/experiment/stop", {})).status, 200);
    assert.equal(daemon.supervisor.running?.version, "1.0.0");

    assert.equal(
      (await call("POST", "/outpost/experiment/start", { version: "3.0.0" })).status,
      200,
    );
    const rolled = await until(async () => {
      const p = await pkg();
      return p.rollback?.version === "3.0.0" && p.experiment_version === null ? p : undefined;
    });
    assert.equal(rolled.stable_version, "1.0.0");
    assert.equal(rolled.rollback.reason, "The experiment 3.0.0 exited with code 1");
    assert.equal(rolled.watch.state, "rolled_back");
    await until(() => daemon!.supervisor.running?.version === "1.0.0" || undefined);

    // The CLI's transport reaches the same socket.
    const res = await runtime.fetchUnix(
      daemon.socket,
      new Request("http://fleet/status", { headers: { "Content-Type": "application/json" } }),
    );
    assert.equal((await res.json() as any).catalog_version, 3);
  } finally {
    await daemon?.stop();
  }
  assert.equal(daemon?.supervisor.running, null);
});

test("daemon: an experiment that never reports healthy is rolled back after the health timeout", async () => {
  const dir = join(W, "hang");
  mkdirSync(dir);
  const configFile = join(dir, "datadog.yaml");
  writeFileSync(
    configFile,
    [
      `run_path: ${join(dir, "run")}`,
      `cmd_port: ${await freePort()}`,
      `log_level: "off"`,
      `fleet: { root: ${join(dir, "fleet")}, file_roots: [${W}], experiment_health_timeout: 1 }`,
    ].join("\n"),
  );
  const { config, file } = await loadConfig(runtime, { path: configFile, env: {} });
  const daemon = await startDaemon({ runtime, config, configFile: file, logger });
  try {
    await daemon.installer.setCatalog({
      packages: [
        await scriptPackage("1.0.0", "exec sleep 60"),
        await scriptPackage("2.0.0", "exec sleep 60"),
      ],
    });
    await daemon.installer.install("outpost", "1.0.0");
    await daemon.installer.startExperiment("outpost", "2.0.0");
    const p = await until(() => {
      const s = daemon.installer.status().packages.outpost;
      return s.rollback ? s : undefined;
    });
    assert.equal(p.rollback?.reason, "The experiment 2.0.0 did not report healthy within 1 s");
    assert.equal(p.stable_version, "1.0.0");
  } finally {
    await daemon.stop();
  }
});

/** A minimal OCI distribution server: bearer-token challenge, and one 503 on the first blob GET. */
async function ociRegistry(version: string) {
  const tar = await packTar([{
    header: { name: "bin/outpost", size: 2, type: "file", mode: 0o755 },
    body: "v2",
  }]);
  const blobs = new Map<string, Uint8Array<ArrayBuffer>>();
  const put = (data: Uint8Array<ArrayBuffer>) => {
    const d = `sha256:${sha256(data)}`;
    blobs.set(d, data);
    return { digest: d, size: data.length };
  };
  const enc = (o: unknown) =>
    new TextEncoder().encode(JSON.stringify(o)) as Uint8Array<ArrayBuffer>;
  const layer = put(tar);
  const manifest = put(enc({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...put(enc({})) },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", ...layer }],
    annotations: {
      "com.datadoghq.package.name": "outpost",
      "com.datadoghq.package.version": version,
    },
  }));
  const token = "t0k3n";
  let blobFailures = 1;
  const seen: string[] = [];
  let port = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req): Response {
      const url = new URL(req.url);
      seen.push(`${req.method} ${url.pathname}`);
      if (url.pathname === "/token") {
        const basic = req.headers.get("authorization");
        return basic === `Basic ${btoa("user:pass")}`
          ? Response.json({ token })
          : new Response("no", { status: 401 });
      }
      if (req.headers.get("authorization") !== `Bearer ${token}`) {
        return new Response("{}", {
          status: 401,
          headers: {
            "WWW-Authenticate":
              `Bearer realm="http://127.0.0.1:${port}/token",service="reg",scope="repository:outpost:pull"`,
          },
        });
      }
      const m = /^\/v2\/outpost\/(manifests|blobs)\/(.+)$/.exec(url.pathname);
      if (!m) return new Response("not found", { status: 404 });
      if (m[1] === "manifests" && (m[2] === version || m[2] === manifest.digest)) {
        return new Response(blobs.get(manifest.digest), {
          headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
        });
      }
      if (m[1] === "blobs" && blobs.has(m[2])) {
        if (blobFailures-- > 0) return new Response("busy", { status: 503 });
        return new Response(blobs.get(m[2]));
      }
      return new Response("not found", { status: 404 });
    },
  });
  port = server.port ?? 0;
  return { server, manifest, seen };
}

test("fetchPackage() over oci:// answers the bearer challenge, retries a 503, verifies digests", async () => {
  const { server, manifest, seen } = await ociRegistry("2.0.0");
  const root = join(W, "oci");
  const installer = new Installer({
    runtime,
    root,
    logger,
    auth: { username: "user", password: "pass" },
    download: { retryDelayMs: 10 },
  });
  try {
    await installer.setCatalog({
      packages: [
        {
          package: "outpost",
          version: "2.0.0",
          url: `oci://127.0.0.1:${server.port}/outpost@${manifest.digest}`,
        },
        {
          package: "outpost",
          version: "2.0.1",
          url: `oci://127.0.0.1:${server.port}/outpost:2.0.0`,
        },
      ],
    });
    await installer.install("outpost", "2.0.0");
    assert.equal(installer.status().packages.outpost.stable_version, "2.0.0");
    assert.ok(seen.includes("GET /token"));
    assert.equal(
      seen.filter((s) => s.startsWith("GET /v2/outpost/blobs/")).length,
      2,
      "one 503, one retry",
    );
    // The tag's image says it is 2.0.0: installing it as 2.0.1 is refused.
    await assert.rejects(installer.install("outpost", "2.0.1"), (e: FleetError) => {
      assert.equal(e.code, "integrity");
      assert.equal(
        e.message,
        "The image says com.datadoghq.package.version=2.0.0, the catalog says 2.0.1",
      );
      return true;
    });
  } finally {
    server.stop(true);
  }
});

test("fetchPackage() over http:// refuses a download past fleet.max_package_size and leaves nothing", async () => {
  const big = new Uint8Array(64 * 1024);
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(big) });
  const root = join(W, "cap");
  const installer = new Installer({ runtime, root, logger, maxBytes: 1024 });
  try {
    await installer.setCatalog({
      packages: [{
        package: "outpost",
        version: "1.0.0",
        url: `http://127.0.0.1:${server.port}/o.tar`,
        sha256: sha256(big),
      }],
    });
    await assert.rejects(installer.install("outpost", "1.0.0"), (e: FleetError) => {
      assert.equal(e.code, "too_large");
      assert.equal(e.message, "The download passed the cap of 1024 bytes");
      return true;
    });
    assert.equal(installer.status().packages.outpost.stable_version, null);
  } finally {
    server.stop(true);
  }
});

test("daemon: the config's fleet caps and file roots hold over the socket, and a FIFO never blocks it", async () => {
  const dir = join(W, "caps");
  const src = join(dir, "src");
  mkdirSync(src, { recursive: true });
  const configFile = join(dir, "datadog.yaml");
  writeFileSync(
    configFile,
    [
      `run_path: ${join(dir, "run")}`,
      `cmd_port: ${await freePort()}`,
      `log_level: "off"`,
      "fleet:",
      `  root: ${join(dir, "fleet")}`,
      `  file_roots: [${src}]`,
      "  max_package_entries: 5",
      "  max_catalog_size: 16kb",
    ].join("\n"),
  );
  const { config, file } = await loadConfig(runtime, { path: configFile, env: {} });
  const daemon = await startDaemon({ runtime, config, configFile: file, logger });
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://fleet${path}`, {
      method,
      unix: daemon.socket,
      headers: { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    } as RequestInit);
    return { status: res.status, json: await res.json() as any };
  };
  try {
    execFileSync("mkfifo", [join(src, "pipe.tar")]);
    const fifo = {
      package: "outpost",
      version: "1.0.0",
      url: `file://${join(src, "pipe.tar")}`,
      sha256: "0".repeat(64),
    };
    assert.equal((await call("POST", "/catalog", { packages: [fifo] })).status, 200);
    assert.deepEqual(await call("POST", "/outpost/install", {}), {
      status: 403,
      json: { error: { message: `Refused file://${join(src, "pipe.tar")}: not a regular file` } },
    });
    // The daemon still answers: the FIFO was never opened for a blocking read.
    assert.equal((await call("GET", "/status")).json.packages.outpost.task.error.code, "forbidden");

    const tar = await packTar(
      Array.from({ length: 6 }, (_, i) => ({
        header: { name: `f${i}`, size: 1, type: "file" as const },
        body: "x",
      })),
    );
    writeFileSync(join(src, "six.tar"), tar);
    const six = { ...fifo, url: `file://${join(src, "six.tar")}`, sha256: sha256(tar) };
    await call("POST", "/catalog", { packages: [six] });
    assert.deepEqual(await call("POST", "/outpost/install", {}), {
      status: 422,
      json: {
        error: {
          message:
            "Refused to unpack the archive: it holds more than 5 entries (fleet.max_package_entries)",
        },
      },
    });

    const big = {
      packages: Array.from({ length: 200 }, (_, i) => ({ ...six, version: `1.${i}` })),
    };
    assert.deepEqual(await call("POST", "/catalog", big), {
      status: 422,
      json: {
        error: {
          message: "Catalog refused: it is over the cap of 16384 bytes (fleet.max_catalog_size)",
        },
      },
    });
    assert.equal(daemon.installer.catalog?.packages.length, 1);
    assert.equal(existsSync(join(dir, "fleet", "packages", "outpost", "stable")), false);
    assert.deepEqual(readdirSync(src).sort(), ["pipe.tar", "six.tar"]);
  } finally {
    await daemon.stop();
  }
});
