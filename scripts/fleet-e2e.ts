/**
 * The fleet end-to-end scenario with real artifacts, run by `bun scripts/fleet-e2e.ts`
 * (and by tests/e2e/fleet.test.ts when FLEET_E2E=1):
 *
 *  1. builds three binaries: 1.0.0, 2.0.0 and a 3.0.0 whose `run` exits 1 (`--broken`);
 *  2. publishes them as OCI images (index → manifest → tar+gzip layer) to Debian's
 *     `docker-registry` on 127.0.0.1 with `skopeo` (installed with apt-get when missing), and
 *     as tar+zstd tarballs on a local HTTP server;
 *  3. runs `outpost installer daemon` (the 1.0.0 binary) and drives it with `curl
 *     --unix-socket`: install 1 → 1 runs; experiment 2 → 2 runs; promote → 2 stable;
 *     experiment 3 → automatic rollback to 2 within the health timeout, reason in /status;
 *     then the bad inputs (415, 400, 404, 422 checksum, unsafe archives, bad signature);
 *  4. repeats the sequence from the tarballs with the daemon killed by SIGKILL during every
 *     step and restarted, checking after each restart that stable runs and /status agrees.
 *
 * Prints `N passed, N failed` and exits 1 on any failure.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { packTar } from "modern-tar";

const ROOT = resolve(import.meta.dirname, "..");
const BUN = process.execPath;
const W = mkdtempSync(join(tmpdir(), "fleet-e2e-"));
const KEEP = process.env.FLEET_E2E_KEEP === "1";
const HEALTH_TIMEOUT_S = 20;
const started = performance.now();

let passed = 0;
let failed = 0;
const children: { pid: number; kill(s?: number | NodeJS.Signals): void }[] = [];

function ok(cond: unknown, what: string, detail = ""): void {
  if (cond) {
    passed++;
    console.log(`  ok    ${what}`);
  } else {
    failed++;
    console.log(`  FAIL  ${what}${detail ? `\n        ${detail}` : ""}`);
  }
}

function sh(cmd: string[], opts: { allowFail?: boolean; cwd?: string } = {}): string {
  const r = Bun.spawnSync({ cmd, cwd: opts.cwd ?? ROOT, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0 && !opts.allowFail) {
    throw new Error(
      `${cmd.join(" ")} failed (${r.exitCode}):\n${r.stderr.toString()}${r.stdout.toString()}`,
    );
  }
  return r.stdout.toString();
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch { /* not yet */ }
    await Bun.sleep(200);
  }
  console.log(`        (gave up waiting for ${what})`);
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Tools
// ---------------------------------------------------------------------------------------------
function ensureTools(): void {
  const missing = ["docker-registry", "skopeo", "curl", "zstd"].filter((t) => !Bun.which(t));
  if (missing.length === 0) return;
  console.log(`installing ${missing.join(", ")} with apt-get`);
  sh(["apt-get", "update", "-qq"], { allowFail: true });
  const r = Bun.spawnSync({
    cmd: ["apt-get", "install", "-y", "-qq", ...missing],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    stdout: "pipe",
    stderr: "pipe",
  });
  if (r.exitCode !== 0) {
    throw new Error(`Cannot install ${missing.join(", ")}:\n${r.stderr.toString()}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Artifacts
// ---------------------------------------------------------------------------------------------
interface Artifact {
  version: string;
  binary: string;
  tarball: string; // tar+zstd, served over HTTP
  tarSha: string;
  layout: string; // OCI layout directory
}

function build(version: string, broken: boolean): string {
  const out = join(W, "build", version, "outpost");
  const t = performance.now();
  sh([
    BUN,
    "scripts/build.ts",
    "--target",
    "linux-x64",
    "--version",
    version,
    "--outfile",
    out,
    ...(broken ? ["--broken"] : []),
  ]);
  console.log(
    `  built ${version}${broken ? " (broken)" : ""} in ${
      ((performance.now() - t) / 1000).toFixed(1)
    } s`,
  );
  return out;
}

function writeBlob(layout: string, data: Uint8Array): { digest: string; size: number } {
  const hex = sha256(data);
  writeFileSync(join(layout, "blobs", "sha256", hex), data);
  return { digest: `sha256:${hex}`, size: data.length };
}

async function package_(version: string, binary: string): Promise<Artifact> {
  const dir = join(W, "pkg", version);
  mkdirSync(join(dir, "root", "bin"), { recursive: true });
  sh(["cp", binary, join(dir, "root", "bin", "outpost")]);
  const tar = join(dir, "outpost.tar");
  sh(["tar", "-cf", tar, "-C", join(dir, "root"), "."]);
  const tarball = join(dir, `outpost-${version}.tar.zst`);
  sh(["zstd", "-q", "-1", "-f", tar, "-o", tarball]);
  const gz = join(dir, "layer.tar.gz");
  sh(["sh", "-c", `gzip -1 -c '${tar}' > '${gz}'`]);

  const layout = join(dir, "oci");
  mkdirSync(join(layout, "blobs", "sha256"), { recursive: true });
  writeFileSync(join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
  const diffId = `sha256:${sha256(await Bun.file(tar).bytes())}`;
  const config = writeBlob(
    layout,
    enc({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [diffId] } }),
  );
  const layer = writeBlob(layout, await Bun.file(gz).bytes());
  const manifest = writeBlob(
    layout,
    enc({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...layer }],
      annotations: {
        "dev.outpost.package.name": "outpost",
        "dev.outpost.package.version": version,
      },
    }),
  );
  const index = writeBlob(
    layout,
    enc({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [{
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        ...manifest,
        platform: { os: "linux", architecture: "amd64" },
      }],
    }),
  );
  writeFileSync(
    join(layout, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{
        mediaType: "application/vnd.oci.image.index.v1+json",
        ...index,
        annotations: { "org.opencontainers.image.ref.name": version },
      }],
    }),
  );
  const tarSha = sha256(await Bun.file(tarball).bytes());
  rmSync(join(dir, "root"), { recursive: true });
  rmSync(tar);
  rmSync(gz);
  return { version, binary, tarball, tarSha, layout };
}

// ---------------------------------------------------------------------------------------------
// Daemon and API helpers
// ---------------------------------------------------------------------------------------------
interface Env {
  config: string;
  socket: string;
  root: string;
  cmdPort: number;
  tokenFile: string;
  daemonBin: string;
}

function makeEnv(
  name: string,
  daemonBin: string,
  cmdPort: number,
  extra: Record<string, unknown> = {},
): Env {
  const dir = join(W, name);
  mkdirSync(dir, { recursive: true });
  const config = join(dir, "datadog.yaml");
  const fleet = {
    root: join(dir, "fleet"),
    experiment_health_timeout: HEALTH_TIMEOUT_S,
    experiment_watch: 3,
    ...extra,
  };
  writeFileSync(
    config,
    [
      `api_key: "${"0".repeat(32)}"`,
      `dd_url: "http://127.0.0.1:9"`,
      `run_path: "${join(dir, "run")}"`,
      `cmd_port: ${cmdPort}`,
      `log_level: info`,
      `fleet: ${JSON.stringify(fleet)}`,
    ].join("\n") + "\n",
  );
  return {
    config,
    socket: join(dir, "run", "installer.sock"),
    root: fleet.root,
    cmdPort,
    tokenFile: join(dir, "auth_token"),
    daemonBin,
  };
}

function startDaemon(env: Env, log: string) {
  const p = Bun.spawn({
    cmd: [env.daemonBin, "installer", "daemon", "-c", env.config],
    stdout: Bun.file(log),
    stderr: Bun.file(log),
  });
  children.push(p);
  return p;
}

async function daemonUp(env: Env): Promise<boolean> {
  return (await waitFor(
    "the daemon's socket",
    async () => (await api(env, "GET", "/status")).status === 200 ? true : undefined,
  )) === true;
}

/** One request through `curl --unix-socket`, as an operator would send it. */
async function api(
  env: Env,
  method: string,
  path: string,
  body?: string,
  contentType = "application/json",
): Promise<{ status: number; json: any }> {
  const cmd = [
    "curl",
    "-s",
    "-o",
    "-",
    "-w",
    "\n%{http_code}",
    "--unix-socket",
    env.socket,
    "-X",
    method,
  ];
  if (contentType) cmd.push("-H", `Content-Type: ${contentType}`);
  if (body !== undefined) cmd.push("--data-binary", body);
  cmd.push(`http://daemon${path}`);
  const p = Bun.spawn({ cmd, stdout: "pipe", stderr: "pipe" });
  const out = await new Response(p.stdout).text();
  await p.exited;
  const nl = out.lastIndexOf("\n");
  const status = Number(out.slice(nl + 1));
  let json: any = null;
  try {
    json = JSON.parse(out.slice(0, nl));
  } catch { /* not JSON */ }
  return { status, json };
}

/** The version the running agent reports on its API, or undefined. */
async function agentVersion(env: Env): Promise<string | undefined> {
  const token = (await Bun.file(env.tokenFile).text()).trim();
  const res = await fetch(`http://127.0.0.1:${env.cmdPort}/agent/version`, {
    headers: { Authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(1000),
  });
  if (!res.ok) return undefined;
  const v = await res.json() as { Major: number; Minor: number; Patch: number };
  return `${v.Major}.${v.Minor}.${v.Patch}`;
}

async function waitAgent(env: Env, version: string, timeoutMs = 30_000): Promise<boolean> {
  return (await waitFor(
    `agent ${version}`,
    async () => (await agentVersion(env)) === version ? true : undefined,
    timeoutMs,
  )) === true;
}

function pkgStatus(s: { json: any }) {
  return s.json?.packages?.outpost ?? {};
}

/** stable points at a complete version whose binary runs and reports that version. */
function stableRunnable(env: Env, expected: string | null): boolean {
  const link = join(env.root, "packages", "outpost", "stable");
  if (expected === null) return !existsSync(link);
  const r = Bun.spawnSync({
    cmd: [join(link, "bin", "outpost"), "version", "--json"],
    stdout: "pipe",
    stderr: "pipe",
  });
  if (r.exitCode !== 0) return false;
  return JSON.parse(r.stdout.toString()).version === expected;
}

async function sign(catalog: unknown, key: CryptoKey): Promise<string> {
  const signed = JSON.stringify(catalog);
  const sig = new Uint8Array(
    await crypto.subtle.sign("Ed25519", key, new TextEncoder().encode(signed)),
  );
  return JSON.stringify({ signed, signature: Buffer.from(sig).toString("base64") });
}

// ---------------------------------------------------------------------------------------------
// Scenario
// ---------------------------------------------------------------------------------------------
async function main(): Promise<void> {
  ensureTools();

  console.log("building three binaries");
  const bins = {
    "1.0.0": build("1.0.0", false),
    "2.0.0": build("2.0.0", false),
    "3.0.0": build("3.0.0", true),
  };
  console.log("packaging");
  const arts: Artifact[] = [];
  for (const [v, b] of Object.entries(bins)) arts.push(await package_(v, b));

  // A real registry on 127.0.0.1, filled with skopeo.
  const regPort = await freePort();
  writeFileSync(
    join(W, "registry.yml"),
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${
      join(W, "registry")
    }\nhttp:\n  addr: 127.0.0.1:${regPort}\n`,
  );
  const registry = Bun.spawn({
    cmd: ["docker-registry", "serve", join(W, "registry.yml")],
    stdout: Bun.file(join(W, "registry.log")),
    stderr: Bun.file(join(W, "registry.log")),
  });
  children.push(registry);
  ok(
    await waitFor(
      "the registry",
      async () => (await fetch(`http://127.0.0.1:${regPort}/v2/`)).ok ? true : undefined,
    ),
    "docker-registry answers on 127.0.0.1",
  );
  const digests: Record<string, string> = {};
  for (const a of arts) {
    const dest = `docker://127.0.0.1:${regPort}/outpost:${a.version}`;
    sh([
      "skopeo",
      "copy",
      "--all",
      "--dest-tls-verify=false",
      `oci:${a.layout}:${a.version}`,
      dest,
    ]);
    const raw = Bun.spawnSync({
      cmd: ["skopeo", "inspect", "--raw", "--tls-verify=false", dest],
      stdout: "pipe",
    }).stdout;
    digests[a.version] = `sha256:${sha256(new Uint8Array(raw))}`;
  }
  ok(Object.keys(digests).length === 3, "skopeo pushed three images", JSON.stringify(digests));

  // Tarballs over HTTP, plus the bad ones.
  const www = join(W, "www");
  mkdirSync(www, { recursive: true });
  for (const a of arts) sh(["cp", a.tarball, www]);
  const evilDots = await packTar([{
    header: { name: "../evil", size: 4, type: "file" },
    body: "evil",
  }]);
  const evilLink = await packTar([
    { header: { name: "bin/", size: 0, type: "directory" } },
    {
      header: { name: "bin/outpost", size: 0, type: "symlink", linkname: "../../../../etc/passwd" },
    },
  ]);
  writeFileSync(join(www, "evil-dots.tar"), evilDots);
  writeFileSync(join(www, "evil-link.tar"), evilLink);
  const http = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) => {
      const f = join(www, new URL(req.url).pathname.replace(/^\/+/, "").replace(/\.\./g, ""));
      return existsSync(f) ? new Response(Bun.file(f)) : new Response("not found", { status: 404 });
    },
  });
  const base = `http://127.0.0.1:${http.port}`;

  const ociCatalog = {
    version: "oci-1",
    packages: arts.map((a) => ({
      package: "outpost",
      version: a.version,
      url: `oci://127.0.0.1:${regPort}/outpost@${digests[a.version]}`,
    })),
  };
  const tarCatalog = {
    version: "tar-1",
    packages: [
      ...arts.map((a) => ({
        package: "outpost",
        version: a.version,
        url: `${base}/outpost-${a.version}.tar.zst`,
        sha256: a.tarSha,
      })),
      {
        package: "outpost",
        version: "9.0.0-badsum",
        url: `${base}/outpost-2.0.0.tar.zst`,
        sha256: "0".repeat(64),
      },
      {
        package: "outpost",
        version: "9.0.0-dots",
        url: `${base}/evil-dots.tar`,
        sha256: sha256(evilDots),
      },
      {
        package: "outpost",
        version: "9.0.0-link",
        url: `${base}/evil-link.tar`,
        sha256: sha256(evilLink),
      },
    ],
  };

  // --- Phase 1: the happy path from the registry --------------------------------------------
  console.log("phase 1: install, experiment, promote, rollback (OCI registry)");
  const env = makeEnv("p1", bins["1.0.0"], await freePort());
  let daemon = startDaemon(env, join(W, "p1-daemon.log"));
  ok(await daemonUp(env), "the daemon serves /status on its socket");
  ok(
    (await api(env, "POST", "/catalog", JSON.stringify(ociCatalog))).status === 200,
    "POST /catalog → 200",
  );
  const t1 = performance.now();
  const inst = await api(env, "POST", "/outpost/install", JSON.stringify({ version: "1.0.0" }));
  ok(
    inst.status === 200 && JSON.stringify(inst.json) === "{}",
    "install 1.0.0 → 200 {}",
    JSON.stringify(inst),
  );
  console.log(
    `        (install from the registry took ${((performance.now() - t1) / 1000).toFixed(1)} s)`,
  );
  ok(await waitAgent(env, "1.0.0"), "the daemon runs 1.0.0");
  const exp2 = await api(
    env,
    "POST",
    "/outpost/experiment/start",
    JSON.stringify({ version: "2.0.0" }),
  );
  ok(exp2.status === 200, "experiment start 2.0.0 → 200", JSON.stringify(exp2));
  ok(await waitAgent(env, "2.0.0"), "the daemon runs 2.0.0");
  let st = await api(env, "GET", "/status");
  ok(
    pkgStatus(st).experiment_version === "2.0.0" && pkgStatus(st).stable_version === "1.0.0",
    "/status: stable 1.0.0, experiment 2.0.0",
    JSON.stringify(pkgStatus(st)),
  );
  const watching = await waitFor("the watch", async () => {
    const s = pkgStatus(await api(env, "GET", "/status")).watch?.state;
    return s === "watching" || s === "passed" ? s : undefined;
  });
  ok(watching, `the experiment reported healthy (watch: ${watching})`);
  const again = await api(
    env,
    "POST",
    "/outpost/experiment/start",
    JSON.stringify({ version: "2.0.0" }),
  );
  ok(
    again.status === 409 && again.json?.error?.message,
    "a second experiment start → 409",
    JSON.stringify(again),
  );
  ok((await api(env, "POST", "/outpost/experiment/promote", "{}")).status === 200, "promote → 200");
  st = await api(env, "GET", "/status");
  ok(
    pkgStatus(st).stable_version === "2.0.0" && pkgStatus(st).experiment_version === null,
    "/status: stable 2.0.0, no experiment",
    JSON.stringify(pkgStatus(st)),
  );
  ok(await agentVersion(env) === "2.0.0", "2.0.0 keeps running after promote");
  const none = await api(env, "POST", "/outpost/experiment/promote", "{}");
  ok(none.status === 409, "promote with no experiment → 409", JSON.stringify(none));
  const t3 = performance.now();
  ok(
    (await api(env, "POST", "/outpost/experiment/start", JSON.stringify({ version: "3.0.0" })))
      .status === 200,
    "experiment start 3.0.0 (exits 1) → 200",
  );
  const rb = await waitFor("the rollback", async () => {
    const p = pkgStatus(await api(env, "GET", "/status"));
    return p.rollback?.version === "3.0.0" && p.experiment_version === null ? p : undefined;
  }, HEALTH_TIMEOUT_S * 1000);
  const rbSeconds = (performance.now() - t3) / 1000;
  ok(
    rb,
    `automatic rollback within the health timeout (${
      rbSeconds.toFixed(1)
    } s ≤ ${HEALTH_TIMEOUT_S} s)`,
  );
  ok(
    rb?.rollback?.reason && /3\.0\.0/.test(rb.rollback.reason),
    `/status gives the reason: "${rb?.rollback?.reason}"`,
  );
  ok(rb?.stable_version === "2.0.0", "stable is still 2.0.0");
  ok(await waitAgent(env, "2.0.0"), "2.0.0 runs again after the rollback");

  // --- Bad input ----------------------------------------------------------------------------
  console.log("bad input");
  let r = await api(env, "POST", "/outpost/install", "{}", "text/plain");
  ok(
    r.status === 415 && r.json?.error?.message,
    `wrong Content-Type → 415 ${JSON.stringify(r.json)}`,
  );
  r = await api(env, "POST", "/outpost/experiment/start", "{not json");
  ok(r.status === 400 && r.json?.error?.message, `invalid JSON → 400 ${JSON.stringify(r.json)}`);
  r = await api(env, "POST", "/outpost/experiment/start", JSON.stringify({ version: 7 }));
  ok(r.status === 400 && r.json?.error?.message, `invalid body → 400 ${JSON.stringify(r.json)}`);
  r = await api(env, "POST", "/outpost/experiment/start", JSON.stringify({ version: "8.8.8" }));
  ok(r.status === 404 && r.json?.error?.message, `unknown version → 404 ${JSON.stringify(r.json)}`);
  r = await api(env, "POST", "/nosuchpkg/install", JSON.stringify({ version: "1.0.0" }));
  ok(r.status === 404, `unknown package → 404 ${JSON.stringify(r.json)}`);
  ok(
    (await api(env, "POST", "/catalog", JSON.stringify(tarCatalog))).status === 200,
    "POST the tarball catalog → 200",
  );
  const before = readdirSync(join(env.root, "packages", "outpost")).sort().join(",");
  r = await api(
    env,
    "POST",
    "/outpost/experiment/start",
    JSON.stringify({ version: "9.0.0-badsum" }),
  );
  ok(
    r.status === 422 && /sha256/i.test(r.json?.error?.message ?? ""),
    `wrong sha256 → 422 ${JSON.stringify(r.json)}`,
  );
  const after = readdirSync(join(env.root, "packages", "outpost")).sort().join(",");
  const tmpLeft = existsSync(join(env.root, "tmp")) ? readdirSync(join(env.root, "tmp")) : [];
  ok(
    before === after && tmpLeft.length === 0,
    `nothing unpacked (${after}; tmp: ${tmpLeft.length} entries)`,
  );
  r = await api(
    env,
    "POST",
    "/outpost/experiment/start",
    JSON.stringify({ version: "9.0.0-dots" }),
  );
  ok(
    r.status === 422 && /\.\./.test(r.json?.error?.message ?? ""),
    `"../" entry refused → 422 ${JSON.stringify(r.json)}`,
  );
  r = await api(
    env,
    "POST",
    "/outpost/experiment/start",
    JSON.stringify({ version: "9.0.0-link" }),
  );
  ok(
    r.status === 422 && /symlink/.test(r.json?.error?.message ?? ""),
    `escaping symlink refused → 422 ${JSON.stringify(r.json)}`,
  );
  ok(
    !existsSync(join(W, "evil")) && !existsSync(join(env.root, "evil")),
    "no file escaped the package directory",
  );
  ok(await agentVersion(env) === "2.0.0", "2.0.0 still runs after the bad input");
  daemon.kill("SIGTERM");
  await daemon.exited;

  // --- Phase 2: signed catalogs, and SIGKILL at every step -------------------------------------
  console.log("phase 2: signed catalogs and SIGKILL during every step (HTTP tarballs)");
  const keys = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const pub = Buffer.from(new Uint8Array(await crypto.subtle.exportKey("raw", keys.publicKey)))
    .toString("base64");
  const other = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const env2 = makeEnv("p2", bins["1.0.0"], await freePort(), { catalog_public_key: pub });
  const log2 = join(W, "p2-daemon.log");
  daemon = startDaemon(env2, log2);
  ok(await daemonUp(env2), "the daemon with a catalog key starts");
  r = await api(env2, "POST", "/catalog", JSON.stringify(tarCatalog));
  ok(
    r.status === 422 && /not signed/.test(r.json?.error?.message ?? ""),
    `unsigned catalog refused → 422 ${JSON.stringify(r.json)}`,
  );
  r = await api(env2, "POST", "/catalog", await sign(tarCatalog, other.privateKey));
  ok(
    r.status === 422 && /signature/.test(r.json?.error?.message ?? ""),
    `bad signature refused → 422 ${JSON.stringify(r.json)}`,
  );
  ok(
    pkgStatus(await api(env2, "GET", "/status")).stable_version === undefined,
    "no catalog taken from the refused posts",
  );
  const signed = await sign(tarCatalog, keys.privateKey);

  const stableNow = async () => pkgStatus(await api(env2, "GET", "/status")).stable_version ?? null;
  const startExp2 = async () => {
    if (await stableNow() === "2.0.0") return;
    await api(env2, "POST", "/outpost/experiment/start", '{"version":"2.0.0"}');
    await waitAgent(env2, "2.0.0");
  };
  const steps: { name: string; path: string; body: string; prepare?: () => Promise<void> }[] = [
    { name: "catalog", path: "/catalog", body: signed },
    { name: "install 1.0.0", path: "/outpost/install", body: '{"version":"1.0.0"}' },
    { name: "experiment 2.0.0", path: "/outpost/experiment/start", body: '{"version":"2.0.0"}' },
    { name: "promote", path: "/outpost/experiment/promote", body: "{}", prepare: startExp2 },
    { name: "experiment 3.0.0", path: "/outpost/experiment/start", body: '{"version":"3.0.0"}' },
  ];
  const killDelays = [0, 300, 1000, 2000];
  for (const step of steps) {
    for (const delay of killDelays) {
      // Start the step, kill the daemon part-way through, restart it.
      await step.prepare?.();
      const req = api(env2, "POST", step.path, step.body);
      await Bun.sleep(delay);
      daemon.kill("SIGKILL");
      await daemon.exited;
      await req;
      daemon = startDaemon(env2, log2);
      const up = await daemonUp(env2);
      const s = await api(env2, "GET", "/status");
      const p = pkgStatus(s);
      const stable = p.stable_version ?? null;
      const consistent = up && s.status === 200 && p.experiment_version == null &&
        p.task?.state !== "running" && stableRunnable(env2, stable);
      ok(
        consistent,
        `SIGKILL ${delay} ms into "${step.name}": restarted, /status consistent, stable (${stable}) runnable`,
        JSON.stringify(p),
      );
      if (stable !== null) {
        ok(await waitAgent(env2, stable), `  … and the daemon runs stable ${stable}`);
      }
    }
    // Then let the step finish: the next step builds on it.
    if (step.name === "promote" && await stableNow() === "2.0.0") continue;
    await step.prepare?.();
    const done = await api(env2, "POST", step.path, step.body);
    ok(
      done.status === 200,
      `"${step.name}" completes after the crashes → ${done.status}`,
      JSON.stringify(done.json),
    );
    if (step.name === "experiment 2.0.0") {
      ok(await waitAgent(env2, "2.0.0"), "  2.0.0 runs as the experiment");
      ok(
        (await api(env2, "POST", "/outpost/experiment/stop", "{}")).status === 200,
        "  experiment stop → 200",
      );
      ok(await waitAgent(env2, "1.0.0"), "  back to 1.0.0 after stop");
    }
  }
  const last = pkgStatus(await api(env2, "GET", "/status"));
  ok(last.stable_version === "2.0.0", `end state: stable ${last.stable_version}`);
  const fin = await waitFor("the last rollback", async () => {
    const p = pkgStatus(await api(env2, "GET", "/status"));
    return p.rollback?.version === "3.0.0" && p.experiment_version === null ? p : undefined;
  }, HEALTH_TIMEOUT_S * 1000);
  ok(fin, "the final experiment 3.0.0 rolled back");
  ok(await waitAgent(env2, "2.0.0"), "2.0.0 runs at the end");
  daemon.kill("SIGTERM");
  await daemon.exited;
  http.stop(true);
}

try {
  await main();
} catch (e) {
  failed++;
  console.log(`  FAIL  ${(e as Error).stack ?? e}`);
} finally {
  for (const c of children) {
    try {
      c.kill("SIGKILL");
    } catch { /* gone */ }
  }
  // Agents started by a killed daemon are stopped by the next daemon; the last daemon's agent
  // stops with it. Anything still running from this directory is ours.
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = await Bun.file(`/proc/${pid}/cmdline`).text();
      if (cmd.includes(W)) process.kill(Number(pid), "SIGKILL");
    } catch { /* gone */ }
  }
  if (!KEEP) rmSync(W, { recursive: true, force: true });
  else console.log(`kept ${W}`);
}
console.log(`\nfleet e2e took ${((performance.now() - started) / 1000).toFixed(0)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
