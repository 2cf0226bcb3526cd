/** Keys of the fleet component: package repository, local API, experiments and pull mode. */
import * as v from "valibot";
import { int, LIST, oneOf, size, str } from "../_kinds.ts";

export const fleetKeys = {
  fleet: v.optional(
    v.object({
      /** Where packages live: `<root>/packages/<package>/<version>/`, plus the state file. */
      root: str("/var/lib/outpost/fleet"),
      /** The package whose stable slot the daemon runs as the agent. */
      agent_package: str("outpost"),
      /** Who runs the agent: the daemon itself, or systemd units (`packaging/`). */
      supervisor: oneOf(["builtin", "systemd"] as const, "builtin"),
      /** A signed desired-state document the daemon polls; empty turns pull mode off. */
      catalog_url: str(""),
      /** Seconds between two polls of `catalog_url`. */
      poll_interval: int(300, 1),
      /** ed25519 public key (base64 of the 32 raw bytes, or PEM); when set, catalogs must be signed. */
      catalog_public_key: str(""),
      /** Seconds an experiment has to answer `/agent/status/health` as healthy. */
      experiment_health_timeout: int(60, 1),
      /** Seconds an experiment must keep running before it counts as good. */
      experiment_watch: int(300, 1),
      /** Largest package download accepted, and largest archive once decompressed. */
      max_package_size: size(3 * 1024 ** 3),
      /** Most entries a package archive may hold; one with more is refused while it is read. */
      max_package_entries: int(10_000, 1, 10_000_000),
      /** Largest catalog accepted (API body, pulled document); a larger one is never stored. */
      max_catalog_size: size(4 * 1024 ** 2),
      /**
       * Directories whose regular files (and OCI layouts) `file://` catalog URLs may name,
       * checked after resolving links. Empty, the default, refuses every `file://` URL.
       */
      file_roots: v.optional(
        v.array(
          v.pipe(v.string(LIST), v.check((p) => p.startsWith("/"), "expected absolute paths")),
          LIST,
        ),
        [],
      ),
      /** Credentials for `oci://` registries that need them (basic, or exchanged for a bearer token). */
      registry_username: str(""),
      registry_password: str(""),
    }),
    {},
  ),
};
