/**
 * Catalogs: which package versions exist and where to download them, optionally signed.
 *
 * A catalog is `{"version":"…","packages":[{"package","version","url","sha256","size","platform","arch"}],
 * "desired":{…}}`. Signed, it travels as an envelope `{"signed":"<the catalog as JSON text>",
 * "signature":"<base64 ed25519 signature of those UTF-8 bytes>"}` so that the signed bytes are
 * exactly the bytes verified, with no JSON canonicalisation.
 *
 * @module
 */
import * as v from "valibot";
import { arch, platform } from "node:os";
import { FleetError } from "./_errors.ts";
import { isPackageName, isVersionName, PACKAGE_RULE, VERSION_RULE } from "./_repository.ts";

// Both become directory names: checked here, before any path is built from them.
const packageName = v.pipe(v.string("expected a string"), v.check(isPackageName, PACKAGE_RULE));
const versionName = v.pipe(v.string("expected a string"), v.check(isVersionName, VERSION_RULE));

const entrySchema = v.object({
  package: packageName,
  version: versionName,
  url: v.pipe(
    v.string("expected a string"),
    v.regex(/^(oci|file|https?):\/\//, "expected an oci://, file://, http:// or https:// URL"),
  ),
  sha256: v.optional(v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, "expected 64 hex digits"))),
  size: v.optional(v.pipe(v.number("expected a number"), v.integer(), v.minValue(0))),
  platform: v.optional(v.string()),
  arch: v.optional(v.string()),
});

const desiredSchema = v.record(
  packageName,
  v.object({
    version: versionName,
    experiment: v.optional(v.boolean("expected a boolean"), false),
  }),
);

/** The catalog schema. */
export const catalogSchema = v.object({
  version: v.optional(v.union([v.string(), v.number()])),
  packages: v.array(entrySchema, "expected a list of packages"),
  /** Pull mode: the state each package should reach (see `pull.ts`). */
  desired: v.optional(desiredSchema),
});

/** A validated catalog. */
export type Catalog = v.InferOutput<typeof catalogSchema>;
/** One downloadable package version. */
export type CatalogEntry = Catalog["packages"][number];

const envelopeSchema = v.object({
  signed: v.string("expected the signed catalog as a JSON string"),
  signature: v.string("expected a base64 signature"),
});

/** Formats the first valibot issue as `"path": message`. */
export function issueText(issues: v.BaseIssue<unknown>[]): string {
  const first = issues[0];
  const path = v.getDotPath(first);
  return path ? `"${path}": ${first.message}` : first.message;
}

/**
 * Validates a catalog body (plain or signed envelope). When `publicKey` is set, only a signed
 * envelope with a valid signature is accepted.
 */
export async function parseCatalog(body: unknown, publicKey: string): Promise<Catalog> {
  let payload: unknown = body;
  const env = v.safeParse(envelopeSchema, body);
  if (env.success) {
    if (publicKey) await verifySignature(env.output.signed, env.output.signature, publicKey);
    try {
      payload = JSON.parse(env.output.signed);
    } catch {
      throw new FleetError("bad_request", "Cannot parse the signed catalog: not valid JSON");
    }
  } else if (publicKey) {
    throw new FleetError(
      "integrity",
      "Catalog refused: fleet.catalog_public_key is set and the catalog is not signed",
    );
  }
  const r = v.safeParse(catalogSchema, payload);
  if (!r.success) throw new FleetError("bad_request", `Invalid catalog: ${issueText(r.issues)}`);
  return r.output;
}

/** Throws unless `signature` is a valid ed25519 signature of `signed` under `publicKey`. */
export async function verifySignature(
  signed: string,
  signature: string,
  publicKey: string,
): Promise<void> {
  const key = await importPublicKey(publicKey);
  let sig: Uint8Array<ArrayBuffer>;
  try {
    sig = decodeBase64(signature);
  } catch {
    throw new FleetError("integrity", "Catalog refused: the signature is not base64");
  }
  const ok = await crypto.subtle.verify("Ed25519", key, sig, new TextEncoder().encode(signed));
  if (!ok) {
    throw new FleetError("integrity", "Catalog refused: the ed25519 signature does not match");
  }
}

async function importPublicKey(text: string): Promise<CryptoKey> {
  const t = text.trim();
  try {
    if (t.startsWith("-----BEGIN")) {
      const der = decodeBase64(t.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""));
      return await crypto.subtle.importKey("spki", der, "Ed25519", false, ["verify"]);
    }
    return await crypto.subtle.importKey("raw", decodeBase64(t), "Ed25519", false, ["verify"]);
  } catch {
    throw new FleetError(
      "internal",
      'Cannot parse config key "fleet.catalog_public_key": expected an ed25519 key (base64 of 32 bytes, or PEM)',
    );
  }
}

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(s)) throw new Error("not base64");
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** The host's platform and architecture in the Go names catalogs and OCI indexes use. */
export const HOST_PLATFORM = {
  os: platform() as string,
  arch:
    ({ x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386" } as Record<string, string>)[arch()] ??
      arch(),
};

/** The catalog entry for a package version on this host, or null. */
export function findEntry(
  catalog: Catalog | null,
  pkg: string,
  version: string,
): CatalogEntry | null {
  return catalog?.packages.find((e) =>
    e.package === pkg && e.version === version &&
    (!e.platform || e.platform === HOST_PLATFORM.os) && (!e.arch || e.arch === HOST_PLATFORM.arch)
  ) ?? null;
}
