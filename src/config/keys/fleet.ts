/** Keys of the fleet component: package repository, local API, experiments and pull mode. */
import * as v from "valibot";
import {
  DAY,
  GiB,
  int,
  listOf,
  MiB,
  oneOf,
  path,
  pattern,
  seconds,
  size,
  str,
  text,
  url,
  WEEK,
} from "../_kinds.ts";

/** What a package may be called: it names a directory under `fleet.root`. */
export const PACKAGE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export const fleetKeys = {
  fleet: v.optional(
    v.object({
      /** Where packages live: `<root>/packages/<package>/<version>/`, plus the state file. */
      root: path("/var/lib/outpost/fleet", { optional: false }),
      /** The package whose stable slot the daemon runs as the agent. */
      agent_package: pattern(
        "outpost",
        PACKAGE_NAME,
        "expected a package name: lower-case letters, digits, ., _ or -, at most 64",
      ),
      /** Who runs the agent: the daemon itself, or systemd units (`packaging/`). */
      supervisor: oneOf(["builtin", "systemd"] as const, "builtin"),
      /** A signed desired-state document the daemon polls; empty turns pull mode off. */
      catalog_url: url(),
      /** Seconds between two polls of `catalog_url`. */
      poll_interval: seconds(300, 1, WEEK),
      /** ed25519 public key (base64 of the 32 raw bytes, or PEM); when set, catalogs must be signed. */
      catalog_public_key: str("", 8192),
      /** Seconds an experiment has to answer `/agent/status/health` as healthy. */
      experiment_health_timeout: seconds(60, 1, DAY),
      /** Seconds an experiment must keep running before it counts as good. */
      experiment_watch: seconds(300, 1, WEEK),
      /** Largest package download accepted, and largest archive once decompressed. */
      max_package_size: size(3 * GiB, 64 * GiB),
      /** Most entries a package archive may hold; one with more is refused while it is read. */
      max_package_entries: int(10_000, 1, 10_000_000),
      /** Largest catalog accepted (API body, pulled document); a larger one is never stored. */
      max_catalog_size: size(4 * MiB, GiB),
      /**
       * Directories whose regular files (and OCI layouts) `file://` catalog URLs may name,
       * checked after resolving links. Empty, the default, refuses every `file://` URL.
       */
      file_roots: listOf(
        v.pipe(text(4096), v.check((p) => p.startsWith("/"), "expected absolute paths")),
        [],
        { max: 64 },
      ),
      /** Credentials for `oci://` registries that need them (basic, or exchanged for a bearer token). */
      registry_username: str(""),
      registry_password: str(""),
    }),
    {},
  ),
};
