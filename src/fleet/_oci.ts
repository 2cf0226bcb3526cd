/**
 * Reading OCI images: from a registry over the distribution API (anonymous, basic, or a
 * bearer token fetched after a 401 challenge) or from an OCI layout directory. Every manifest
 * and blob is checked against its digest.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { FleetError } from "./_errors.ts";
import { HOST_PLATFORM } from "./_catalog.ts";
import { openRegularFile, readCapped, readRegularFile } from "./_fsutil.ts";

/**
 * A server's answer that ends a request: `not_found` for a 404, else `download_failed`, with
 * the status kept so the download's retry rule can classify it with the shared table.
 */
export class HttpStatusError extends FleetError {
  /** The HTTP status the server answered. */
  readonly answered: number;
  constructor(answered: number, message: string) {
    super(answered === 404 ? "not_found" : "download_failed", message);
    this.answered = answered;
  }
}

/** Largest manifest or index read from a layout or a registry: real ones are a few KiB. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** Where an image's manifests and blobs come from. */
export interface OciSource {
  /** The manifest or index bytes named by a tag or a digest. */
  manifest(ref: string): Promise<Uint8Array>;
  /** The blob named by `digest`, as a stream (the caller verifies it). */
  blob(digest: string): Promise<ReadableStream<Uint8Array>>;
}

/** A descriptor in an index or manifest. */
interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string };
  annotations?: Record<string, string>;
}

const INDEX_TYPES = new Set([
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
]);
const ACCEPT = [
  ...INDEX_TYPES,
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/** How a layer is stored, by media type. Config layers and unknown types are skipped. */
export const LAYER_KINDS: Record<string, "tar" | "tar+gzip" | "tar+zstd" | "binary"> = {
  "application/vnd.datadog.package.layer.v1.tar+zstd": "tar+zstd",
  "application/vnd.oci.image.layer.v1.tar+zstd": "tar+zstd",
  "application/vnd.oci.image.layer.v1.tar+gzip": "tar+gzip",
  "application/vnd.docker.image.rootfs.diff.tar.gzip": "tar+gzip",
  "application/vnd.oci.image.layer.v1.tar": "tar",
  "application/vnd.datadog.package.installer.layer.v1": "binary",
  "application/vnd.outpost.package.binary.v1": "binary",
};

/** Annotations naming the package and version an image holds. */
export const NAME_ANNOTATIONS = ["com.datadoghq.package.name", "dev.outpost.package.name"];
export const VERSION_ANNOTATIONS = ["com.datadoghq.package.version", "dev.outpost.package.version"];

/** Hex sha256 of bytes. */
export function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Throws unless `data` hashes to `digest` (`sha256:<hex>`). */
export function checkDigest(data: Uint8Array, digest: string, what: string): void {
  // The actual digest is not told: it would describe whatever file the source named.
  if (`sha256:${sha256Hex(data)}` !== digest) {
    throw new FleetError("integrity", `Digest mismatch for ${what}: expected ${digest}`);
  }
}

/**
 * Resolves `ref` to the image manifest for this host: reads the index or manifest, picks the
 * host's OS and architecture from an index, and returns the layer to install.
 */
export async function resolveLayer(
  source: OciSource,
  ref: string,
  expect: { package: string; version: string; sha256?: string },
): Promise<{ layer: Descriptor; kind: (typeof LAYER_KINDS)[string] }> {
  const top = await source.manifest(ref);
  if (ref.startsWith("sha256:")) checkDigest(top, ref, `the manifest ${ref}`);
  else if (expect.sha256) checkDigest(top, `sha256:${expect.sha256}`, `the manifest of ${ref}`);
  let manifest = parseJson(top);
  if (INDEX_TYPES.has(manifest.mediaType) || (!manifest.mediaType && manifest.manifests)) {
    const list: Descriptor[] = manifest.manifests ?? [];
    const pick = list.find((d) =>
      (d.platform?.os ?? HOST_PLATFORM.os) === HOST_PLATFORM.os &&
      (d.platform?.architecture ?? HOST_PLATFORM.arch) === HOST_PLATFORM.arch
    );
    if (!pick) {
      throw new FleetError(
        "not_found",
        `No image of ${expect.package} ${expect.version} for ${HOST_PLATFORM.os}/${HOST_PLATFORM.arch}`,
      );
    }
    const bytes = await source.manifest(pick.digest);
    checkDigest(bytes, pick.digest, `the manifest ${pick.digest}`);
    manifest = parseJson(bytes);
  }
  const ann: Record<string, string> = manifest.annotations ?? {};
  for (
    const [keys, want] of [[NAME_ANNOTATIONS, expect.package], [
      VERSION_ANNOTATIONS,
      expect.version,
    ]] as const
  ) {
    const key = keys.find((k) => k in ann);
    if (key && ann[key] !== want) {
      throw new FleetError(
        "integrity",
        `The image says ${key}=${ann[key]}, the catalog says ${want}`,
      );
    }
  }
  const layers: Descriptor[] = manifest.layers ?? [];
  const layer = layers.find((l) => l.mediaType && LAYER_KINDS[l.mediaType]);
  if (!layer) {
    throw new FleetError(
      "not_found",
      `The image of ${expect.package} ${expect.version} has no package layer`,
    );
  }
  return { layer, kind: LAYER_KINDS[layer.mediaType!] };
}

function parseJson(bytes: Uint8Array): any {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new FleetError("integrity", "An OCI manifest is not valid JSON");
  }
}

/**
 * An OCI layout directory (`oci-layout`, `index.json`, `blobs/sha256/…`). Every file is read
 * as a regular file under `roots` (see `openRegularFile`), so a blob linked to a file
 * elsewhere, or made a FIFO, is refused.
 */
export function layoutSource(dir: string, roots: readonly string[]): OciSource {
  const read = (path: string) => readRegularFile(path, roots, MAX_MANIFEST_BYTES);
  const blobPath = (digest: string) => {
    const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
    if (!m) throw new FleetError("bad_request", `Unsupported digest ${digest}`);
    return join(dir, "blobs", "sha256", m[1]);
  };
  return {
    async manifest(ref) {
      if (ref.startsWith("sha256:")) return read(blobPath(ref));
      const index = read(join(dir, "index.json"));
      if (ref === "") return index;
      const parsed = JSON.parse(new TextDecoder().decode(index));
      const d = (parsed.manifests as Descriptor[] ?? []).find((m) =>
        m.annotations?.["org.opencontainers.image.ref.name"] === ref
      );
      if (!d) throw new FleetError("not_found", `No image tagged ${ref} in ${dir}`);
      const bytes = read(blobPath(d.digest));
      checkDigest(bytes, d.digest, `the manifest ${d.digest}`);
      return bytes;
    },
    async blob(digest) {
      return fileStream(blobPath(digest), roots);
    },
  };
}

/** Credentials for a registry. */
export interface RegistryAuth {
  username: string;
  password: string;
}

/** How a registry source makes a request (an `HttpClient`'s fetch). */
export type RegistryFetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

/**
 * A registry over the OCI distribution API, over HTTPS. A loopback host is tried over HTTPS
 * first and spoken to over plain HTTP when HTTPS cannot connect, as container tools do for a
 * local registry; the scheme that answered is kept for the source's later requests.
 */
export function registrySource(
  host: string,
  repo: string,
  { auth, fetch: doFetch }: { auth?: RegistryAuth; fetch: RegistryFetch },
): OciSource {
  const loopback = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(host);
  let scheme: "https" | "http" | undefined = loopback ? undefined : "https";
  const url = (path: string) => `${scheme ?? "https"}://${host}/v2/${repo}${path}`;
  let authorization: string | undefined;

  async function send(path: string, headers: Record<string, string>): Promise<Response> {
    const init = { headers: { ...headers, ...auth_(authorization) } };
    if (scheme) return await doFetch(url(path), init);
    let res: Response;
    try {
      res = await doFetch(url(path), init);
    } catch (overTls) {
      // A plain-HTTP registry breaks the TLS handshake; if plain HTTP fails too, the TLS
      // error is the one that explains it (a certificate, say).
      res = await doFetch(`http://${host}/v2/${repo}${path}`, init).catch(() => {
        throw overTls;
      });
      scheme = "http";
      return res;
    }
    scheme = "https";
    return res;
  }

  async function get(path: string, accept?: string): Promise<Response> {
    const headers: Record<string, string> = accept ? { Accept: accept } : {};
    let res = await send(path, headers);
    if (res.status === 401) {
      await res.body?.cancel();
      authorization = await answerChallenge(
        res.headers.get("www-authenticate") ?? "",
        auth,
        doFetch,
      );
      res = await send(path, headers);
    }
    if (res.status === 404) {
      await res.body?.cancel();
      throw new FleetError(
        "not_found",
        `The registry has no ${repo}${path.replace(/^\/\w+\//, "@")}`,
      );
    }
    if (!res.ok) {
      await res.body?.cancel();
      const message = `GET ${url(path)} answered ${res.status}`;
      // Refused credentials will not be accepted on a second try.
      if (res.status === 401 || res.status === 403) throw new FleetError("integrity", message);
      throw new HttpStatusError(res.status, message);
    }
    return res;
  }

  return {
    async manifest(ref) {
      const res = await get(`/manifests/${ref}`, ACCEPT);
      return await readCapped(res.body, MAX_MANIFEST_BYTES, () =>
        new FleetError(
          "too_large",
          `The manifest ${ref} is over the cap of ${MAX_MANIFEST_BYTES} bytes`,
        ));
    },
    async blob(digest) {
      const res = await get(`/blobs/${digest}`);
      return res.body!;
    },
  };
}

function auth_(value: string | undefined): Record<string, string> {
  return value ? { Authorization: value } : {};
}

async function answerChallenge(
  header: string,
  auth: RegistryAuth | undefined,
  doFetch: RegistryFetch,
): Promise<string> {
  const basic = auth ? `Basic ${btoa(`${auth.username}:${auth.password}`)}` : undefined;
  if (/^basic/i.test(header)) {
    if (!basic) {
      throw new FleetError(
        "integrity",
        "The registry wants credentials: set fleet.registry_username and fleet.registry_password",
      );
    }
    return basic;
  }
  const params = Object.fromEntries(
    [...header.replace(/^bearer\s+/i, "").matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
  );
  if (!params.realm) {
    throw new FleetError("download_failed", `Cannot answer the registry's challenge "${header}"`);
  }
  const url = new URL(params.realm);
  if (params.service) url.searchParams.set("service", params.service);
  if (params.scope) url.searchParams.set("scope", params.scope);
  const res = await doFetch(url, { headers: basic ? { Authorization: basic } : {} });
  if (!res.ok) {
    throw new FleetError("integrity", `The registry's token service answered ${res.status}`);
  }
  const body = await res.json() as { token?: string; access_token?: string };
  const token = body.token ?? body.access_token;
  if (!token) throw new FleetError("integrity", "The registry's token service gave no token");
  return `Bearer ${token}`;
}

/**
 * A file as a web stream, read in 1 MiB chunks. With `roots`, the file must be a regular file
 * under them (a `file://` source); it is opened at once, so a refusal throws here.
 */
export function fileStream(path: string, roots?: readonly string[]): ReadableStream<Uint8Array> {
  let fd: number | undefined;
  const close = () => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
  };
  fd = roots ? openRegularFile(path, roots) : openSync(path, "r");
  return new ReadableStream({
    pull(controller) {
      const buf = new Uint8Array(1 << 20);
      const n = readSync(fd!, buf, 0, buf.length, null);
      if (n === 0) {
        close();
        controller.close();
      } else controller.enqueue(buf.subarray(0, n));
    },
    cancel: close,
  });
}
