/**
 * Getting a package version onto disk: download (with retries and a size cap), verify every
 * byte against the catalog's sha256 or the OCI digest, then unpack safely into a directory.
 * Nothing is unpacked before the verification passed.
 *
 * @module
 */
import {
  chmodSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statfsSync,
  statSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createHash, randomBytes } from "node:crypto";
import type { Runtime } from "../runtime/types.ts";
import {
  classifyError,
  classifyStatus,
  directFetch,
  type HttpClient,
  isTransient,
  type Outcome,
  withRetry,
} from "../http/mod.ts";
import type { CatalogEntry } from "./_catalog.ts";
import { FleetError } from "./_errors.ts";
import {
  fileStream,
  HttpStatusError,
  layoutSource,
  type OciSource,
  type RegistryAuth,
  registrySource,
  resolveLayer,
} from "./_oci.ts";
import { DEFAULT_MAX_ENTRIES, unpackTarSafely } from "./_unpack.ts";
import { resolveUnderRoots } from "./_fsutil.ts";
import { checkPackageName, checkVersionName } from "./_repository.ts";

/** Options of {@linkcode fetchPackage}. */
export interface DownloadOptions {
  runtime: Runtime;
  /** Scratch directory on the same filesystem as the repository. */
  tmpDir: string;
  /** Largest download, and largest unpacked archive, accepted. */
  maxBytes: number;
  /** Most entries an archive may hold (`fleet.max_package_entries`). @default 10000 */
  maxEntries?: number;
  /** Directories `file://` URLs may name files under (`fleet.file_roots`). @default none */
  fileRoots?: readonly string[];
  auth?: RegistryAuth;
  /** Attempts on network errors and transient answers (5xx, 408, 429). @default 3 */
  attempts?: number;
  /** Pause between attempts. @default 1000 */
  retryDelayMs?: number;
  /** Free bytes at a path. @default statfs */
  freeBytes?: (path: string) => number;
  /** Called as bytes arrive; `total` is 0 when unknown. */
  progress?: (done: number, total: number) => void;
  /**
   * How requests leave the host: an `HttpClient`'s fetch, so that `proxy.*`, `no_proxy` and
   * the CA settings apply. @default a direct fetch
   */
  fetch?: HttpClient["fetch"];
}

/** Free space kept besides what a package needs. */
const DISK_MARGIN = 16 * 1024 * 1024;

function statfsFree(path: string): number {
  const s = statfsSync(path);
  return s.bavail * s.bsize;
}

/** Throws `no_space` unless `needed` bytes (plus a margin) are free under `dir`. */
export function checkDiskSpace(dir: string, needed: number, freeBytes = statfsFree): void {
  const free = freeBytes(dir);
  if (free < needed + DISK_MARGIN) {
    throw new FleetError(
      "no_space",
      `Not enough disk space in ${dir}: ${needed + DISK_MARGIN} bytes needed, ${free} free`,
    );
  }
}

/**
 * Downloads, verifies and unpacks `entry` into the new directory `dest` (inside `tmpDir`).
 * On failure `dest` and every partial file are removed.
 */
export async function fetchPackage(
  entry: CatalogEntry,
  dest: string,
  opts: DownloadOptions,
): Promise<void> {
  const { tmpDir, maxBytes, freeBytes = statfsFree, fileRoots = [] } = opts;
  // Both name directories later; a catalog from outside must not choose where they land.
  checkPackageName(entry.package);
  checkVersionName(entry.version);
  mkdirSync(tmpDir, { recursive: true, mode: 0o700 });
  if (entry.size !== undefined && entry.size > maxBytes) {
    throw new FleetError(
      "too_large",
      `${entry.package} ${entry.version} is ${entry.size} bytes, over the cap of ${maxBytes}`,
    );
  }
  // The archive and its unpacked content live side by side until the archive is deleted.
  checkDiskSpace(tmpDir, 2 * (entry.size ?? 0), freeBytes);
  const archive = join(tmpDir, `${randomBytes(8).toString("hex")}.download`);
  try {
    const url = new URL(entry.url);
    // Resolved before anything else looks at the path, so a path outside the roots is not
    // even checked for existence.
    const local = url.protocol === "file:"
      ? resolveUnderRoots(fileURLToPath(url), fileRoots)
      : null;
    let kind: "tar" | "tar+gzip" | "tar+zstd" | "binary" | "auto" = "auto";
    if (url.protocol === "oci:" || (local !== null && isOciLayout(local))) {
      const { source, ref } = local === null
        ? ociRef(url, opts)
        : { source: layoutSource(local, fileRoots), ref: url.hash.slice(1) };
      const { layer, kind: k } = await resolveLayer(source, ref, entry);
      if (layer.size > maxBytes) {
        throw new FleetError(
          "too_large",
          `The layer of ${entry.package} ${entry.version} is ${layer.size} bytes, over the cap of ${maxBytes}`,
        );
      }
      checkDiskSpace(tmpDir, 2 * layer.size, freeBytes);
      await retrying(
        opts,
        () =>
          save(() => source.blob(layer.digest), archive, {
            sha256: layer.digest.replace(/^sha256:/, ""),
            maxBytes,
            total: layer.size,
            progress: opts.progress,
          }),
      );
      kind = k;
    } else {
      if (!entry.sha256) {
        throw new FleetError(
          "bad_request",
          `The catalog entry of ${entry.package} ${entry.version} has no sha256 for ${url.protocol} download`,
        );
      }
      const open = local !== null
        ? async () => fileStream(fileURLToPath(url), fileRoots)
        : async () => {
          const res = await (opts.fetch ?? directFetch)(url);
          if (!res.ok) {
            await res.body?.cancel();
            throw new HttpStatusError(
              res.status,
              `GET ${url.origin}${url.pathname} answered ${res.status}`,
            );
          }
          return res.body!;
        };
      await retrying(
        opts,
        () =>
          save(open, archive, {
            sha256: entry.sha256!,
            maxBytes,
            total: entry.size ?? 0,
            progress: opts.progress,
          }),
      );
    }
    checkDiskSpace(tmpDir, statSync(archive).size, freeBytes);
    await unpack(archive, kind, dest, entry.package, {
      runtime: opts.runtime,
      maxBytes,
      maxEntries: opts.maxEntries ?? DEFAULT_MAX_ENTRIES,
    });
  } catch (e) {
    rmSync(dest, { recursive: true, force: true });
    throw e;
  } finally {
    rmSync(archive, { force: true });
  }
}

function isOciLayout(path: string): boolean {
  try {
    return statSync(join(path, "oci-layout")).isFile();
  } catch {
    return false;
  }
}

/** `oci://host[:port]/repo/name[:tag|@sha256:…]` → a registry source and the reference. */
function ociRef(url: URL, opts: DownloadOptions): { source: OciSource; ref: string } {
  const path = decodeURIComponent(url.pathname).replace(/^\//, "");
  const at = path.indexOf("@");
  let repo: string;
  let ref: string;
  if (at >= 0) {
    repo = path.slice(0, at);
    ref = path.slice(at + 1);
  } else {
    const colon = path.lastIndexOf(":");
    repo = colon > path.lastIndexOf("/") ? path.slice(0, colon) : path;
    ref = colon > path.lastIndexOf("/") ? path.slice(colon + 1) : "latest";
  }
  return {
    source: registrySource(url.host, repo, { auth: opts.auth, fetch: opts.fetch ?? directFetch }),
    ref,
  };
}

/** Streams into `file` while hashing; throws (and leaves the file to the caller) on a mismatch. */
async function save(
  open: () => Promise<ReadableStream<Uint8Array>>,
  file: string,
  { sha256, maxBytes, total, progress }: {
    sha256: string;
    maxBytes: number;
    total: number;
    progress?: (d: number, t: number) => void;
  },
): Promise<void> {
  const stream = await open();
  const hash = createHash("sha256");
  const fd = openSync(file, "w", 0o600);
  let done = 0;
  try {
    for await (const chunk of stream) {
      done += chunk.length;
      if (done > maxBytes) {
        await stream.cancel().catch(() => {});
        throw new FleetError("too_large", `The download passed the cap of ${maxBytes} bytes`);
      }
      hash.update(chunk);
      writeSync(fd, chunk);
      progress?.(done, total);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  // The actual hash is not told: with a file:// URL it would be the hash of whatever file
  // the catalog named.
  if (hash.digest("hex") !== sha256) {
    throw new FleetError(
      "integrity",
      `Checksum mismatch: the download does not have the expected sha256 ${sha256}`,
    );
  }
}

/**
 * Retries what the shared table calls transient (`isTransient`: network errors, 5xx, 408,
 * 429); a 404 and every other error fail at once. Partial files are removed by the caller.
 */
async function retrying(opts: DownloadOptions, fn: () => Promise<void>): Promise<void> {
  const { attempts = 3, retryDelayMs = 1000 } = opts;
  let tries = 0;
  const attempt = withRetry(async () => {
    tries++;
    try {
      await fn();
      return null;
    } catch (e) {
      return e;
    }
  }, {
    attempts,
    delayMs: retryDelayMs,
    isRetriable: (e) => e !== null && isTransient(verdict(e)),
  });
  const error = await attempt(undefined);
  if (error === null) return;
  const { reason } = verdict(error);
  if (error instanceof FleetError || reason === "local") throw error;
  // Deno says only "fetch failed" and tells the failure in the cause.
  const { message, cause } = error as Error & { cause?: { message?: string } };
  const detail = cause?.message && !message.includes(cause.message)
    ? `${message}: ${cause.message}`
    : message;
  throw new FleetError(
    "download_failed",
    `Download failed after ${tries} attempt${tries === 1 ? "" : "s"} (${reason}): ${detail}`,
    { cause: error },
  );
}

/**
 * A failed attempt in the shared table's terms. A fleet error is final unless it is a failed
 * download (an answer's status, or a registry challenge that could not be met); an error that
 * does not come from the network (a full disk) is final too.
 */
function verdict(e: unknown): Outcome {
  if (e instanceof HttpStatusError) {
    return e.answered === 404 ? { kind: "drop", reason: "not_found" } : classifyStatus(e.answered);
  }
  if (e instanceof FleetError) {
    return e.code === "download_failed"
      ? { kind: "retry", reason: e.code }
      : { kind: "drop", reason: e.code };
  }
  const network = e instanceof TypeError ||
    /ECONN|socket|network/i.test(String((e as Error)?.message));
  return network ? classifyError(e) : { kind: "drop", reason: "local" };
}

const GZIP = [0x1f, 0x8b];
const ZSTD = [0x28, 0xb5, 0x2f, 0xfd];

/** Every format is decoded as a stream, so the caps of `unpackTarSafely` stop a bomb early. */
async function unpack(
  archive: string,
  kind: "tar" | "tar+gzip" | "tar+zstd" | "binary" | "auto",
  dest: string,
  pkg: string,
  { runtime, maxBytes, maxEntries }: { runtime: Runtime; maxBytes: number; maxEntries: number },
): Promise<void> {
  if (kind === "binary") {
    mkdirSync(join(dest, "bin"), { recursive: true, mode: 0o755 });
    renameSync(archive, join(dest, "bin", pkg));
    chmodSync(join(dest, "bin", pkg), 0o755);
    return;
  }
  if (kind === "auto") {
    const head = new Uint8Array(4);
    const fd = openSync(archive, "r");
    try {
      readSync(fd, head, 0, 4, 0);
    } finally {
      closeSync(fd);
    }
    kind = GZIP.every((b, i) => head[i] === b)
      ? "tar+gzip"
      : ZSTD.every((b, i) => head[i] === b)
      ? "tar+zstd"
      : "tar";
  }
  let stream = fileStream(archive);
  if (kind === "tar+gzip") stream = stream.pipeThrough(runtime.decompressStream("gzip"));
  if (kind === "tar+zstd") stream = stream.pipeThrough(runtime.decompressStream("zstd"));
  await unpackTarSafely(stream, dest, { maxBytes, maxEntries });
}
