/**
 * The fleet local API against hostile packages and catalogs, each built here: world-writable
 * modes, decompression bombs, `../` versions, FIFOs and devices behind `file://`, chained
 * symlinks, archives with too many entries and oversized catalogs. Every refusal is checked
 * by its JSON answer, and nothing may appear outside `fleet.root`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { join, relative } from "node:path";
import { packTar, type TarEntry } from "modern-tar";
import { runtime } from "../../../src/runtime/mod.ts";
import { createLogger } from "../../../src/log/mod.ts";
import { createFleetApi } from "../../../src/fleet/_api.ts";
import { Installer, type InstallerOptions } from "../../../src/fleet/_installer.ts";
import { tempDir } from "./_helpers.ts";

const logger = createLogger({ level: "off", console: false });
const JSON_TYPE = { "Content-Type": "application/json" };

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Every path under `dir` except below `skip`, with its size: a picture of what was written. */
function snapshot(dir: string, skip: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (p === skip) continue;
      const st = lstatSync(p);
      out.push(`${relative(dir, p)} ${st.isDirectory() ? "dir" : st.size}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * A temp tree: `root` is `fleet.root`, `src` the only `fleet.file_roots` entry (where the
 * crafted packages are written), `outside` a directory an escape would write to.
 */
function setup(options: Partial<InstallerOptions> = {}) {
  const dir = tempDir("fleet-hard-");
  const root = join(dir, "root");
  const src = join(dir, "src");
  mkdirSync(src);
  mkdirSync(join(dir, "outside"));
  const installer = new Installer({ runtime, root, logger, fileRoots: [src], ...options });
  const app = createFleetApi(installer);
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await app.request(path, {
      method,
      headers: JSON_TYPE,
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: res.status, json: await res.json() as any };
  };
  /** Writes `data` under `src` and returns its catalog entry as version `version`. */
  const publish = (name: string, data: Uint8Array, version = "1.0.0") => {
    writeFileSync(join(src, name), data);
    return { package: "outpost", version, url: `file://${join(src, name)}`, sha256: sha256(data) };
  };
  const before = snapshot(dir, root);
  /** Asserts that nothing outside `fleet.root` changed, and that no package was installed. */
  const nothingOutside = () => {
    assert.deepEqual(snapshot(dir, root), before, "nothing is written outside fleet.root");
    assert.equal(existsSync(join(root, "packages", "outpost", "stable")), false);
    const tmp = join(root, "tmp");
    assert.deepEqual(existsSync(tmp) ? readdirSync(tmp) : [], [], "no scratch file is left");
  };
  /** Takes a new picture after the test wrote its own inputs. */
  const settle = () => before.splice(0, before.length, ...snapshot(dir, root));
  return { dir, root, src, installer, call, publish, nothingOutside, settle };
}

/** A zstd frame of one raw block followed by RLE blocks of zeros: tiny, but huge decoded. */
function zstdBomb(head: Uint8Array, zeroBlocks: number): Uint8Array {
  const BLOCK = 128 * 1024; // the largest block, with the 128 KiB window declared below
  const out = new Uint8Array(6 + 3 + head.length + zeroBlocks * 4);
  // Magic, a frame header descriptor with no content size, a window descriptor of 2^17.
  out.set([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38]);
  let o = 6;
  const blockHeader = (last: boolean, type: number, size: number) => {
    const h = (last ? 1 : 0) | (type << 1) | (size << 3);
    out[o++] = h & 0xff;
    out[o++] = (h >> 8) & 0xff;
    out[o++] = (h >> 16) & 0xff;
  };
  blockHeader(false, 0, head.length);
  out.set(head, o);
  o += head.length;
  for (let i = 0; i < zeroBlocks; i++) {
    blockHeader(i === zeroBlocks - 1, 1, BLOCK);
    out[o++] = 0;
  }
  return out;
}

/** The 512-byte tar header of a file entry declaring `size` bytes of content. */
async function tarHeader(name: string, size: number): Promise<Uint8Array> {
  const tar = await packTar([{ header: { name, size: 0, type: "file", mode: 0o755 } }]);
  const head = tar.slice(0, 512);
  // The size field (octal, 12 bytes at 124) and the checksum (8 bytes at 148) are rewritten.
  head.set(new TextEncoder().encode(size.toString(8).padStart(11, "0") + "\0"), 124);
  head.fill(0x20, 148, 156);
  const sum = head.reduce((a, b) => a + b, 0);
  head.set(new TextEncoder().encode(sum.toString(8).padStart(6, "0") + "\0 "), 148);
  return head;
}

/** gzip of the chunks given, compressed as a stream (so the input is never held whole). */
async function gzip(...chunks: Uint8Array[]): Promise<Uint8Array> {
  let i = 0;
  const s = new ReadableStream<BufferSource>({
    pull: (c) => i < chunks.length ? c.enqueue(chunks[i++] as Uint8Array<ArrayBuffer>) : c.close(),
  }).pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(s).arrayBuffer());
}

test("fleet API installs a package with 0777/0666 modes with group and other write removed", async () => {
  const { dir, root, call, publish } = setup();
  const tar = await packTar([
    { header: { name: "bin/", size: 0, type: "directory", mode: 0o777 } },
    { header: { name: "bin/outpost", size: 2, type: "file", mode: 0o777 }, body: "hi" },
    { header: { name: "etc/datadog.yaml", size: 1, type: "file", mode: 0o666 }, body: "x" },
    { header: { name: "etc/", size: 0, type: "directory", mode: 0o777 } },
  ]);
  await call("POST", "/catalog", { packages: [publish("modes.tar", tar)] });
  assert.deepEqual(await call("POST", "/outpost/install", {}), { status: 200, json: {} });
  const stable = join(root, "packages", "outpost", "stable");
  const mode = (p: string) => lstatSync(join(stable, p)).mode & 0o7777;
  assert.equal(mode("bin"), 0o755);
  assert.equal(mode("bin/outpost"), 0o755);
  assert.equal(mode("etc"), 0o755);
  assert.equal(mode("etc/datadog.yaml"), 0o644);
  const walk = (d: string): string[] =>
    readdirSync(d).flatMap((n) => {
      const p = join(d, n);
      return lstatSync(p).isDirectory() ? [p, ...walk(p)] : [p];
    });
  for (const p of walk(join(root, "packages"))) {
    const st = lstatSync(p);
    if (!st.isSymbolicLink()) assert.equal(st.mode & 0o022, 0, `${p} is not group/other writable`);
  }
  rmSync(dir, { recursive: true });
});

test("fleet API installs tar+zstd and tar+gzip packages decoded as streams", async () => {
  const { dir, root, call, publish } = setup();
  // Larger than one decoder chunk, so the stream really runs in several steps.
  const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7919) % 251);
  const tar = await packTar([
    { header: { name: "bin/outpost", size: big.length, type: "file", mode: 0o755 }, body: big },
  ]);
  const packages = [
    publish("p.tar.zst", runtime.zstdCompress(tar, 3), "1.0.0"),
    publish("p.tar.gz", await gzip(tar), "2.0.0"),
  ];
  await call("POST", "/catalog", { packages });
  for (const version of ["1.0.0", "2.0.0"]) {
    assert.deepEqual(await call("POST", "/outpost/install", { version }), {
      status: 200,
      json: {},
    });
    const got = readFileSync(join(root, "packages", "outpost", version, "bin", "outpost"));
    assert.equal(sha256(got), sha256(big), version);
  }
  rmSync(dir, { recursive: true });
});

for (const format of ["zstd", "gzip"] as const) {
  // A loaded machine needs more than the runner's default 5 s to stream a bomb to its cap.
  test(`fleet API refuses a ${format} bomb at the size cap, decoding it as a stream`, {
    timeout: 30_000,
  }, async () => {
    const cap = 8 * 1024 * 1024;
    const { dir, call, publish, nothingOutside, settle } = setup({ maxBytes: cap });
    let archive: Uint8Array;
    if (format === "zstd") {
      // 64 KiB on disk, 2 GiB decoded (the bomb was 66 KB with a 4.3 GB peak).
      archive = zstdBomb(await tarHeader("bin/outpost", 64 * 1024 ** 3), 16 * 1024);
    } else {
      // 256 KiB on disk, 256 MiB decoded: 32 times the cap, and cheap to make in the test.
      const zeros = new Uint8Array(16 * 1024 * 1024);
      archive = await gzip(
        await tarHeader("bin/outpost", 64 * 1024 ** 3),
        ...Array.from({ length: 16 }, () => zeros),
      );
    }
    assert.ok(archive.length < cap, "the archive itself passes the download cap");
    await call("POST", "/catalog", { packages: [publish(`bomb.tar.${format}`, archive)] });
    settle();
    const peakBefore = process.resourceUsage().maxRSS;
    const r = await call("POST", "/outpost/install", {});
    assert.deepEqual(r, {
      status: 422,
      json: {
        error: {
          message:
            `Refused to unpack the archive: it expands past the cap of ${cap} bytes (fleet.max_package_size)`,
        },
      },
    });
    nothingOutside();
    assert.deepEqual((await call("GET", "/status")).json.refused, { too_large: 1 });
    // Decoded whole, the bomb alone would lift the peak RSS by its decoded size, 256 MiB or more
    // (maxRSS is in KiB; other tests in the same process may have set the peak before, so only
    // its growth counts).
    const grown = process.resourceUsage().maxRSS - peakBefore;
    assert.ok(grown < 128 * 1024, `the peak RSS grew by ${grown} KiB`);
    rmSync(dir, { recursive: true });
  });
}

test("fleet API refuses an archive of 200,000 entries at the default entry cap", async () => {
  const { dir, call, publish, nothingOutside, settle } = setup();
  const one = (await packTar([{ header: { name: "d/", size: 0, type: "directory" } }]))
    .slice(0, 512);
  const tar = new Uint8Array(512 * 200_000 + 1024); // and the two zero blocks that end a tar
  for (let i = 0; i < 200_000; i++) tar.set(one, i * 512);
  await call("POST", "/catalog", { packages: [publish("many.tar.gz", await gzip(tar))] });
  settle();
  const r = await call("POST", "/outpost/install", {});
  assert.deepEqual(r, {
    status: 422,
    json: {
      error: {
        message:
          "Refused to unpack the archive: it holds more than 10000 entries (fleet.max_package_entries)",
      },
    },
  });
  nothingOutside();
  rmSync(dir, { recursive: true });
});

test("fleet API refuses ../ versions and package names in a catalog and in request bodies", async () => {
  const { dir, root, installer, call, publish, nothingOutside, settle } = setup();
  const tar = await packTar([{
    header: { name: "bin/outpost", size: 1, type: "file" },
    body: "x",
  }]);
  const evil = publish("evil.tar", tar, "../../outside/esc");
  settle();
  const rule =
    'expected a version of letters, digits and . _ + ~ - (at most 128, not "stable" or "experiment")';
  let r = await call("POST", "/catalog", { packages: [evil] });
  assert.deepEqual(r, {
    status: 400,
    json: { error: { message: `Invalid catalog: "packages.0.version": ${rule}` } },
  });
  r = await call("POST", "/catalog", {
    packages: [{ ...evil, version: "1.0.0", package: "../outside" }],
  });
  assert.equal(r.status, 400);
  assert.equal(
    r.json.error.message,
    'Invalid catalog: "packages.0.package": expected a package name of lower-case letters, digits and . _ - (at most 64)',
  );
  r = await call("POST", "/catalog", {
    packages: [],
    desired: { outpost: { version: "../../outside/esc" } },
  });
  assert.equal(r.json.error.message, `Invalid catalog: "desired.outpost.version": ${rule}`);
  assert.equal(installer.catalog, null);
  r = await call("POST", "/outpost/install", { version: "../../outside/esc" });
  assert.deepEqual(r, {
    status: 400,
    json: { error: { message: `Invalid request body: "version": ${rule}` } },
  });
  r = await call("POST", "/outpost/experiment/start", { version: "a/../../b" });
  assert.equal(r.json.error.message, `Invalid request body: "version": ${rule}`);
  // A state file written before versions were checked still cannot steer a path.
  writeFileSync(
    join(root, "state.json"),
    JSON.stringify({ format_version: 1, catalog: { packages: [evil] }, packages: {} }),
  );
  const again = createFleetApi(new Installer({ runtime, root, logger, fileRoots: [dir] }));
  const res = await again.request("/outpost/install", { method: "POST", headers: JSON_TYPE });
  assert.equal(res.status, 400);
  assert.deepEqual(await res.json(), {
    error: { message: `Cannot use "../../outside/esc" as a version: ${rule}` },
  });
  assert.deepEqual(readdirSync(join(dir, "outside")), []);
  nothingOutside();
  rmSync(dir, { recursive: true });
});

test("fleet API refuses a file:// FIFO without blocking, and devices, as not regular files", async () => {
  const { dir, src, call, nothingOutside, settle } = setup({ fileRoots: [] });
  execFileSync("mkfifo", [join(src, "pipe.tar")]);
  settle();
  const entry = (path: string) => ({
    package: "outpost",
    version: "1.0.0",
    url: `file://${path}`,
    sha256: "0".repeat(64),
  });
  // No roots configured (the default): every file:// URL is refused.
  await call("POST", "/catalog", { packages: [entry(join(src, "pipe.tar"))] });
  let r = await call("POST", "/outpost/install", {});
  assert.deepEqual(r, {
    status: 403,
    json: {
      error: {
        message: `Refused file://${
          join(src, "pipe.tar")
        }: no fleet.file_roots are configured, so file:// URLs are off`,
      },
    },
  });
  // With /dev and the source directory allowed, a FIFO and devices are still not files.
  const open = setup({ fileRoots: ["/dev"] });
  execFileSync("mkfifo", [join(open.src, "pipe.tar")]);
  const withRoots = new Installer({
    runtime,
    root: open.root,
    logger,
    fileRoots: [open.src, "/dev"],
  });
  const app = createFleetApi(withRoots);
  const post = async (path: string, body: unknown) => {
    const res = await app.request(path, {
      method: "POST",
      headers: JSON_TYPE,
      body: JSON.stringify(body),
    });
    return { status: res.status, json: await res.json() as any };
  };
  for (const path of [join(open.src, "pipe.tar"), "/dev/zero", "/dev/null"]) {
    await post("/catalog", { packages: [entry(path)] });
    r = await post("/outpost/install", {});
    assert.deepEqual(
      r,
      { status: 403, json: { error: { message: `Refused file://${path}: not a regular file` } } },
      path,
    );
  }
  // /dev/stdin is a link out of /dev (to the process's descriptor): refused whatever it is.
  await post("/catalog", { packages: [entry("/dev/stdin")] });
  r = await post("/outpost/install", {});
  assert.equal(r.status, 403);
  assert.match(r.json.error.message, /^Refused file:\/\/\/dev\/stdin: /);
  nothingOutside();
  rmSync(dir, { recursive: true });
  rmSync(open.dir, { recursive: true });
});

test("fleet API refuses file:// outside fleet.file_roots, through links too, revealing nothing", async () => {
  const { dir, src, call, publish, nothingOutside, settle } = setup();
  const secret = join(dir, "outside", "secret");
  writeFileSync(secret, "root-readable secret");
  symlinkSync(secret, join(src, "link.tar"));
  symlinkSync(join(dir, "outside"), join(src, "dir"));
  symlinkSync(join(dir, "outside", "missing"), join(src, "dangling.tar"));
  settle();
  const allowed = `file:// URLs must name a regular file or an OCI layout under fleet.file_roots`;
  // Present or missing behind a link that leads out, the answer is the same.
  for (
    const path of [
      secret,
      join(src, "link.tar"),
      join(src, "dir", "secret"),
      join(src, "dir", "missing"),
      join(src, "dangling.tar"),
      "/etc/passwd",
    ]
  ) {
    await call("POST", "/catalog", {
      packages: [{
        package: "outpost",
        version: "1.0.0",
        url: `file://${path}`,
        sha256: "0".repeat(64),
      }],
    });
    const r = await call("POST", "/outpost/install", {});
    assert.deepEqual(r, {
      status: 403,
      json: { error: { message: `Refused file://${path}: ${allowed}` } },
    });
  }
  // A file really missing under a root is told as missing.
  await call("POST", "/catalog", {
    packages: [{
      package: "outpost",
      version: "1.0.0",
      url: `file://${join(src, "gone.tar")}`,
      sha256: "0".repeat(64),
    }],
  });
  assert.deepEqual(await call("POST", "/outpost/install", {}), {
    status: 404,
    json: { error: { message: `file://${join(src, "gone.tar")} does not exist` } },
  });
  // A checksum mismatch names only the expected hash, never the one of the file read.
  const data = new TextEncoder().encode("not the package");
  const wrong = { ...publish("wrong.tar", data), sha256: "a".repeat(64) };
  settle();
  await call("POST", "/catalog", { packages: [wrong] });
  const r = await call("POST", "/outpost/install", {});
  assert.deepEqual(r, {
    status: 422,
    json: {
      error: {
        message: `Checksum mismatch: the download does not have the expected sha256 ${
          "a".repeat(64)
        }`,
      },
    },
  });
  assert.ok(!JSON.stringify(r).includes(sha256(data)));
  nothingOutside();
  rmSync(dir, { recursive: true });
});

test("fleet API refuses a package with a chained symlink resolving outside the package", async () => {
  const { dir, call, publish, nothingOutside, settle } = setup();
  const tar = await packTar(
    [
      { header: { name: "bin/outpost", size: 1, type: "file", mode: 0o755 }, body: "x" },
      { header: { name: "lib/up", size: 0, type: "symlink", linkname: ".." } },
      // "lib/up/.." is the version directory's parent; the text alone normalizes to "lib".
      { header: { name: "lib/out", size: 0, type: "symlink", linkname: "up/../.." } },
      { header: { name: "lib/esc", size: 0, type: "symlink", linkname: "out/outside" } },
    ] satisfies TarEntry[],
  );
  await call("POST", "/catalog", { packages: [publish("chain.tar", tar)] });
  settle();
  const r = await call("POST", "/outpost/install", {});
  assert.deepEqual(r, {
    status: 422,
    json: {
      error: {
        message: 'Refused to unpack "lib/out": the symlink resolves outside the package (up/../..)',
      },
    },
  });
  nothingOutside();
  rmSync(dir, { recursive: true });
});

test("fleet API refuses a catalog over fleet.max_catalog_size and does not store it", async () => {
  const cap = 64 * 1024;
  const { dir, root, installer, call, publish } = setup({ maxCatalogBytes: cap });
  const tar = await packTar([{
    header: { name: "bin/outpost", size: 1, type: "file" },
    body: "x",
  }]);
  const entry = publish("ok.tar", tar);
  assert.deepEqual(await call("POST", "/catalog", { version: "small", packages: [entry] }), {
    status: 200,
    json: {},
  });
  const big = {
    version: "big",
    packages: Array.from({ length: 2000 }, (_, i) => ({ ...entry, version: `1.0.${i}` })),
  };
  assert.ok(JSON.stringify(big).length > cap);
  const r = await call("POST", "/catalog", big);
  assert.deepEqual(r, {
    status: 422,
    json: {
      error: {
        message: `Catalog refused: it is over the cap of ${cap} bytes (fleet.max_catalog_size)`,
      },
    },
  });
  assert.equal(installer.catalog?.version, "small");
  assert.ok(readFileSync(join(root, "state.json")).length < cap);
  // Handed over directly (as the CLI's daemon and pull mode do), the same cap holds.
  await assert.rejects(installer.setCatalog(big), /over the cap of 65536 bytes/);
  assert.deepEqual(installer.status().refused, { too_large: 2 }, "both refusals are counted");
  rmSync(dir, { recursive: true });
});
