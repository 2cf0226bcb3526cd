/**
 * Every outbound request through one proxy, with real parts only: a CA and a server
 * certificate made by openssl, the `proxy` package as an HTTP CONNECT proxy on 127.0.0.1, one
 * HTTPS server serving a package tarball, an OCI registry (bearer challenge) and the flare
 * intake, and the CLI as a subprocess, under Bun and under Deno: `outpost installer daemon` /
 * `install` and `outpost flare`. The config names only `proxy.https` and `forwarder_ca_bundle`; `no_proxy`
 * does not cover 127.0.0.1, and loopback is not bypassed on its own.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { packTar } from "modern-tar";
import { createProxy } from "proxy";
import { runtime } from "../../src/runtime/mod.ts";
import { testCertificate } from "../unit/forwarder/_helpers.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const CASE_ID = "4242";
const TOKEN = "reg-t0k3n";

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");
const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));

/** The package images: a tarball over HTTPS, and an OCI image of one layer. */
async function packages() {
  const tar = async (text: string) =>
    await packTar([{
      header: { name: "bin/demo", size: text.length, type: "file", mode: 0o755 },
      body: text,
    }]);
  const tarball = await tar("from the tarball\n");
  const blobs = new Map<string, Uint8Array>();
  const put = (data: Uint8Array) => {
    const digest = `sha256:${sha256(data)}`;
    blobs.set(digest, data);
    return { digest, size: data.length };
  };
  const manifest = enc({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...put(enc({})) },
    layers: [{
      mediaType: "application/vnd.oci.image.layer.v1.tar",
      ...put(await tar("from oci\n")),
    }],
    annotations: {
      "com.datadoghq.package.name": "demo",
      "com.datadoghq.package.version": "2.0.0",
    },
  });
  return { tarball, blobs, manifest };
}

/** The HTTPS server: `/pkg/…` tarballs, `/v2/demo/…` behind a bearer token, `/support/flare`. */
function handler(
  images: Awaited<ReturnType<typeof packages>>,
  served: string[],
  origin: () => string,
) {
  return (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => {
    const url = new URL(req.url ?? "/", origin());
    served.push(`${req.method} ${url.pathname}`);
    if (url.pathname === "/pkg/demo-1.0.0.tar") return res.end(images.tarball);
    if (url.pathname === "/token") {
      return res.writeHead(200, { "Content-Type": "application/json" })
        .end(JSON.stringify({ token: TOKEN }));
    }
    if (url.pathname.startsWith("/v2/")) {
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        return res.writeHead(401, {
          "WWW-Authenticate":
            `Bearer realm="${origin()}/token",service="test",scope="repository:demo:pull"`,
        }).end();
      }
      const m = /^\/v2\/demo\/(manifests|blobs)\/(.+)$/.exec(url.pathname);
      if (m?.[1] === "manifests" && m[2] === "2.0.0") {
        return res.writeHead(200, {
          "Content-Type": "application/vnd.oci.image.manifest.v1+json",
        }).end(images.manifest);
      }
      const blob = m?.[1] === "blobs" ? images.blobs.get(m[2]) : undefined;
      if (blob) return res.end(blob);
      return res.writeHead(404).end();
    }
    if (url.pathname === `/support/flare/${CASE_ID}`) {
      if (req.method === "HEAD") return res.writeHead(200).end();
      let size = 0;
      req.on("data", (chunk: Uint8Array) => size += chunk.length);
      req.on("end", () => {
        served.push(`received ${size > 1000 ? "a flare" : "too little"}`);
        res.writeHead(200, { "Content-Type": "application/json" })
          .end(JSON.stringify({ case_id: Number(CASE_ID) }));
      });
      return;
    }
    res.writeHead(404).end();
  };
}

/** Runs the CLI from source in a subprocess; resolves with its exit code and output. */
function run(command: string[], env: Record<string, string>, args: string[], timeoutMs = 60_000) {
  return new Promise<{ code: number | null; out: string; err: string; ms: number }>((done) => {
    const started = Date.now();
    const child = spawn(command[0], [...command.slice(1), ...args], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout!.on("data", (d) => out += d);
    child.stderr!.on("data", (d) => err += d);
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, out, err, ms: Date.now() - started });
    });
  });
}

async function listen(server: Server | ReturnType<typeof createHttpsServer>): Promise<number> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as AddressInfo).port;
}

/** The whole story with the CLI run by `command`. */
function suite(name: string, command: string[]) {
  describe(`under ${name}`, () => {
    /** What the HTTPS server saw, in order (reset by each test). */
    const served: string[] = [];
    /** Every CONNECT and request the proxy saw, and every connection the server accepted. */
    const tunnels: string[] = [];
    let accepted = 0;
    /** The proxy's tunnels still open: a stopped server keeps them, so stopping ends them. */
    const open = new Set<Socket>();
    let origin = "";
    let proxyUrl = "";
    let proxy: Server;
    let https: ReturnType<typeof createHttpsServer>;
    let daemon: ChildProcess | undefined;
    const env: Record<string, string> = {};
    const W = mkdtempSync(join(tmpdir(), "outbound-proxy-"));
    const cli = (args: string[], timeoutMs?: number) => run(command, env, args, timeoutMs);
    let configFile = "";

    before(async () => {
      const tls = await testCertificate(runtime, W);
      const images = await packages();
      https = createHttpsServer(
        { cert: tls.cert, key: tls.key },
        handler(images, served, () => origin),
      );
      https.on("secureConnection", () => accepted++);
      origin = `https://127.0.0.1:${await listen(https)}`;
      proxy = createProxy(createHttpServer());
      proxy.on("connect", (req, socket: Socket) => {
        tunnels.push(`CONNECT ${req.url}`);
        open.add(socket);
        socket.on("close", () => open.delete(socket));
      });
      proxy.on("request", (req) => tunnels.push(`${req.method} ${req.url}`));
      proxyUrl = `http://127.0.0.1:${await listen(proxy)}`;

      configFile = join(W, "datadog.yaml");
      writeFileSync(
        configFile,
        [
          `api_key: "${"0".repeat(32)}"`,
          `dd_url: ${origin}`,
          `run_path: ${join(W, "run")}`,
          `cmd_port: 1`, // nothing listens there: the flare is built by the CLI itself
          `log_level: "warn"`,
          `proxy: { https: "${proxyUrl}" }`,
          `forwarder_ca_bundle: ${tls.caPath}`,
          `fleet: { root: ${join(W, "fleet")} }`,
        ].join("\n"),
      );
      const catalog = {
        version: 1,
        packages: [
          {
            package: "demo",
            version: "1.0.0",
            url: `${origin}/pkg/demo-1.0.0.tar`,
            sha256: sha256(images.tarball),
          },
          { package: "demo", version: "2.0.0", url: `oci://${new URL(origin).host}/demo:2.0.0` },
          // Served by nobody: installed while the proxy is down.
          {
            package: "demo",
            version: "3.0.0",
            url: `${origin}/pkg/demo-3.0.0.tar`,
            sha256: "0".repeat(64),
          },
        ],
      };
      writeFileSync(join(W, "catalog.json"), JSON.stringify(catalog));
      // No proxy variables: the config alone sends everything through the proxy. The flare zip
      // lands in the test's own directory.
      for (const [k, v] of Object.entries(process.env)) {
        if (v !== undefined && !/^(https?_proxy|no_proxy|all_proxy)$/i.test(k)) env[k] = v;
      }
      env.TMPDIR = W;
      daemon = spawn(command[0], [...command.slice(1), "installer", "daemon", "-c", configFile], {
        env,
        stdio: ["ignore", "ignore", "inherit"],
      });
      const deadline = Date.now() + 30_000;
      while ((await cli(["installer", "status", "-c", configFile])).code !== 0) {
        if (Date.now() > deadline) throw new Error("the fleet daemon did not start");
        await new Promise((r) => setTimeout(r, 200));
      }
      const set = await cli(["installer", "catalog", join(W, "catalog.json"), "-c", configFile]);
      assert.equal(set.code, 0, set.err);
    }, { timeout: 60_000 });

    after(async () => {
      if (daemon && daemon.exitCode === null) {
        const exited = new Promise((r) => daemon!.once("exit", r));
        daemon.kill("SIGTERM");
        await exited;
      }
      https?.closeAllConnections();
      await new Promise((r) => https?.close(r));
      if (proxy?.listening) {
        proxy.closeAllConnections();
        await new Promise((r) => proxy.close(r));
      }
      rmSync(W, { recursive: true, force: true });
    });

    /**
     * Asserts that the server accepted no connection but through a tunnel of the proxy: a client
     * keeps its connections alive, so a later request may ride an earlier tunnel, but a request
     * around the proxy would be a connection with no CONNECT.
     */
    function onlyThroughProxy() {
      assert.ok(accepted >= 1);
      assert.deepEqual(tunnels, Array(accepted).fill(`CONNECT ${new URL(origin).host}`));
    }

    const installed = (version: string) =>
      readFileSync(join(W, "fleet", "packages", "demo", version, "bin", "demo"), "utf8");

    test("outpost installer install downloads a tarball over HTTPS through the proxy, trusting the CA bundle", async () => {
      served.length = 0;
      const r = await cli(["installer", "install", "demo", "1.0.0", "-c", configFile]);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out.trim(), "Installed demo 1.0.0");
      assert.equal(installed("1.0.0"), "from the tarball\n");
      assert.deepEqual(served, ["GET /pkg/demo-1.0.0.tar"]);
      assert.deepEqual(tunnels, [`CONNECT ${new URL(origin).host}`]);
      onlyThroughProxy();
    });

    test("outpost installer install pulls an OCI image through the proxy, answering the bearer challenge", async () => {
      served.length = 0;
      const r = await cli(["installer", "install", "demo", "2.0.0", "-c", configFile]);
      assert.equal(r.code, 0, r.err);
      assert.equal(installed("2.0.0"), "from oci\n");
      assert.deepEqual(served.filter((s) => !s.startsWith("GET /v2/demo/blobs/sha256:")), [
        "GET /v2/demo/manifests/2.0.0",
        "GET /token",
        "GET /v2/demo/manifests/2.0.0",
      ]);
      assert.equal(served.filter((s) => s.startsWith("GET /v2/demo/blobs/sha256:")).length, 1);
      onlyThroughProxy();
    });

    test("outpost flare uploads through the same proxy", async () => {
      const before = tunnels.length;
      served.length = 0;
      const r = await cli(["flare", CASE_ID, "-s", "-e", "ops@example.com", "-c", configFile]);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, new RegExp(`your internal case id is ${CASE_ID}`));
      assert.deepEqual(served, [
        `HEAD /support/flare/${CASE_ID}`,
        `POST /support/flare/${CASE_ID}`,
        "received a flare",
      ]);
      // The flare is another process than the daemon: it opens its own tunnel.
      assert.ok(tunnels.length > before);
      onlyThroughProxy();
      const zip = /Flare archive: (.+)/.exec(r.out)?.[1] ?? "";
      assert.ok(
        zip.startsWith(W) && existsSync(zip),
        `the zip stays in the test's directory: ${zip}`,
      );
    });

    test("outpost installer install fails with a clear error, not a hang, when the proxy is down", {
      timeout: 30_000,
    }, async () => {
      for (const socket of open) socket.destroy();
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
      served.length = 0;
      const r = await cli(["installer", "install", "demo", "3.0.0", "-c", configFile], 30_000);
      assert.equal(r.code, 1);
      assert.match(
        r.err,
        /^Error \(502\): Download failed after 3 attempts \(connection_refused\): /,
      );
      // Three attempts, two pauses of 1 s: far from the 20 s bound on a silent answer.
      assert.ok(r.ms < 10_000, `failed after ${r.ms} ms`);
      assert.deepEqual(served, [], "nothing reached the server around the proxy");
    });
  });
}

suite("bun", [process.execPath, join(ROOT, "cli/main.ts")]);
suite("deno", [
  join(ROOT, "node_modules/.bin/deno"),
  "run",
  "-A",
  "--unstable-net",
  join(ROOT, "cli/main.ts"),
]);
